package io.parley.server.config;

import java.time.Duration;
import java.util.Locale;

/**
 * Parses and prints rate settings: {@code <permits>/<duration>} such as {@code 50/10s} (a bucket of
 * 50 tokens, refilled at 50 tokens per 10 seconds, so bursts of 50 and 5 per second sustained), or
 * {@code off} for no limit. The duration uses the forms of {@link Durations}. Stateless and
 * thread-safe.
 */
public final class Rates {
  /** The longest period a rate may have; longer periods would make buckets effectively static. */
  static final Duration MAX_PERIOD = Duration.ofDays(1);

  private Rates() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException when it is not {@code off} or {@code N/duration} with N ≥ 1
   *     and a period of 1ms to 1d
   */
  public static ParleyConfig.Rate parse(String text) {
    String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
    if (t.equals("off")) {
      return ParleyConfig.Rate.OFF;
    }
    int slash = t.indexOf('/');
    if (slash <= 0 || slash == t.length() - 1) {
      throw invalid(text);
    }
    long permits;
    Duration period;
    try {
      permits = Long.parseLong(t.substring(0, slash).strip());
      period = Durations.parse(t.substring(slash + 1));
    } catch (IllegalArgumentException e) {
      throw invalid(text);
    }
    if (permits < 1 || permits > 1_000_000_000L) {
      throw new IllegalArgumentException(
          "the number of requests must be 1..1000000000, got '" + text + "'");
    }
    if (period.toMillis() < 1 || period.compareTo(MAX_PERIOD) > 0) {
      throw new IllegalArgumentException(
          "the period must be between 1ms and " + Durations.format(MAX_PERIOD) + ", got '" + text + "'");
    }
    return new ParleyConfig.Rate(permits, period);
  }

  /** The form {@link #parse} reads: {@code off} or e.g. {@code 50/10s}. */
  public static String format(ParleyConfig.Rate rate) {
    return rate.isOff() ? "off" : rate.permits() + "/" + Durations.format(rate.period());
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException(
        "must be a rate such as 50/10s or 600/1m (requests per period), or off; got '"
            + text
            + "'");
  }
}
