package io.parley.server.bench.peer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PeerPayloadTest {
  @Test
  void roundTripsAtThePayloadSize() {
    byte[] p = PeerPayload.encode(7, 123456, 987654321012L, 100);
    assertThat(p).hasSize(100);
    assertThat(new String(p, StandardCharsets.US_ASCII)).startsWith("7:123456:987654321012:xxx");
    long[] seen = new long[3];
    assertThat(PeerPayload.parse(p, 0, p.length, (s, c, n) -> {
      seen[0] = s;
      seen[1] = c;
      seen[2] = n;
    })).isTrue();
    assertThat(seen).containsExactly(7, 123456, 987654321012L);
  }

  @Test
  void growsBeyondATooSmallSizeAndKeepsNegativeTimes() {
    byte[] p = PeerPayload.encode(1, 2, -3, 4);
    assertThat(new String(p, StandardCharsets.US_ASCII)).isEqualTo("1:2:-3:");
    long[] n = new long[1];
    assertThat(PeerPayload.parse(p, 0, p.length, (s, c, t) -> n[0] = t)).isTrue();
    assertThat(n[0]).isEqualTo(-3);
  }

  @Test
  void refusesOtherBytes() {
    for (String bad : new String[] {"", "1:2:3", "a:2:3:", "1::3:", "1:2:3x", "99999999999:1:1:", "1:1234567890123456789:1:"}) {
      byte[] b = bad.getBytes(StandardCharsets.US_ASCII);
      assertThat(PeerPayload.parse(b, 0, b.length, (s, c, t) -> {})).as(bad).isFalse();
    }
  }

  @Test
  void randomInputIsParsedOrRefusedWithoutThrowing() {
    Random random = new Random(System.nanoTime());
    byte[] alphabet = "0123456789:-x".getBytes(StandardCharsets.US_ASCII);
    for (int run = 0; run < 20_000; run++) {
      byte[] b = new byte[random.nextInt(30)];
      for (int i = 0; i < b.length; i++) {
        b[i] = random.nextInt(5) == 0 ? (byte) random.nextInt(256) : alphabet[random.nextInt(alphabet.length)];
      }
      PeerPayload.parse(b, 0, b.length, (s, c, t) -> assertThat(s).isNotNegative());
    }
  }
}
