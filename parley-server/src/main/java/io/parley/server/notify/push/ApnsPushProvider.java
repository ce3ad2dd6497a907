package io.parley.server.notify.push;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
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
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Apple Push Notification service ({@code apns}) over HTTP/2 with token-based authentication: a
 * provider JWT signed ES256 (Nimbus) with the team's {@code .p8} key, header {@code kid} = key id,
 * {@code iss} = team id, {@code iat} = now, reused for 50 minutes (Apple rejects tokens older than
 * an hour and refreshes more often than every 20 minutes). Sends {@code POST
 * {base}/3/device/<token>} with {@code apns-topic}, {@code apns-push-type: alert}, {@code
 * apns-priority: 10}, {@code apns-id} (the push id's UUID, so a retry is recognisably the same
 * notification), {@code apns-collapse-id} (the conversation) and the {@code aps} alert with the
 * badge. Answers per Apple's documentation: 200 sent; 410 {@code Unregistered} and 400 {@code
 * BadDeviceToken}/{@code DeviceTokenNotForTopic} remove the target; 403 {@code
 * ExpiredProviderToken}/{@code InvalidProviderToken} renew the token and retry; 429 and 5xx retry;
 * other 4xx reject. The JDK client negotiates HTTP/2 through TLS ALPN. Thread-safe.
 */
public final class ApnsPushProvider implements PushProvider {
  public static final String NAME = "apns";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TOKEN_REUSE_MS = 50 * 60_000L;
  private static final Set<String> INVALID_TOKEN_REASONS =
      Set.of("BadDeviceToken", "DeviceTokenNotForTopic", "Unregistered");
  private static final Set<String> PROVIDER_TOKEN_REASONS =
      Set.of("ExpiredProviderToken", "InvalidProviderToken");

  private final ECPrivateKey key;
  private final String keyId;
  private final String teamId;
  private final String topic;
  private final URI base;
  private final HttpClient http;
  private final CircuitBreaker breaker;
  private final Duration timeout;
  private final Clock clock;
  private volatile String providerToken;
  private volatile long providerTokenAtMs;

  public ApnsPushProvider(
      ECPrivateKey key,
      String keyId,
      String teamId,
      String topic,
      URI base,
      HttpClient http,
      EndpointBreakers breakers,
      Duration timeout,
      Clock clock) {
    this.key = key;
    this.keyId = keyId;
    this.teamId = teamId;
    this.topic = topic;
    this.base = base;
    this.http = http;
    this.breaker = breakers.forPushProvider(NAME);
    this.timeout = timeout;
    this.clock = clock;
  }

  /** Reads the {@code AuthKey_<id>.p8} file downloaded from the Apple developer account. */
  public static ECPrivateKey readP8(Path file) throws IOException {
    String b64 =
        Files.readString(file)
            .replace("-----BEGIN PRIVATE KEY-----", "")
            .replace("-----END PRIVATE KEY-----", "")
            .replaceAll("\\s", "");
    try {
      return (ECPrivateKey)
          KeyFactory.getInstance("EC")
              .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
    } catch (GeneralSecurityException | IllegalArgumentException | ClassCastException e) {
      throw new IOException(file + " is not a PKCS#8 EC private key: " + e.getMessage(), e);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public CompletableFuture<PushResult> send(PushMessage m) {
    if (!m.token().matches("[0-9A-Fa-f]{16,200}")) {
      return CompletableFuture.completedFuture(new PushResult.InvalidToken("not an APNs device token"));
    }
    if (!breaker.tryAcquirePermission()) {
      return CompletableFuture.completedFuture(
          new PushResult.ProviderUnavailable(
              "circuit breaker " + breaker.getName() + " is " + breaker.getState(),
              clock.millis() + 500));
    }
    HttpRequest request;
    try {
      request =
          HttpRequest.newBuilder(base.resolve("/3/device/" + URLEncoder.encode(m.token(), StandardCharsets.UTF_8)))
              .version(HttpClient.Version.HTTP_2)
              .timeout(timeout)
              .header("authorization", "bearer " + providerToken())
              .header("apns-topic", topic)
              .header("apns-push-type", "alert")
              .header("apns-priority", "10")
              .header("apns-expiration", Long.toString(clock.millis() / 1000 + 86_400))
              .header("apns-id", apnsId(m.pushId()))
              .header("apns-collapse-id", collapseId(m.conversationId()))
              .POST(HttpRequest.BodyPublishers.ofByteArray(body(m)))
              .build();
    } catch (JOSEException | IOException e) {
      breaker.releasePermission();
      return CompletableFuture.completedFuture(new PushResult.Retry("cannot sign provider token: " + e, 0));
    }
    long start = System.nanoTime();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
        .handle(
            (response, error) -> {
              if (error != null) {
                HttpOutcomes.recordError(breaker, start, error);
                return new PushResult.Retry(HttpOutcomes.describe(error), 0);
              }
              int status = response.statusCode();
              HttpOutcomes.record(breaker, start, status);
              if (status == 200) {
                return new PushResult.Sent();
              }
              String reason = reason(response.body());
              String what = "APNs HTTP " + status + (reason.isEmpty() ? "" : " " + reason);
              if (status == 410 || INVALID_TOKEN_REASONS.contains(reason)) {
                return new PushResult.InvalidToken(what);
              }
              if (PROVIDER_TOKEN_REASONS.contains(reason)) {
                providerToken = null;
                return new PushResult.Retry(what, 0);
              }
              if (status == 429 || status >= 500) {
                return new PushResult.Retry(what, 0);
              }
              return new PushResult.Rejected(what);
            });
  }

  private String providerToken() throws JOSEException {
    String t = providerToken;
    long now = clock.millis();
    if (t != null && now - providerTokenAtMs < TOKEN_REUSE_MS) {
      return t;
    }
    synchronized (this) {
      if (providerToken != null && now - providerTokenAtMs < TOKEN_REUSE_MS) {
        return providerToken;
      }
      SignedJWT jwt =
          new SignedJWT(
              new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(keyId).build(),
              new JWTClaimsSet.Builder().issuer(teamId).issueTime(new Date(now)).build());
      jwt.sign(new ECDSASigner(key));
      providerTokenAtMs = now;
      providerToken = jwt.serialize();
      return providerToken;
    }
  }

  /** apns-id must be a UUID; the push id carries one after its prefix. */
  private static String apnsId(String pushId) {
    int i = pushId.indexOf('_');
    String candidate = i >= 0 ? pushId.substring(i + 1) : pushId;
    try {
      return UUID.fromString(candidate).toString();
    } catch (IllegalArgumentException e) {
      return UUID.nameUUIDFromBytes(pushId.getBytes(StandardCharsets.UTF_8)).toString();
    }
  }

  /** apns-collapse-id is at most 64 bytes. */
  private static String collapseId(String conversationId) {
    return conversationId.length() <= 64
        ? conversationId
        : UUID.nameUUIDFromBytes(conversationId.getBytes(StandardCharsets.UTF_8)).toString();
  }

  private static String reason(String body) {
    try {
      return JSON.readTree(body).path("reason").asText("");
    } catch (IOException e) {
      return "";
    }
  }

  private static byte[] body(PushMessage m) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode aps = root.putObject("aps");
    ObjectNode alert = aps.putObject("alert");
    alert.put("title", m.title());
    alert.put("body", m.body());
    aps.put("badge", m.badge());
    aps.put("sound", "default");
    aps.put("thread-id", m.conversationId());
    root.put("conversation_id", m.conversationId());
    root.put("seq", m.seq());
    root.put("message_id", m.messageId());
    return JSON.writeValueAsBytes(root);
  }
}
