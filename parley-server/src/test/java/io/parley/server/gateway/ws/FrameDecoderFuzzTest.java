package io.parley.server.gateway.ws;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;

/**
 * Coverage-guided fuzz target (Jazzer) for the WebSocket frame decoders. The first input byte picks
 * the subprotocol (even: {@code parley.v1.proto}, odd: {@code parley.v1.json}), the rest is the
 * frame payload; decoding must return an {@link InboundFrame} and never throw.
 *
 * <p>In the normal suite Jazzer runs in regression mode: only the seed inputs under {@code
 * src/test/resources/.../FrameDecoderFuzzTestInputs/decodeAnyFrame} (valid frames of several
 * kinds) and any crash reproducers found earlier, in milliseconds. {@code ./mvnw -pl parley-server
 * -am test -Pfuzz} fuzzes for {@code maxDuration} (see docs/security.md, "Fuzzing").
 */
class FrameDecoderFuzzTest {

  @FuzzTest(maxDuration = "10m")
  void decodeAnyFrame(byte[] input) {
    if (input.length == 0) {
      return;
    }
    Subprotocol p = (input[0] & 1) == 0 ? Subprotocol.PROTO : Subprotocol.JSON;
    InboundFrame in = FrameCodecFuzzTest.decode(p, Arrays.copyOfRange(input, 1, input.length));
    assertThat(in).isNotNull();
  }
}
