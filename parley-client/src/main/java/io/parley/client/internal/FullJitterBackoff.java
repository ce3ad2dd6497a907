package io.parley.client.internal;

import java.util.Random;

/**
 * Exponential backoff with full jitter: the delay before retry {@code n} (0-based) is uniform in
 * {@code [0, min(cap, base * 2^n)]}. Full jitter spreads the reconnects of many clients that lost
 * their connection at the same moment (a server restart) over the whole window instead of letting
 * them return in waves.
 *
 * <p>Not thread-safe (the {@link Random} is shared); used from the client's event loop only.
 */
public final class FullJitterBackoff {
  private final long baseMs;
  private final long capMs;
  private final Random random;

  public FullJitterBackoff(long baseMs, long capMs, Random random) {
    if (baseMs <= 0 || capMs < baseMs) {
      throw new IllegalArgumentException("need 0 < base <= cap, got base=" + baseMs + " cap=" + capMs);
    }
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.random = random;
  }

  /** The upper bound of the delay before retry {@code attempt}: {@code min(cap, base * 2^attempt)}. */
  public long ceilingMs(int attempt) {
    if (attempt < 0) {
      throw new IllegalArgumentException("attempt must be >= 0");
    }
    // base * 2^attempt overflows long quickly; once the shift would pass cap, the answer is cap.
    if (attempt >= 62 || baseMs > (capMs >> attempt)) {
      return capMs;
    }
    return Math.min(capMs, baseMs << attempt);
  }

  /** A random delay in {@code [0, ceilingMs(attempt)]}. */
  public long delayMs(int attempt) {
    long ceiling = ceilingMs(attempt);
    long delay = (long) (random.nextDouble() * (ceiling + 1));
    return Math.min(delay, ceiling);
  }
}
