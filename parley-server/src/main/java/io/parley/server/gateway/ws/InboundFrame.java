package io.parley.server.gateway.ws;

import io.parley.protocol.v1.ClientFrame;
import java.util.Objects;

/**
 * A data frame as {@link FrameCodec} hands it to the session: either a decoded request or the
 * reason it could not be decoded. Immutable.
 */
public sealed interface InboundFrame {

  /** A frame that decoded into a {@link ClientFrame} (not yet validated beyond syntax). */
  record Decoded(ClientFrame frame) implements InboundFrame {
    public Decoded {
      Objects.requireNonNull(frame, "frame");
    }
  }

  /**
   * A frame that could not be decoded (bad bytes, bad JSON, or the wrong frame type for the
   * negotiated subprotocol).
   *
   * @param reason a short description safe to return to the client
   */
  record Malformed(String reason) implements InboundFrame {
    public Malformed {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
