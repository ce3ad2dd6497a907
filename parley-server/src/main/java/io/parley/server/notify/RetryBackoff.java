package io.parley.server.notify;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: the delay before retry {@code n} (after {@code n} failed
 * attempts, n >= 1) is uniform in {@code [0, min(max, base * 2^(n-1))]}. Full jitter spreads the
 * retries of many jobs that failed together (an endpoint outage) instead of synchronising them.
 * Immutable and thread-safe.
 */
public final class RetryBackoff {
  private final long baseMs;
  private final long maxMs;

  public RetryBackoff(Duration base, Duration max) {
    this.baseMs = Math.max(1, base.toMillis());
    this.maxMs = Math.max(baseMs, max.toMillis());
  }

  /** The upper bound of the delay after {@code failedAttempts} failures. */
  public long capMs(int failedAttempts) {
    int shift = Math.min(Math.max(failedAttempts - 1, 0), 40);
    long cap = baseMs << shift;
    return cap <= 0 || cap > maxMs ? maxMs : cap;
  }

  /** A random delay in {@code [0, capMs(failedAttempts)]}. */
  public long delayMs(int failedAttempts) {
    return ThreadLocalRandom.current().nextLong(capMs(failedAttempts) + 1);
  }
}
