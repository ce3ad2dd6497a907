package io.parley.server.notify.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.crypto.tink.subtle.EllipticCurves;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
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
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * Web Push ({@code webpush}): RFC 8030 delivery to the subscription's push service, payload
 * encrypted per RFC 8291 ({@link WebPushEncryption}), authenticated with VAPID (RFC 8292): {@code
 * Authorization: vapid t=<ES256 JWT with aud = the endpoint's origin, sub, exp 12 h>, k=<public
 * key>}, signed with Nimbus. The device token is the browser's PushSubscription JSON ({@code
 * endpoint}, {@code keys.p256dh}, {@code keys.auth}). Answers: 201 (or any 2xx) sent; 404/410
 * subscription gone (target removed); 429 and 5xx retry with Retry-After; 413 and other 4xx
 * rejected. {@code Topic} (the conversation, hashed to 32 base64url characters) lets the push
 * service replace an undelivered notification of the same conversation. Thread-safe.
 */
public final class WebPushProvider implements PushProvider {
  public static final String NAME = "webpush";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Decoder B64URL = Base64.getUrlDecoder();
  private static final Base64.Encoder B64URL_OUT = Base64.getUrlEncoder().withoutPadding();

  private final ECPrivateKey vapidPrivate;
  private final String vapidPublicB64;
  private final String subject;
  private final HttpClient http;
  private final CircuitBreaker breaker;
  private final Duration timeout;
  private final Clock clock;

  /**
   * @param vapidPublicKey base64url of the 65-byte uncompressed P-256 public key (the
   *     applicationServerKey browsers subscribe with)
   * @param vapidPrivateKey base64url of the 32-byte private scalar
   * @param subject a {@code mailto:} or {@code https:} contact for the push service operator
   */
  public WebPushProvider(
      String vapidPublicKey,
      String vapidPrivateKey,
      String subject,
      HttpClient http,
      EndpointBreakers breakers,
      Duration timeout,
      Clock clock)
      throws GeneralSecurityException {
    EllipticCurves.getEcPublicKey(
        EllipticCurves.CurveType.NIST_P256,
        EllipticCurves.PointFormatType.UNCOMPRESSED,
        B64URL.decode(vapidPublicKey));
    this.vapidPrivate =
        EllipticCurves.getEcPrivateKey(
            EllipticCurves.CurveType.NIST_P256, B64URL.decode(vapidPrivateKey));
    this.vapidPublicB64 = vapidPublicKey.replace("=", "");
    this.subject = subject;
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
    URI endpoint;
    byte[] body;
    String authorization;
    try {
      JsonNode sub = JSON.readTree(m.token());
      endpoint = URI.create(sub.path("endpoint").asText());
      String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("https") || scheme.equals("http")) || endpoint.getHost() == null) {
        return CompletableFuture.completedFuture(new PushResult.InvalidToken("subscription endpoint is not an http(s) URL"));
      }
      body =
          WebPushEncryption.encrypt(
              payload(m),
              B64URL.decode(sub.path("keys").path("p256dh").asText()),
              B64URL.decode(sub.path("keys").path("auth").asText()));
      authorization = "vapid t=" + vapidJwt(endpoint) + ", k=" + vapidPublicB64;
    } catch (IOException | IllegalArgumentException | GeneralSecurityException | JOSEException e) {
      return CompletableFuture.completedFuture(
          new PushResult.InvalidToken("unusable push subscription: " + e.getMessage()));
    }
    if (!breaker.tryAcquirePermission()) {
      return CompletableFuture.completedFuture(
          new PushResult.ProviderUnavailable(
              "circuit breaker " + breaker.getName() + " is " + breaker.getState(),
              clock.millis() + 500));
    }
    HttpRequest request =
        HttpRequest.newBuilder(endpoint)
            .timeout(timeout)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("TTL", "86400")
            .header("Urgency", "high")
            .header("Topic", topic(m.conversationId()))
            .header("Authorization", authorization)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    long start = System.nanoTime();
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .handle(
            (response, error) -> {
              if (error != null) {
                HttpOutcomes.recordError(breaker, start, error);
                return new PushResult.Retry(HttpOutcomes.describe(error), 0);
              }
              int status = response.statusCode();
              HttpOutcomes.record(breaker, start, status);
              if (status / 100 == 2) {
                return new PushResult.Sent();
              }
              if (status == 404 || status == 410) {
                return new PushResult.InvalidToken("push service answered HTTP " + status);
              }
              if (status == 429 || status >= 500) {
                return new PushResult.Retry("HTTP " + status, HttpOutcomes.retryAfterMs(response, clock));
              }
              return new PushResult.Rejected("HTTP " + status);
            });
  }

  private String vapidJwt(URI endpoint) throws JOSEException {
    String origin =
        endpoint.getScheme() + "://" + endpoint.getHost() + (endpoint.getPort() == -1 ? "" : ":" + endpoint.getPort());
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .audience(origin)
            .subject(subject)
            .expirationTime(new Date(clock.millis() + 12 * 3_600_000L))
            .build();
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(new ECDSASigner(vapidPrivate));
    return jwt.serialize();
  }

  /** The push service only allows base64url Topics of at most 32 characters. */
  private static String topic(String conversationId) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(conversationId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return B64URL_OUT.encodeToString(d).substring(0, 32);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] payload(PushMessage m) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", m.pushId());
    n.put("title", m.title());
    n.put("body", m.body());
    n.put("badge", m.badge());
    n.put("conversation_id", m.conversationId());
    n.put("seq", m.seq());
    n.put("message_id", m.messageId());
    return JSON.writeValueAsBytes(n);
  }
}
