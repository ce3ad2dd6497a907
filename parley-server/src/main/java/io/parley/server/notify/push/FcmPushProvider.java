package io.parley.server.notify.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.parley.server.notify.EndpointBreakers;
import io.parley.server.notify.HttpOutcomes;
import io.parley.server.notify.PushMessage;
import io.parley.server.notify.PushProvider;
import io.parley.server.notify.PushResult;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Firebase Cloud Messaging, HTTP v1 API ({@code fcm}). Authenticates with an OAuth2 access token
 * obtained from the service account's token endpoint with a JWT-bearer grant (RFC 7523): a JWT
 * signed RS256 with the service account's private key, {@code iss} the client email, {@code
 * scope} firebase.messaging, {@code aud} the token URI, valid one hour. The token is cached until
 * a minute before it expires, and dropped on a 401.
 *
 * <p>Sends {@code POST {base}/v1/projects/{project}/messages:send} with the notification, the
 * badge for Android ({@code notification_count}) and iOS ({@code aps.badge}), the conversation as
 * collapse key, and the push id in {@code data.push_id}. Errors per the FCM documentation: 404
 * {@code UNREGISTERED} and 403 {@code SENDER_ID_MISMATCH} remove the target, 429 and 5xx retry
 * (honouring Retry-After), 401 retries with a new token, other 4xx reject the push. Thread-safe.
 */
public final class FcmPushProvider implements PushProvider {
  public static final String NAME = "fcm";
  static final String SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ServiceAccount account;
  private final URI sendUri;
  private final HttpClient http;
  private final CircuitBreaker breaker;
  private final Duration timeout;
  private final Clock clock;
  private volatile AccessToken token;
  /** The token request in flight, shared by concurrent sends (guarded by this). */
  private CompletableFuture<String> tokenRequest;

  /** The fields of a Google service-account JSON key file that FCM needs. */
  public record ServiceAccount(
      String projectId, String clientEmail, PrivateKey privateKey, URI tokenUri) {

    /** Reads a service-account key file as downloaded from the Firebase console. */
    public static ServiceAccount read(Path file) throws IOException {
      JsonNode n = JSON.readTree(Files.readAllBytes(file));
      for (String f : new String[] {"project_id", "client_email", "private_key", "token_uri"}) {
        if (!n.hasNonNull(f)) {
          throw new IOException(file + " is not a service-account key: no \"" + f + "\"");
        }
      }
      return new ServiceAccount(
          n.get("project_id").asText(),
          n.get("client_email").asText(),
          pkcs8(n.get("private_key").asText()),
          URI.create(n.get("token_uri").asText()));
    }

    private static PrivateKey pkcs8(String pem) throws IOException {
      String b64 =
          pem.replace("-----BEGIN PRIVATE KEY-----", "")
              .replace("-----END PRIVATE KEY-----", "")
              .replaceAll("\\s", "");
      try {
        return KeyFactory.getInstance("RSA")
            .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        throw new IOException("private_key is not a PKCS#8 RSA key: " + e.getMessage(), e);
      }
    }
  }

  private record AccessToken(String value, long expiresAtMs) {}

