package io.parley.server.notify;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Shared HTTP handling of webhook and push-provider calls ({@code notify.push} uses it too):
 * breaker bookkeeping, Retry-After and error descriptions. Server errors, timeouts and connection
 * failures count against the breaker; 4xx answers do not (the endpoint is up, it refused this
 * request). Stateless.
 */
public final class HttpOutcomes {
  private HttpOutcomes() {}

  /** Postponement while the breaker refuses calls: re-check soon, without spending an attempt. */
  static JobOutcome.Postponed breakerOpen(CircuitBreaker breaker, Clock clock) {
    return new JobOutcome.Postponed(
        "circuit breaker " + breaker.getName() + " is " + breaker.getState(),
        clock.millis() + 500);
  }

  /** Records a call answered with {@code status}: 5xx is a failure, anything else a success. */
  public static void record(CircuitBreaker breaker, long startNanos, int status) {
    long nanos = System.nanoTime() - startNanos;
    if (status >= 500) {
      breaker.onError(nanos, TimeUnit.NANOSECONDS, new IllegalStateException("HTTP " + status));
    } else {
      breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Records a call that got no answer (timeout, connection failure). */
  public static void recordError(CircuitBreaker breaker, long startNanos, Throwable error) {
    breaker.onError(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS, error);
  }

  /** The Retry-After header (seconds or HTTP date) in ms from now, or 0 when absent/invalid. */
  public static long retryAfterMs(HttpResponse<?> response, Clock clock) {
    Optional<String> v = response.headers().firstValue("retry-after");
    if (v.isEmpty()) {
      return 0;
    }
    String s = v.get().trim();
    try {
      return Math.min(Duration.ofHours(1).toMillis(), Math.max(0, Long.parseLong(s) * 1000));
    } catch (NumberFormatException e) {
      try {
        long at = ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
        return Math.min(Duration.ofHours(1).toMillis(), Math.max(0, at - clock.millis()));
      } catch (DateTimeParseException ignored) {
        return 0;
      }
    }
  }

  /** The root cause of an HTTP client failure, unwrapped from future wrappers. */
  public static String describe(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException
            || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
  }
}
