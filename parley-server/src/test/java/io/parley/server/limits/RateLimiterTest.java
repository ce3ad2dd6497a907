package io.parley.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.config.ParleyConfig;
import io.parley.server.config.ParleyConfig.Rate;
import io.parley.server.core.ParleyException;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private final ManualClock clock = new ManualClock();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  private static Rate rate(long n, Duration d) {
    return new Rate(n, d);
  }

  private RateLimiter limiter(boolean enabled, Rate sendUser, Rate sendIp) {
    Rate other = rate(1, Duration.ofHours(1));
    return new RateLimiter(
        new ParleyConfig.RateLimits(
            enabled, sendUser, sendIp, other, other, other, other, other, other, other, other, 1000),
        meters,
        clock);
  }

  @Test
  void refusesWithRateLimitedAndTheBucketsRetryHint() {
    RateLimiter l = limiter(true, rate(2, Duration.ofSeconds(1)), rate(100, Duration.ofSeconds(1)));
    assertThat(l.tryAcquire(LimitedAction.SEND, "alice", "10.0.0.1")).isEmpty();
    assertThat(l.tryAcquire(LimitedAction.SEND, "alice", "10.0.0.1")).isEmpty();
    Optional<ParleyException> refused = l.tryAcquire(LimitedAction.SEND, "alice", "10.0.0.1");
    assertThat(refused).isPresent();
    assertThat(refused.get().code()).isEqualTo(ErrorCode.RATE_LIMITED);
    assertThat(refused.get().retryAfterMs()).isEqualTo(500);
    assertThat(refused.get().getMessage()).contains("send");
    assertThat(meters.get("parley.rate.limited").tags("action", "send", "scope", "user").counter().count())
        .isEqualTo(1.0);
  }

  @Test
  void aUserRefusedOnTheirOwnBucketDoesNotDrainTheSharedAddressBucket() {
    RateLimiter l = limiter(true, rate(3, Duration.ofMinutes(1)), rate(5, Duration.ofMinutes(1)));
    for (int i = 0; i < 1000; i++) {
      l.tryAcquire(LimitedAction.SEND, "flooder", "192.0.2.7");
    }
    // The flooder got 3 of the address's 5 tokens; a neighbour behind the same address gets 2.
    assertThat(l.tryAcquire(LimitedAction.SEND, "neighbour", "192.0.2.7")).isEmpty();
    assertThat(l.tryAcquire(LimitedAction.SEND, "neighbour", "192.0.2.7")).isEmpty();
    Optional<ParleyException> third = l.tryAcquire(LimitedAction.SEND, "neighbour", "192.0.2.7");
    assertThat(third).isPresent();
    assertThat(third.get().getMessage()).contains("network address");
    assertThat(meters.get("parley.rate.limited").tags("action", "send", "scope", "ip").counter().count())
        .isEqualTo(1.0);
  }

  @Test
  void anAddressRefusalGivesTheUsersTokenBack() {
    RateLimiter l = limiter(true, rate(2, Duration.ofMinutes(1)), rate(1, Duration.ofMinutes(1)));
    assertThat(l.tryAcquire(LimitedAction.SEND, "alice", "198.51.100.1")).isEmpty();
    assertThat(l.tryAcquire(LimitedAction.SEND, "alice", "198.51.100.1")).isPresent();
    // Alice still has one token of her own: another address lets her through.
    assertThat(l.tryAcquire(LimitedAction.SEND, "alice", "198.51.100.2")).isEmpty();
    assertThat(l.tryAcquire(LimitedAction.SEND, "alice", "198.51.100.3")).isPresent();
  }

  @Test
  void actionsHaveSeparateBuckets() {
    RateLimiter l = limiter(true, rate(1, Duration.ofMinutes(1)), rate(100, Duration.ofMinutes(1)));
    assertThat(l.tryAcquire(LimitedAction.SEND, "alice", "a")).isEmpty();
    assertThat(l.tryAcquire(LimitedAction.SEND, "alice", "a")).isPresent();
    assertThat(l.tryAcquire(LimitedAction.TYPING, "alice", "a")).isEmpty();
    assertThat(l.tryAcquire(LimitedAction.JOIN, "alice", "a")).isEmpty();
  }

  @Test
  void adminChecksAddressAndKeySeparately() {
    Rate one = rate(1, Duration.ofMinutes(1));
    Rate many = rate(100, Duration.ofMinutes(1));
    RateLimiter l =
        new RateLimiter(
            new ParleyConfig.RateLimits(true, many, many, many, many, many, many, many, many, one, many, 1000),
            meters,
            clock);
    assertThat(l.tryAcquireAddress(LimitedAction.ADMIN, "a")).isEmpty();
    assertThat(l.tryAcquireUser(LimitedAction.ADMIN, "key")).isEmpty();
    assertThat(l.tryAcquireAddress(LimitedAction.ADMIN, "b")).isEmpty();
    assertThat(l.tryAcquireUser(LimitedAction.ADMIN, "key")).isPresent();
  }

  @Test
  void disabledAllowsEverything() {
    RateLimiter l = limiter(false, rate(1, Duration.ofHours(1)), rate(1, Duration.ofHours(1)));
    for (int i = 0; i < 100; i++) {
      assertThat(l.tryAcquire(LimitedAction.SEND, "alice", "a")).isEmpty();
      assertThat(l.tryAcquireAddress(LimitedAction.ADMIN, "a")).isEmpty();
    }
    RateLimiter unlimited = RateLimiter.unlimited();
    for (int i = 0; i < 100; i++) {
      assertThat(unlimited.tryAcquire(LimitedAction.TYPING, "alice", "a")).isEmpty();
    }
  }
}