  /**
   * @param baseUri {@code https://fcm.googleapis.com} in production
   */
  public FcmPushProvider(
      ServiceAccount account,
      URI baseUri,
      HttpClient http,
      EndpointBreakers breakers,
      Duration timeout,
      Clock clock) {
    this.account = account;
    this.sendUri =
        baseUri.resolve("/v1/projects/" + account.projectId() + "/messages:send");
    this.http = http;
    this.breaker = breakers.forPushProvider(NAME);
    this.timeout = timeout;
    this.clock = clock;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public CompletableFuture<PushResult> send(PushMessage m) {
    if (!breaker.tryAcquirePermission()) {
      return CompletableFuture.completedFuture(
          new PushResult.ProviderUnavailable(
              "circuit breaker " + breaker.getName() + " is " + breaker.getState(),
              clock.millis() + 500));
    }
    long start = System.nanoTime();
    return accessToken()
        .thenCompose(
            t ->
                http.sendAsync(
                    HttpRequest.newBuilder(sendUri)
                        .timeout(timeout)
                        .header("Authorization", "Bearer " + t)
                        .header("Content-Type", "application/json; UTF-8")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body(m)))
                        .build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)))
        .handle(
            (response, error) -> {
              if (error != null) {
                HttpOutcomes.recordError(breaker, start, error);
                return new PushResult.Retry(HttpOutcomes.describe(error), 0);
              }
              int status = response.statusCode();
              HttpOutcomes.record(breaker, start, status);
              return classify(status, response);
            });
  }

  private PushResult classify(int status, HttpResponse<String> response) {
    if (status == 200) {
      return new PushResult.Sent();
    }
    String code = fcmErrorCode(response.body());
    String reason = "FCM HTTP " + status + (code.isEmpty() ? "" : " " + code);
    if (status == 404 || code.equals("UNREGISTERED") || code.equals("SENDER_ID_MISMATCH")) {
      return new PushResult.InvalidToken(reason);
    }
    if (status == 401) {
      token = null;
      return new PushResult.Retry(reason, 0);
    }
    if (status == 429 || status >= 500) {
      return new PushResult.Retry(reason, HttpOutcomes.retryAfterMs(response, clock));
    }
    return new PushResult.Rejected(reason);
  }

  /** {@code error.details[].errorCode} of an FCM error body (google.firebase.fcm.v1.FcmError). */
  private static String fcmErrorCode(String body) {
    try {
      JsonNode details = JSON.readTree(body).path("error").path("details");
      for (JsonNode d : details) {
        if (d.hasNonNull("errorCode")) {
          return d.get("errorCode").asText();
        }
      }
      return JSON.readTree(body).path("error").path("status").asText("");
    } catch (IOException e) {
      return "";
    }
  }

  private CompletableFuture<String> accessToken() {
    AccessToken t = token;
    if (t != null && clock.millis() < t.expiresAtMs()) {
      return CompletableFuture.completedFuture(t.value());
    }
    synchronized (this) {
      if (tokenRequest == null || tokenRequest.isDone()) {
        CompletableFuture<String> request = requestToken();
        tokenRequest = request;
      }
      return tokenRequest;
    }
  }

  private CompletableFuture<String> requestToken() {
    String form;
    try {
      form =
          "grant_type="
              + URLEncoder.encode("urn:ietf:params:oauth:grant-type:jwt-bearer", StandardCharsets.UTF_8)
              + "&assertion="
              + URLEncoder.encode(assertion(), StandardCharsets.UTF_8);
    } catch (JOSEException e) {
      return CompletableFuture.failedFuture(e);
    }
    return http.sendAsync(
            HttpRequest.newBuilder(account.tokenUri())
                .timeout(timeout)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
        .thenApply(
            r -> {
              if (r.statusCode() != 200) {
                throw new IllegalStateException(
                    "OAuth2 token endpoint answered HTTP " + r.statusCode());
              }
              try {
                JsonNode n = JSON.readTree(r.body());
                String value = n.path("access_token").asText("");
                if (value.isEmpty()) {
                  throw new IllegalStateException("OAuth2 token endpoint returned no access_token");
                }
                long ttlMs = Math.max(60, n.path("expires_in").asLong(3600)) * 1000;
                // Renew a minute early so a token never expires in flight.
                token = new AccessToken(value, clock.millis() + ttlMs - 60_000);
                return value;
              } catch (IOException e) {
                throw new IllegalStateException("invalid OAuth2 token response", e);
              }
            });
  }

  private String assertion() throws JOSEException {
    long now = clock.millis();
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .issuer(account.clientEmail())
            .audience(account.tokenUri().toString())
            .claim("scope", SCOPE)
            .issueTime(new Date(now))
            .expirationTime(new Date(now + 3_600_000))
            .jwtID(UUID.randomUUID().toString())
            .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).build(), claims);
    jwt.sign(new RSASSASigner(account.privateKey()));
    return jwt.serialize();
  }

  private static byte[] body(PushMessage m) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode msg = root.putObject("message");
    msg.put("token", m.token());
    ObjectNode n = msg.putObject("notification");
    n.put("title", m.title());
    n.put("body", m.body());
    ObjectNode android = msg.putObject("android");
    android.put("collapse_key", m.conversationId());
    android.putObject("notification").put("notification_count", m.badge());
    msg.putObject("apns").putObject("payload").putObject("aps").put("badge", m.badge());
    ObjectNode data = msg.putObject("data");
    // FCM data values must be strings.
    data.put("push_id", m.pushId());
    data.put("conversation_id", m.conversationId());
    data.put("seq", Long.toString(m.seq()));
    data.put("message_id", m.messageId());
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
