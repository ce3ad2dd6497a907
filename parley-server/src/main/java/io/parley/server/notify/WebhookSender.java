package io.parley.server.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.WebhookRecord;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Delivers {@code webhook} jobs: one signed JSON POST per job to the endpoint's URL (headers in
 * {@link WebhookSignature}), through the endpoint's circuit breaker. A 2xx answer completes the
 * job; anything else (including redirects, which are not followed) is a failed attempt, with
 * {@code Retry-After} honoured. Jobs of a deleted endpoint are dropped. Thread-safe.
 */
final class WebhookSender implements JobHandler {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ParleyStore store;
  private final HttpClient http;
  private final EndpointBreakers breakers;
  private final Duration timeout;
  private final Clock clock;

  WebhookSender(
      ParleyStore store, HttpClient http, EndpointBreakers breakers, Duration timeout, Clock clock) {
    this.store = store;
    this.http = http;
    this.breakers = breakers;
    this.timeout = timeout;
    this.clock = clock;
  }

  @Override
  public CompletableFuture<JobOutcome> attempt(OutboxJob job) {
    Optional<WebhookRecord> hook = store.webhook(job.target());
    if (hook.isEmpty()) {
      return CompletableFuture.completedFuture(
          new JobOutcome.Done("endpoint_deleted", w -> {}));
    }
    CircuitBreaker breaker = breakers.forWebhook(job.target());
    if (!breaker.tryAcquirePermission()) {
      return CompletableFuture.completedFuture(HttpOutcomes.breakerOpen(breaker, clock));
    }
    HttpRequest request;
    try {
      request = signedPost(URI.create(hook.get().url()), hook.get().secret(), job, eventType(job));
    } catch (IllegalArgumentException e) {
      breaker.releasePermission();
      return CompletableFuture.completedFuture(
          new JobOutcome.Permanent("invalid webhook URL: " + e.getMessage()));
    }
    long start = System.nanoTime();
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .handle(
            (response, error) -> {
              if (error != null) {
                HttpOutcomes.recordError(breaker, start, error);
                return new JobOutcome.Failed(HttpOutcomes.describe(error), 0);
              }
              HttpOutcomes.record(breaker, start, response.statusCode());
              if (response.statusCode() / 100 == 2) {
                return JobOutcome.Done.delivered();
              }
              return new JobOutcome.Failed(
                  "HTTP " + response.statusCode(), HttpOutcomes.retryAfterMs(response, clock));
            });
  }

  /** A POST of the job's payload signed at the current time. */
  HttpRequest signedPost(URI uri, String secret, OutboxJob job, String eventType) {
    long ts = clock.millis() / 1000;
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header("User-Agent", "Parley-Webhooks/1")
            .header(WebhookSignature.DELIVERY_ID_HEADER, job.jobId())
            .header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(ts))
            .header(WebhookSignature.SIGNATURE_HEADER, WebhookSignature.sign(secret, ts, job.payload()))
            .header(WebhookSignature.ATTEMPT_HEADER, Integer.toString(job.attempts() + 1))
            .POST(HttpRequest.BodyPublishers.ofByteArray(job.payload()));
    if (!eventType.isEmpty()) {
      b.header(WebhookSignature.EVENT_TYPE_HEADER, eventType);
    }
    return b.build();
  }

  private static String eventType(OutboxJob job) {
    try {
      JsonNode n = JSON.readTree(job.payload());
      return n.path("type").asText("");
    } catch (IOException e) {
      return "";
    }
  }
}
