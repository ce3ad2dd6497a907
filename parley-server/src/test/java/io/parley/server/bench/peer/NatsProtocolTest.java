package io.parley.server.bench.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NatsProtocolTest {
  private final List<String> seen = new ArrayList<>();
  private final NatsProtocol parser =
      new NatsProtocol(
          new NatsProtocol.Handler() {
            @Override
            public void msg(long sid, byte[] buf, int from, int to) {
              seen.add("MSG " + sid + " " + new String(buf, from, to - from, StandardCharsets.US_ASCII));
            }

            @Override
            public void ping() {
              seen.add("PING");
            }

            @Override
            public void pong() {
              seen.add("PONG");
            }

            @Override
            public void error(String message) {
              seen.add(message);
            }
          });

  private void feed(String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    parser.feed(b, 0, b.length);
  }

  @Test
  void encodesCommands() {
    assertThat(NatsProtocol.sub("g1", 3)).isEqualTo("SUB g1 3\r\n");
    assertThat(new String(NatsProtocol.pub("g1", "hello".getBytes(StandardCharsets.US_ASCII)), StandardCharsets.US_ASCII))
        .isEqualTo("PUB g1 5\r\nhello\r\n");
    assertThat(NatsProtocol.CONNECT).startsWith("CONNECT {").endsWith("}\r\nPING\r\n");
  }

  @Test
  void parsesPackedOperations() {
    feed("INFO {\"server_id\":\"x\"}\r\n+OK\r\nMSG g1 1 5\r\nhello\r\nMSG g2 22 reply.to 0\r\n\r\nPING\r\npong\r\n-ERR 'Slow Consumer'\r\n");
    assertThat(seen).containsExactly("MSG 1 hello", "MSG 22 ", "PING", "PONG", "-ERR 'Slow Consumer'");
    assertThat(parser.buffered()).isZero();
  }

  @Test
  void payloadsMayContainCrLfAndOperationsMaySpanFrames() {
    String all = "MSG g1 1 6\r\na\r\nb\r\n\r\nMSG g1 1 3\r\nxyz\r\nPING\r\n";
    for (int cut = 0; cut <= all.length(); cut++) {
      seen.clear();
      feed(all.substring(0, cut));
      feed(all.substring(cut));
      assertThat(seen).as("cut at %d", cut).containsExactly("MSG 1 a\r\nb\r\n", "MSG 1 xyz", "PING");
      assertThat(parser.buffered()).isZero();
    }
  }

  @Test
  void refusesViolations() {
    for (String bad :
        new String[] {
          "HELLO\r\n", "MSG g1\r\n", "MSG g1 x 1\r\na\r\n", "MSG g1 1 -1\r\n", "MSG g1 1 2\r\nabc\r\n",
          "MSG a b c d e\r\n", "MSG g1 1 99999999999\r\n", "X".repeat(NatsProtocol.MAX_CONTROL_LINE + 1) + "\r\n"
        }) {
      NatsProtocol p = new NatsProtocol(parserHandler());
      byte[] b = bad.getBytes(StandardCharsets.US_ASCII);
      assertThatThrownBy(() -> p.feed(b, 0, b.length)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  private NatsProtocol.Handler parserHandler() {
    return new NatsProtocol.Handler() {
      @Override
      public void msg(long sid, byte[] buf, int from, int to) {}

      @Override
      public void ping() {}

      @Override
      public void pong() {}

      @Override
      public void error(String message) {}
    };
  }

  /** The server's bytes are untrusted: random input is parsed, buffered or refused, within bounds. */
  @Test
  void randomInputIsParsedBufferedOrRefused() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    String[] pieces = {"MSG ", "g1 ", "1 ", "5", "10 ", "\r\n", "hello", "PING", "PONG", "+OK", "-ERR x", "INFO {}", " ", "\r", "\n"};
    for (int run = 0; run < 5_000; run++) {
      NatsProtocol p =
          new NatsProtocol(
              new NatsProtocol.Handler() {
                @Override
                public void msg(long sid, byte[] buf, int from, int to) {
                  assertThat(from).as("seed %d", seed).isNotNegative().isLessThanOrEqualTo(to);
                  assertThat(to).as("seed %d", seed).isLessThanOrEqualTo(buf.length);
                  assertThat(sid).isNotNegative();
                }

                @Override
                public void ping() {}

                @Override
                public void pong() {}

                @Override
                public void error(String message) {}
              });
      try {
        for (int frame = 0; frame < 4; frame++) {
          StringBuilder s = new StringBuilder();
          for (int i = random.nextInt(12); i > 0; i--) {
            s.append(random.nextInt(6) == 0 ? String.valueOf((char) random.nextInt(128)) : pieces[random.nextInt(pieces.length)]);
          }
          byte[] b = s.toString().getBytes(StandardCharsets.ISO_8859_1);
          p.feed(b, 0, b.length);
          assertThat(p.buffered()).isLessThanOrEqualTo(NatsProtocol.MAX_CONTROL_LINE + NatsProtocol.MAX_PAYLOAD + 2 + b.length);
        }
      } catch (IllegalArgumentException expected) {
        // Refused as a protocol violation.
      }
    }
  }
}
