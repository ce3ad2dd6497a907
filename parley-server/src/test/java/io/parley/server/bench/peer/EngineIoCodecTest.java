package io.parley.server.bench.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EngineIoCodecTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> strings(String packet) {
    byte[] b = bytes(packet);
    List<String> out = new ArrayList<>();
    int n =
        EngineIoCodec.strings(
            b, 0, b.length, (i, buf, from, to) -> out.add(i + "=" + new String(buf, from, to - from, StandardCharsets.UTF_8)));
    assertThat(n).isEqualTo(out.size());
    return out;
  }

  @Test
  void classifiesTheServersPackets() {
    assertThat(EngineIoCodec.kind(bytes("0{\"sid\":\"x\"}"), 0, 12)).isEqualTo(EngineIoCodec.Kind.OPEN);
    assertThat(EngineIoCodec.kind(bytes("2"), 0, 1)).isEqualTo(EngineIoCodec.Kind.PING);
    assertThat(EngineIoCodec.kind(bytes("40{\"sid\":\"y\"}"), 0, 13)).isEqualTo(EngineIoCodec.Kind.CONNECTED);
    assertThat(EngineIoCodec.kind(bytes("42[\"m\"]"), 0, 7)).isEqualTo(EngineIoCodec.Kind.EVENT);
    assertThat(EngineIoCodec.kind(bytes("431[]"), 0, 5)).isEqualTo(EngineIoCodec.Kind.ACK);
    assertThat(EngineIoCodec.kind(bytes("44{\"message\":\"no\"}"), 0, 18)).isEqualTo(EngineIoCodec.Kind.ERROR);
    assertThat(EngineIoCodec.kind(bytes("4"), 0, 1)).isEqualTo(EngineIoCodec.Kind.OTHER);
    assertThat(EngineIoCodec.kind(bytes(""), 0, 0)).isEqualTo(EngineIoCodec.Kind.OTHER);
    assertThat(EngineIoCodec.kind(bytes("6"), 0, 1)).isEqualTo(EngineIoCodec.Kind.OTHER);
  }

  @Test
  void encodesEventsWithAckIdsAndEscapes() {
    assertThat(EngineIoCodec.event(-1, "join", "g1")).isEqualTo("42[\"join\",\"g1\"]");
    assertThat(EngineIoCodec.event(7, "join", "a\"b\\c\n")).isEqualTo("427[\"join\",\"a\\\"b\\\\c\\u000a\"]");
    assertThat(new String(EngineIoCodec.event("pub", "g2", bytes("1:2:3:xx")), StandardCharsets.US_ASCII))
        .isEqualTo("42[\"pub\",\"g2\",\"1:2:3:xx\"]");
  }

  @Test
  void readsTheStringArgumentsOfAnEvent() {
    assertThat(strings("42[\"m\",\"g3\",\"0:5:99:xxx\"]")).containsExactly("0=m", "1=g3", "2=0:5:99:xxx");
    assertThat(strings("42/chat,12[ \"m\" , \"a\\\"b\" ]")).containsExactly("0=m", "1=a\\\"b");
    assertThat(strings("431[]")).isEmpty();
    // Stops at the first element that is not a string.
    assertThat(strings("42[\"m\",{\"x\":1},\"y\"]")).containsExactly("0=m");
  }

  @Test
  void refusesMalformedPackets() {
    for (String bad : new String[] {"", "4", "40[]", "42", "42{}", "42[", "42[\"m", "42[\"m\"", "42[\"m\" \"n\"]", "42[\"m\\"}) {
      byte[] b = bytes(bad);
      assertThatThrownBy(() -> EngineIoCodec.strings(b, 0, b.length, (i, buf, f, t) -> {}))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  /** The server's bytes are untrusted: any input is either parsed or refused, within bounds. */
  @Test
  void randomInputIsParsedOrRefusedNeverOutOfBounds() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    byte[] alphabet = bytes("42[]\",\\/ 0139mg:x{}");
    for (int run = 0; run < 20_000; run++) {
      byte[] b = new byte[2 + random.nextInt(40)];
      for (int i = 0; i < b.length; i++) {
        b[i] = random.nextInt(4) == 0 ? (byte) random.nextInt(256) : alphabet[random.nextInt(alphabet.length)];
      }
      if (random.nextBoolean()) {
        b[0] = '4';
        b[1] = '2';
      }
      int from = random.nextInt(2);
      int to = b.length - random.nextInt(2);
      EngineIoCodec.kind(b, from, to);
      try {
        EngineIoCodec.strings(
            b,
            from,
            to,
            (i, buf, f, t) ->
                assertThat(f).as("seed %d", seed).isBetween(from, to).isLessThanOrEqualTo(t));
      } catch (IllegalArgumentException expected) {
        // Refused as malformed.
      }
    }
  }
}
