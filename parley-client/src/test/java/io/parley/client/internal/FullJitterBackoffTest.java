package io.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class FullJitterBackoffTest {

  @Property
  void delayStaysWithinZeroAndTheCappedExponential(
      @ForAll @LongRange(min = 1, max = 10_000) long base,
      @ForAll @LongRange(min = 0, max = 1_000_000) long extra,
      @ForAll @IntRange(min = 0, max = 200) int attempt,
      @ForAll long seed) {
    long cap = base + extra;
    FullJitterBackoff backoff = new FullJitterBackoff(base, cap, new Random(seed));
    long expectedCeiling =
        BigInteger.valueOf(base)
            .shiftLeft(attempt)
            .min(BigInteger.valueOf(cap))
            .longValueExact();

    assertThat(backoff.ceilingMs(attempt)).isEqualTo(expectedCeiling);
    for (int i = 0; i < 20; i++) {
      assertThat(backoff.delayMs(attempt)).isBetween(0L, expectedCeiling);
    }
  }

  @Property
  void extremeRandomValuesStayInsideTheWindow(
      @ForAll @IntRange(min = 0, max = 40) int attempt) {
    Random alwaysTop =
        new Random() {
          @Override
          public double nextDouble() {
            return Math.nextDown(1.0);
          }
        };
    Random alwaysZero =
        new Random() {
          @Override
          public double nextDouble() {
            return 0.0;
          }
        };
    FullJitterBackoff top = new FullJitterBackoff(250, 30_000, alwaysTop);
    FullJitterBackoff bottom = new FullJitterBackoff(250, 30_000, alwaysZero);

    assertThat(top.delayMs(attempt)).isEqualTo(top.ceilingMs(attempt));
    assertThat(bottom.delayMs(attempt)).isZero();
  }

  @Test
  void defaultsDoubleFromTheBaseUntilTheCap() {
    FullJitterBackoff backoff = new FullJitterBackoff(250, 30_000, new Random(1));

    assertThat(backoff.ceilingMs(0)).isEqualTo(250);
    assertThat(backoff.ceilingMs(1)).isEqualTo(500);
    assertThat(backoff.ceilingMs(6)).isEqualTo(16_000);
    assertThat(backoff.ceilingMs(7)).isEqualTo(30_000);
    assertThat(backoff.ceilingMs(1_000)).isEqualTo(30_000);
  }

  @Test
  void delaysAreSpreadOverTheWholeWindowNotClusteredAtTheCeiling() {
    FullJitterBackoff backoff = new FullJitterBackoff(250, 30_000, new Random(42));
    long belowHalf = 0;
    for (int i = 0; i < 1_000; i++) {
      if (backoff.delayMs(10) < 15_000) {
        belowHalf++;
      }
    }
    assertThat(belowHalf).isBetween(350L, 650L);
  }

  @Test
  void rejectsAnInvertedRange() {
    assertThatThrownBy(() -> new FullJitterBackoff(100, 50, new Random()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new FullJitterBackoff(0, 50, new Random()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
