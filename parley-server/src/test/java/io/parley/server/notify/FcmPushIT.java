package io.parley.server.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.parley.server.testing.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FCM HTTP v1 end to end against a local server implementing Google's documented contract: the
 * OAuth2 JWT-bearer token endpoint (verifying the RS256 assertion with the service account's
 * public key, its issuer, audience and scope) and {@code projects/{id}/messages:send} (Bearer
 * token, v1 message shape, {@code UNREGISTERED} error for a dead token).
 */
class FcmPushIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROJECT = "parley-test-project";
  private static final String EMAIL = "push@parley-test-project.iam.gserviceaccount.com";
  private static final String ACCESS_TOKEN = "ya29.test-access-token";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private HttpServer fcm;
  private TestServer server;
  private final List<JsonNode> accepted = new CopyOnWriteArrayList<>();
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private final AtomicInteger tokenGrants = new AtomicInteger();
  private final AtomicInteger unregisteredAnswers = new AtomicInteger();

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (fcm != null) {
      fcm.stop(0);
    }
  }

  @Test
  void offlineDeviceGetsAnFcmV1MessageAndAnUnregisteredTokenIsRemoved() throws Exception {
    KeyPair keys = KeyPairGenerator.getInstance("RSA").genKeyPair();
    fcm = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    String base = "http://127.0.0.1:" + fcm.getAddress().getPort();
    fcm.createContext("/token", ex -> token(ex, (RSAPublicKey) keys.getPublic(), base + "/token"));
    fcm.createContext("/v1/projects/", this::send);
    fcm.start();
    Path account = dir.resolve("service-account.json");
    Files.writeString(
        account,
        JSON.writeValueAsString(
            Map.of(
                "type", "service_account",
                "project_id", PROJECT,
                "client_email", EMAIL,
                "token_uri", base + "/token",
                "private_key",
                    "-----BEGIN PRIVATE KEY-----\n"
                        + Base64.getMimeEncoder().encodeToString(keys.getPrivate().getEncoded())
                        + "\n-----END PRIVATE KEY-----\n")));
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_NOTIFY_FCM_SERVICE_ACCOUNT_FILE", account.toString());
    env.put("PARLEY_NOTIFY_FCM_BASE_URL", base);
    env.put("PARLEY_NOTIFY_PUSH_DELAY", "100ms");
    env.put("PARLEY_NOTIFY_POLL_INTERVAL", "20ms");
    server = TestServer.start(env);
    AdminCalls admin = new AdminCalls(server);
    for (String u : List.of("alice", "bob", "erin")) {
      admin.createUser(u);
    }
    String group = admin.createGroup("alice", "bob", "erin");
    admin.call(
        "POST",
        "/v1/admin/users/bob/push-targets",
        "{\"device_id\":\"bob-android\",\"provider\":\"fcm\",\"token\":\"bob-fcm-token\"}");
    admin.call(
        "POST",
        "/v1/admin/users/erin/push-targets",
        "{\"device_id\":\"erin-android\",\"provider\":\"fcm\",\"token\":\"dead-fcm-token\"}");

    admin.send(group, "alice", "hello");

    await().atMost(WAIT).until(() -> accepted.size() == 1 && unregisteredAnswers.get() == 1);
    await()
        .atMost(WAIT)
        .until(() -> admin.call("GET", "/v1/admin/users/erin/push-targets", null).path("push_targets").isEmpty());
    assertThat(problems).isEmpty();
    JsonNode message = accepted.get(0).path("message");
    assertThat(message.path("token").asText()).isEqualTo("bob-fcm-token");
    assertThat(message.path("notification").path("body").asText()).isEqualTo("New message");
    assertThat(message.path("apns").path("payload").path("aps").path("badge").asLong()).isEqualTo(1);
    assertThat(message.path("android").path("notification").path("notification_count").asLong())
        .isEqualTo(1);
    assertThat(message.path("android").path("collapse_key").asText()).isEqualTo(group);
    assertThat(message.path("data").path("conversation_id").asText()).isEqualTo(group);
    assertThat(message.path("data").path("push_id").asText()).startsWith("psh_");
    // One OAuth2 grant serves both sends: the access token is cached.
    assertThat(tokenGrants.get()).isEqualTo(1);
  }

  private void token(HttpExchange ex, RSAPublicKey publicKey, String tokenUri) throws IOException {
    Map<String, String> form = new HashMap<>();
    for (String pair : new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
      String[] kv = pair.split("=", 2);
      form.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
    }
    try {
      SignedJWT jwt = SignedJWT.parse(form.getOrDefault("assertion", ""));
      var claims = jwt.getJWTClaimsSet();
      boolean ok =
          "POST".equals(ex.getRequestMethod())
              && "urn:ietf:params:oauth:grant-type:jwt-bearer".equals(form.get("grant_type"))
              && "RS256".equals(jwt.getHeader().getAlgorithm().getName())
              && jwt.verify(new RSASSAVerifier(publicKey))
              && EMAIL.equals(claims.getIssuer())
              && claims.getAudience().contains(tokenUri)
              && "https://www.googleapis.com/auth/firebase.messaging".equals(claims.getStringClaim("scope"))
              && claims.getExpirationTime().getTime() - claims.getIssueTime().getTime() <= 3_600_000;
      if (!ok) {
        problems.add("bad token request " + form);
        reply(ex, 400, "{\"error\":\"invalid_grant\"}");
        return;
      }
    } catch (Exception e) {
      problems.add("unparseable assertion: " + e);
      reply(ex, 400, "{\"error\":\"invalid_grant\"}");
      return;
    }
    tokenGrants.incrementAndGet();
    reply(ex, 200, "{\"access_token\":\"" + ACCESS_TOKEN + "\",\"expires_in\":3599,\"token_type\":\"Bearer\"}");
  }

  private void send(HttpExchange ex) throws IOException {
    byte[] raw = ex.getRequestBody().readAllBytes();
    if (!("Bearer " + ACCESS_TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
      reply(ex, 401, "{\"error\":{\"code\":401,\"status\":\"UNAUTHENTICATED\"}}");
      return;
    }
    if (!ex.getRequestURI().getPath().equals("/v1/projects/" + PROJECT + "/messages:send")
        || !"POST".equals(ex.getRequestMethod())) {
      problems.add("wrong request " + ex.getRequestMethod() + " " + ex.getRequestURI());
      reply(ex, 404, "{}");
      return;
    }
    JsonNode body = JSON.readTree(raw);
    JsonNode data = body.path("message").path("data");
    data.fields().forEachRemaining(f -> {
      if (!f.getValue().isTextual()) {
        problems.add("FCM data values must be strings: " + f.getKey());
      }
    });
    if (raw.length > 4096) {
      problems.add("message over 4096 bytes");
    }
    if (body.path("message").path("token").asText().equals("dead-fcm-token")) {
      unregisteredAnswers.incrementAndGet();
      reply(
          ex,
          404,
          "{\"error\":{\"code\":404,\"message\":\"Requested entity was not found.\",\"status\":\"NOT_FOUND\","
              + "\"details\":[{\"@type\":\"type.googleapis.com/google.firebase.fcm.v1.FcmError\",\"errorCode\":\"UNREGISTERED\"}]}}");
      return;
    }
    accepted.add(body);
    reply(ex, 200, "{\"name\":\"projects/" + PROJECT + "/messages/0:1500415314455276%31bd1c9631bd1c96\"}");
  }

  private static void reply(HttpExchange ex, int status, String json) throws IOException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json; charset=UTF-8");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
    ex.close();
  }
}
