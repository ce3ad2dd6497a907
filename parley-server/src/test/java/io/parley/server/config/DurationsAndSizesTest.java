package io.parley.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class DurationsAndSizesTest {
  @Property
  void formattedDurationsParseBack(@ForAll @LongRange(min = 0, max = 400L * 86_400_000) long ms) {
    Duration d = Duration.ofMillis(ms);
    assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
  }

  @Property
  void formattedSizesParseBack(@ForAll @LongRange(min = 0, max = 1L << 40) long bytes) {
    assertThat(ByteSizes.parse(ByteSizes.format(bytes))).isEqualTo(bytes);
  }

  @Test
  void durationForms() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("PT30S")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("pt1m")).isEqualTo(Duration.ofMinutes(1));
    assertThat(Durations.format(Duration.ofHours(24))).isEqualTo("1d");
    assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
    for (String bad : new String[] {"", "30", "s", "30 s", "1x", "m5", "30s5"}) {
      assertThatThrownBy(() -> Durations.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void sizeForms() {
    assertThat(ByteSizes.parse("65536")).isEqualTo(65536);
    assertThat(ByteSizes.parse("64KiB")).isEqualTo(65536);
    assertThat(ByteSizes.parse("1 MiB")).isEqualTo(1 << 20);
    assertThat(ByteSizes.format(128 * 1024)).isEqualTo("128KiB");
    for (String bad : new String[] {"", "10MB", "1.5MiB", "-1", "KiB"}) {
      assertThatThrownBy(() -> ByteSizes.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
