package io.parley.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RatesTest {
  @Test
  void parsesPermitsPerDurationAndOff() {
    assertThat(Rates.parse("50/10s")).isEqualTo(new ParleyConfig.Rate(50, Duration.ofSeconds(10)));
    assertThat(Rates.parse(" 600 / 1m ")).isEqualTo(new ParleyConfig.Rate(600, Duration.ofMinutes(1)));
    assertThat(Rates.parse("1/PT1H")).isEqualTo(new ParleyConfig.Rate(1, Duration.ofHours(1)));
    assertThat(Rates.parse("OFF").isOff()).isTrue();
  }

  @Test
  void formatsWhatItParses() {
    for (String s : new String[] {"50/10s", "600/1m", "2000/1s", "off", "7/90m"}) {
      assertThat(Rates.format(Rates.parse(s))).isEqualTo(s);
    }
  }

  @Test
  void rejectsMalformedAndOutOfRangeRates() {
    for (String bad : new String[] {"", "50", "/10s", "50/", "x/1s", "50/10", "0/1s", "-1/1s", "5/0s", "5/2d"}) {
      assertThatThrownBy(() -> Rates.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void everyRateDefaultInTheSchemaParses() {
    for (ConfigKey k : ConfigSchema.KEYS) {
      if (k.type() == ConfigKey.Type.RATE) {
        assertThat(Rates.parse(k.defaultText()).isOff()).as(k.path()).isFalse();
      }
    }
  }
}
