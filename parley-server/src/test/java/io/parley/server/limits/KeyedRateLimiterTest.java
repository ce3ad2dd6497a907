package io.parley.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.server.config.ParleyConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class KeyedRateLimiterTest {
  private final ManualClock clock = new ManualClock();

  private KeyedRateLimiter limiter(long permits, Duration period, int maxKeys) {
    return new KeyedRateLimiter(new ParleyConfig.Rate(permits, period), maxKeys, clock);
  }

  @Test
  void allowsABurstOfPermitsThenRefusesWithTheTimeUntilTheNextToken() {
    KeyedRateLimiter l = limiter(5, Duration.ofSeconds(10), 100);
    for (int i = 0; i < 5; i++) {
      assertThat(l.tryAcquire("alice")).as("request %d", i).isZero();
    }
    // 5 per 10 s: one token every 2 s.
    assertThat(l.tryAcquire("alice")).isEqualTo(2000);
    clock.advance(Duration.ofMillis(500));
    assertThat(l.tryAcquire("alice")).isEqualTo(1500);
    clock.advance(Duration.ofMillis(1500));
    assertThat(l.tryAcquire("alice")).isZero();
    assertThat(l.tryAcquire("alice")).isPositive();
  }

  @Test
  void keysHaveIndependentBuckets() {
    KeyedRateLimiter l = limiter(2, Duration.ofMinutes(1), 100);
    assertThat(l.tryAcquire("alice")).isZero();
    assertThat(l.tryAcquire("alice")).isZero();
    assertThat(l.tryAcquire("alice")).isPositive();
    assertThat(l.tryAcquire("bob")).isZero();
    assertThat(l.tryAcquire("bob")).isZero();
    assertThat(l.tryAcquire("bob")).isPositive();
  }

  @Test
  void sustainedRateIsPermitsPerPeriod() {
    KeyedRateLimiter l = limiter(10, Duration.ofSeconds(1), 100);
    int allowed = 0;
    // 5 simulated seconds of 1000 attempts per second: burst 10 + 10 per second refill.
    for (int ms = 0; ms < 5000; ms++) {
      if (l.tryAcquire("flooder") == 0) {
        allowed++;
      }
      clock.advance(Duration.ofMillis(1));
    }
    assertThat(allowed).isBetween(58, 60);
  }

  @Test
  void refundGivesTheTokenBack() {
    KeyedRateLimiter l = limiter(1, Duration.ofHours(1), 100);
    assertThat(l.tryAcquire("k")).isZero();
    assertThat(l.tryAcquire("k")).isPositive();
    l.refund("k");
    assertThat(l.tryAcquire("k")).isZero();
  }

  @Test
  void offAllowsEverythingAndKeepsNoState() {
    KeyedRateLimiter l = new KeyedRateLimiter(ParleyConfig.Rate.OFF, 100, clock);
    for (int i = 0; i < 10_000; i++) {
      assertThat(l.tryAcquire("k" + (i % 7))).isZero();
    }
    assertThat(l.trackedKeys()).isZero();
  }

  @Test
  void remembersAtMostMaxKeysAndForgetsIdleBucketsWhichWouldBeFullAgain() {
    KeyedRateLimiter l = limiter(1, Duration.ofSeconds(10), 16 * 4);
    for (int i = 0; i < 10_000; i++) {
      l.tryAcquire("addr-" + i);
    }
    assertThat(l.trackedKeys()).isLessThanOrEqualTo(16 * 4);

    KeyedRateLimiter idle = limiter(1, Duration.ofSeconds(10), 10_000);
    for (int i = 0; i < 100; i++) {
      idle.tryAcquire("old-" + i);
    }
    assertThat(idle.trackedKeys()).isEqualTo(100);
    assertThat(idle.tryAcquire("old-0")).as("still remembered and empty").isPositive();
    clock.advance(Duration.ofSeconds(10));
    for (int i = 0; i < 1000; i++) {
      idle.tryAcquire("new-" + i);
    }
    assertThat(idle.trackedKeys()).as("idle buckets forgotten as their stripes are used").isEqualTo(1000);
    assertThat(idle.tryAcquire("old-0")).as("a forgotten bucket comes back full").isZero();
  }
}
