package io.parley.server.notify.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.crypto.tink.subtle.EllipticCurves;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.parley.server.testing.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Web Push end to end against a local push service implementing RFC 8030/8292 the way push
 * services document it: it checks the VAPID authorization (ES256 JWT verified with the {@code k}
 * key, audience = its origin, expiry within 24 h, a contact subject), the {@code aes128gcm}
 * content coding, TTL and Topic, then decrypts the body with the subscription's private key as a
 * browser would, and answers 410 for an expired subscription.
 */
class WebPushIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private HttpServer pushService;
  private TestServer server;
  private final List<JsonNode> decrypted = new CopyOnWriteArrayList<>();
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private int gone;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (pushService != null) {
      pushService.stop(0);
    }
  }

  @Test
  void theBrowserDecryptsOnePushAndAnExpiredSubscriptionIsRemoved() throws Exception {
    KeyPair vapid = EllipticCurves.generateKeyPair(EllipticCurves.CurveType.NIST_P256);
    KeyPair browser = EllipticCurves.generateKeyPair(EllipticCurves.CurveType.NIST_P256);
    byte[] browserPublic = point((ECPublicKey) browser.getPublic());
    byte[] auth = new byte[16];
    new SecureRandom().nextBytes(auth);

    pushService = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    String origin = "http://127.0.0.1:" + pushService.getAddress().getPort();
    pushService.createContext(
        "/push/",
        ex -> receive(ex, origin, (ECPrivateKey) browser.getPrivate(), browserPublic, auth));
    pushService.start();

    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_NOTIFY_WEBPUSH_VAPID_PUBLIC_KEY", B64.encodeToString(point((ECPublicKey) vapid.getPublic())));
    env.put("PARLEY_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY", B64.encodeToString(scalar((ECPrivateKey) vapid.getPrivate())));
    env.put("PARLEY_NOTIFY_WEBPUSH_SUBJECT", "mailto:ops@parley.test");
    env.put("PARLEY_NOTIFY_PUSH_DELAY", "100ms");
    env.put("PARLEY_NOTIFY_POLL_INTERVAL", "20ms");
    server = TestServer.start(env);
    admin("POST", "/v1/admin/users", "{\"user_id\":\"alice\"}");
    admin("POST", "/v1/admin/users", "{\"user_id\":\"bob\"}");
    admin("POST", "/v1/admin/users", "{\"user_id\":\"erin\"}");
    String group =
        admin("POST", "/v1/admin/conversations", "{\"kind\":\"group\",\"creator\":\"alice\",\"members\":[\"bob\",\"erin\"],\"title\":\"Trip\"}")
            .path("conversation").path("id").asText();
    String bobSub =
        JSON.writeValueAsString(
            Map.of(
                "endpoint", origin + "/push/bob-subscription",
                "keys", Map.of("p256dh", B64.encodeToString(browserPublic), "auth", B64.encodeToString(auth))));
    String erinSub =
        JSON.writeValueAsString(
            Map.of(
                "endpoint", origin + "/push/expired",
                "keys", Map.of("p256dh", B64.encodeToString(browserPublic), "auth", B64.encodeToString(auth))));
    admin("POST", "/v1/admin/users/bob/push-targets",
        JSON.writeValueAsString(Map.of("device_id", "bob-firefox", "provider", "webpush", "token", bobSub)));
    admin("POST", "/v1/admin/users/erin/push-targets",
        JSON.writeValueAsString(Map.of("device_id", "erin-chrome", "provider", "webpush", "token", erinSub)));

    admin("POST", "/v1/admin/conversations/" + group + "/messages",
        "{\"as_user\":\"alice\",\"client_msg_id\":\"m1\",\"text\":\"hello\"}");

    await().atMost(WAIT).until(() -> decrypted.size() == 1);
    await()
        .atMost(WAIT)
        .until(() -> admin("GET", "/v1/admin/users/erin/push-targets", null).path("push_targets").isEmpty());
    assertThat(problems).isEmpty();
    JsonNode push = decrypted.get(0);
    assertThat(push.path("title").asText()).isEqualTo("Trip");
    assertThat(push.path("body").asText()).isEqualTo("New message");
    assertThat(push.path("badge").asLong()).isEqualTo(1);
    assertThat(push.path("conversation_id").asText()).isEqualTo(group);
    assertThat(admin("GET", "/v1/admin/users/bob/push-targets", null).path("push_targets").size()).isEqualTo(1);
  }

  private void receive(HttpExchange ex, String origin, ECPrivateKey uaPrivate, byte[] uaPublic, byte[] auth)
      throws IOException {
    byte[] body = ex.getRequestBody().readAllBytes();
    try {
      String authz = ex.getRequestHeaders().getFirst("Authorization");
      if (authz == null || !authz.startsWith("vapid t=")) {
        throw new IllegalStateException("no VAPID authorization");
      }
      String[] parts = authz.substring("vapid ".length()).split(",\\s*");
      String t = parts[0].substring(2);
      String k = parts[1].substring(2);
      SignedJWT jwt = SignedJWT.parse(t);
      ECPublicKey key =
          EllipticCurves.getEcPublicKey(
              EllipticCurves.CurveType.NIST_P256,
              EllipticCurves.PointFormatType.UNCOMPRESSED,
              Base64.getUrlDecoder().decode(k));
      long expIn = jwt.getJWTClaimsSet().getExpirationTime().getTime() - System.currentTimeMillis();
      if (!jwt.verify(new ECDSAVerifier(key))
          || !jwt.getHeader().getAlgorithm().getName().equals("ES256")
          || !jwt.getJWTClaimsSet().getAudience().equals(List.of(origin))
          || expIn <= 0
          || expIn > 24 * 3_600_000L
          || !jwt.getJWTClaimsSet().getSubject().startsWith("mailto:")) {
        throw new IllegalStateException("VAPID token rejected");
      }
      if (!"aes128gcm".equals(ex.getRequestHeaders().getFirst("Content-Encoding"))
          || ex.getRequestHeaders().getFirst("TTL") == null
          || !ex.getRequestHeaders().getFirst("Topic").matches("[A-Za-z0-9_-]{1,32}")
          || body.length > 4096) {
        throw new IllegalStateException("bad push request headers or size");
      }
      if (ex.getRequestURI().getPath().endsWith("/expired")) {
        gone++;
        ex.sendResponseHeaders(410, -1);
        ex.close();
        return;
      }
      decrypted.add(JSON.readTree(WebPushDecryption.decrypt(body, uaPrivate, uaPublic, auth)));
      ex.getResponseHeaders().add("Location", "/message/1");
      ex.sendResponseHeaders(201, -1);
    } catch (Exception e) {
      problems.add(e.toString());
      ex.sendResponseHeaders(400, -1);
    }
    ex.close();
  }

  private JsonNode admin(String method, String path, String body) {
    try {
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                      .header("Authorization", "Bearer " + TestServer.adminKey())
                      .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() / 100 != 2) {
        throw new AssertionError(method + " " + path + " -> " + r.statusCode() + " " + r.body());
      }
      return JSON.readTree(r.body());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static byte[] point(ECPublicKey k) throws Exception {
    return EllipticCurves.pointEncode(
        EllipticCurves.CurveType.NIST_P256, EllipticCurves.PointFormatType.UNCOMPRESSED, k.getW());
  }

  private static byte[] scalar(ECPrivateKey k) {
    byte[] s = k.getS().toByteArray();
    byte[] out = new byte[32];
    int n = Math.min(32, s.length);
    System.arraycopy(s, s.length - n, out, 32 - n, n);
    return out;
  }
}
