package io.parley.server.notify.push;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.parley.server.notify.EndpointBreakers;
import io.parley.server.notify.HttpOutcomes;
import io.parley.server.notify.PushMessage;
import io.parley.server.notify.PushProvider;
import io.parley.server.notify.PushResult;
import io.parley.server.notify.WebhookSignature;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The generic push provider ({@code webhook}): POSTs each push as signed JSON to the app's own
 * push gateway (one URL configured server-wide, so devices cannot make the server call arbitrary
 * URLs). The gateway answers 2xx when it accepted the push, 404 or 410 when the token is invalid
 * or unregistered (the target is removed), 429 or 503 with an optional Retry-After when it
 * throttles, 5xx on temporary failure; any other 4xx rejects the push for good. Request format
 * in docs/notifications.md. Thread-safe.
 */
public final class WebhookPushProvider implements PushProvider {
  public static final String NAME = "webhook";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI url;
  private final String secret;
  private final HttpClient http;
  private final CircuitBreaker breaker;
  private final Duration timeout;
  private final Clock clock;

  public WebhookPushProvider(
      URI url,
      String secret,
      HttpClient http,
      EndpointBreakers breakers,
      Duration timeout,
      Clock clock) {
    this.url = url;
    this.secret = secret;
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
    byte[] body = body(m);
    long ts = clock.millis() / 1000;
    HttpRequest request =
        HttpRequest.newBuilder(url)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header(WebhookSignature.DELIVERY_ID_HEADER, m.pushId())
            .header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(ts))
            .header(WebhookSignature.SIGNATURE_HEADER, WebhookSignature.sign(secret, ts, body))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
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
              if (status / 100 == 2) {
                return new PushResult.Sent();
              }
              if (status == 404 || status == 410) {
                return new PushResult.InvalidToken("gateway answered HTTP " + status);
              }
              if (status == 429 || status >= 500) {
                return new PushResult.Retry("HTTP " + status, HttpOutcomes.retryAfterMs(response, clock));
              }
              return new PushResult.Rejected("HTTP " + status);
            });
  }

  private static byte[] body(PushMessage m) {
    ObjectNode root = JSON.createObjectNode();
    root.put("id", m.pushId());
    root.put("token", m.token());
    root.put("user_id", m.userId());
    root.put("device_id", m.deviceId());
    root.put("target_id", m.targetId());
    root.put("collapse_key", m.conversationId());
    ObjectNode n = root.putObject("notification");
    n.put("title", m.title());
    n.put("body", m.body());
    n.put("badge", m.badge());
    ObjectNode d = root.putObject("data");
    d.put("conversation_id", m.conversationId());
    d.put("seq", m.seq());
    d.put("message_id", m.messageId());
    try {
      return JSON.writeValueAsBytes(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
