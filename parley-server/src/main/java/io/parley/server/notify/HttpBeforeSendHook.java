package io.parley.server.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.parley.server.core.ParleyException;
import io.parley.server.messaging.BeforeSendHook;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The before-send moderation hook over HTTP: a JSON POST signed like a webhook (see {@link
 * WebhookSignature}) to {@code notify.before_send_url}, answered with {@code {"action":"allow"}},
 * {@code {"action":"reject","reason":"..."}} or {@code {"action":"rewrite","body":"<base64>",
 * "content_type":"..."}}. A reject fails the message with {@code FORBIDDEN} carrying the reason.
 *
 * <p>When the hook cannot answer (timeout, connection error, 5xx, any other non-2xx or an answer
 * that is not one of the three) the policy applies: fail open stores the message as sent, fail
 * closed refuses it with {@code UNAVAILABLE} and a retry hint. The call sits behind the
 * Resilience4j breaker {@code before_send}: while it is open the hook is not called and the policy
 * applies at once, so an outage costs senders no timeout. Uses the JDK client's async API: never
 * blocks the calling thread; the answer completes on the client's or the timeout's thread.
 * Thread-safe.
 */
public final class HttpBeforeSendHook implements BeforeSendHook {
  private static final Logger log = LoggerFactory.getLogger(HttpBeforeSendHook.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String EVENT_TYPE = "message.before_send";
  static final long RETRY_AFTER_MS = 1000;
  private static final int MAX_REASON_CHARS = 500;

  private final URI url;
  private final String secret;
  private final Duration timeout;
  private final boolean failClosed;
  private final HttpClient http;
  private final CircuitBreaker breaker;
  private final Clock clock;
  private final Map<String, Counter> outcomes;

  public HttpBeforeSendHook(
      URI url,
      String secret,
      Duration timeout,
      boolean failClosed,
      HttpClient http,
      CircuitBreaker breaker,
      MeterRegistry metrics,
      Clock clock) {
    this.url = Objects.requireNonNull(url, "url");
    this.secret = secret;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.failClosed = failClosed;
    this.http = Objects.requireNonNull(http, "http");
    this.breaker = Objects.requireNonNull(breaker, "breaker");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.outcomes =
        Map.of(
            "allow", counter(metrics, "allow"),
            "reject", counter(metrics, "reject"),
            "rewrite", counter(metrics, "rewrite"),
            "fail_open", counter(metrics, "fail_open"),
            "fail_closed", counter(metrics, "fail_closed"));
  }

  private static Counter counter(MeterRegistry metrics, String result) {
    return Counter.builder("parley.notify.before_send")
        .description("Messages checked by the before-send hook, by outcome")
        .tag("result", result)
        .register(metrics);
  }

  @Override
  public boolean enabled() {
    return true;
  }

  @Override
  public CompletableFuture<Content> check(Submission s) {
    if (!breaker.tryAcquirePermission()) {
      return unanswered(s, "circuit breaker " + breaker.getName() + " is " + breaker.getState());
    }
    String id = "bsh_" + UUID.randomUUID();
    HttpRequest request = signedPost(id, payload(id, s));
    long start = System.nanoTime();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
        // The request timeout covers the answer's headers; this bounds the whole exchange.
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle(
            (response, error) -> {
              if (error != null) {
                HttpOutcomes.recordError(breaker, start, error);
                return unanswered(s, HttpOutcomes.describe(error));
              }
              HttpOutcomes.record(breaker, start, response.statusCode());
              if (response.statusCode() / 100 != 2) {
                return unanswered(s, "HTTP " + response.statusCode());
              }
              return verdict(s, response.body());
            })
        .thenCompose(f -> f);
  }

  private CompletableFuture<Content> verdict(Submission s, byte[] answer) {
    JsonNode n;
    try {
      n = JSON.readTree(answer);
    } catch (IOException e) {
      return unanswered(s, "answer is not JSON");
    }
    if (n == null) {
      return unanswered(s, "empty answer");
    }
    switch (n.path("action").asText()) {
      case "allow":
        outcomes.get("allow").increment();
        return CompletableFuture.completedFuture(s.content());
      case "reject":
        outcomes.get("reject").increment();
        String reason = n.path("reason").asText("");
        if (reason.length() > MAX_REASON_CHARS) {
          reason = reason.substring(0, MAX_REASON_CHARS);
        }
        return CompletableFuture.failedFuture(
            ParleyException.forbidden(
                reason.isBlank() ? "rejected by the moderation hook" : "rejected: " + reason));
      case "rewrite":
        ByteString body;
        try {
          body = ByteString.copyFrom(Base64.getDecoder().decode(n.path("body").asText("")));
        } catch (IllegalArgumentException e) {
          return unanswered(s, "rewrite body is not base64");
        }
        String contentType =
            n.hasNonNull("content_type")
                ? n.get("content_type").asText()
                : s.content().contentType();
        outcomes.get("rewrite").increment();
        return CompletableFuture.completedFuture(new Content(contentType, body));
      default:
        return unanswered(s, "unknown action " + n.path("action"));
    }
  }

  /** The policy's answer when the hook could not decide. */
  private CompletableFuture<Content> unanswered(Submission s, String why) {
    if (failClosed) {
      outcomes.get("fail_closed").increment();
      log.debug("before-send hook did not answer for {} ({}); refusing", s.conversationId(), why);
      return CompletableFuture.failedFuture(
          ParleyException.unavailable(
              "the moderation hook is unavailable (" + why + ")", RETRY_AFTER_MS, null));
    }
    outcomes.get("fail_open").increment();
    log.debug("before-send hook did not answer for {} ({}); storing as sent", s.conversationId(), why);
    return CompletableFuture.completedFuture(s.content());
  }

  private static byte[] payload(String id, Submission s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", id);
    n.put("kind", s.kind());
    n.put("conversation_id", s.conversationId());
    n.put("sender_user_id", s.senderUserId());
    n.put("sender_device_id", s.senderDeviceId());
    n.put("client_msg_id", s.clientMsgId());
    n.put("target_seq", s.targetSeq());
    n.put("content_type", s.content().contentType());
    n.put("body", Base64.getEncoder().encodeToString(s.content().body().toByteArray()));
    return n.toString().getBytes(StandardCharsets.UTF_8);
  }

  private HttpRequest signedPost(String id, byte[] body) {
    long ts = clock.millis() / 1000;
    HttpRequest.Builder b =
        HttpRequest.newBuilder(url)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header("User-Agent", "Parley-Webhooks/1")
            .header(WebhookSignature.DELIVERY_ID_HEADER, id)
            .header(WebhookSignature.EVENT_TYPE_HEADER, EVENT_TYPE)
            .header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(ts))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (secret != null) {
      b.header(WebhookSignature.SIGNATURE_HEADER, WebhookSignature.sign(secret, ts, body));
    }
    return b.build();
  }
}
