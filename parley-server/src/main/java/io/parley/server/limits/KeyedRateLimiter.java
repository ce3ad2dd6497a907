package io.parley.server.limits;

import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.parley.server.config.ParleyConfig;
import java.util.concurrent.TimeUnit;

/**
 * One rate limit applied separately to each key (a user id, a client address, the admin key): a
 * Bucket4j token bucket per key of {@code permits} tokens refilled greedily at {@code permits} per
 * {@code period}. A rate of {@code off} allows everything and keeps no state. Thread-safe.
 */
public final class KeyedRateLimiter {
  private final ParleyConfig.Rate rate;
  private final BucketTable buckets;

  /**
   * @param maxKeys most keys remembered at once (least recently used forgotten first)
   * @param clock the time source of the buckets ({@link TimeMeter#SYSTEM_NANOTIME} in production)
   */
  public KeyedRateLimiter(ParleyConfig.Rate rate, int maxKeys, TimeMeter clock) {
    this.rate = rate;
    this.buckets = rate.isOff() ? null : new BucketTable(rate, maxKeys, clock);
  }

  /**
   * Takes one token from the key's bucket.
   *
   * @return 0 when the request may go ahead, otherwise how many milliseconds (at least 1) until
   *     the bucket has a token again
   */
  public long tryAcquire(String key) {
    if (buckets == null) {
      return 0;
    }
    ConsumptionProbe probe = buckets.bucket(key).tryConsumeAndReturnRemaining(1);
    if (probe.isConsumed()) {
      return 0;
    }
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(probe.getNanosToWaitForRefill() + 999_999));
  }

  /** Gives back a token taken by {@link #tryAcquire} for a request that did not go ahead. */
  public void refund(String key) {
    if (buckets != null) {
      buckets.bucket(key).addTokens(1);
    }
  }

  public ParleyConfig.Rate rate() {
    return rate;
  }

  /** Keys currently remembered (tests, diagnostics). */
  int trackedKeys() {
    return buckets == null ? 0 : buckets.size();
  }
}
