package io.parley.server.notify;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class RetryBackoffTest {
  private final RetryBackoff backoff = new RetryBackoff(Duration.ofSeconds(1), Duration.ofMinutes(10));

  @Test
  void capDoublesPerAttemptUpToTheMaximum() {
    assertThat(backoff.capMs(1)).isEqualTo(1_000);
    assertThat(backoff.capMs(2)).isEqualTo(2_000);
    assertThat(backoff.capMs(5)).isEqualTo(16_000);
    assertThat(backoff.capMs(10)).isEqualTo(512_000);
    assertThat(backoff.capMs(11)).isEqualTo(600_000);
    assertThat(backoff.capMs(1_000)).isEqualTo(600_000);
  }

  @Property(tries = 300)
  void delayIsWithinZeroAndTheCap(@ForAll @IntRange(min = 0, max = 100_000) int attempts) {
    long d = backoff.delayMs(attempts);
    assertThat(d).isBetween(0L, backoff.capMs(attempts));
  }

  @Test
  void delaysAreSpreadOverTheWholeRange() {
    // Full jitter: over many draws both halves of [0, cap] occur.
    boolean low = false;
    boolean high = false;
    for (int i = 0; i < 1_000 && !(low && high); i++) {
      long d = backoff.delayMs(4);
      low |= d < 4_000;
      high |= d > 4_000;
    }
    assertThat(low).isTrue();
    assertThat(high).isTrue();
  }
}
