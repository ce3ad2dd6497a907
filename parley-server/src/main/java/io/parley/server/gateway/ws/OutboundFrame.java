package io.parley.server.gateway.ws;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.EventBatch;
import io.parley.protocol.v1.ServerFrame;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * A {@link ServerFrame} ready to be written to any number of sessions, encoded at most once per
 * format: the protobuf bytes and the JSON bytes are computed lazily on first use and cached.
 *
 * <p>Each write wraps the cached byte array in a fresh {@link io.netty.buffer.ByteBuf} (no copy).
 * This shares the encoding between sessions like a {@code retainedDuplicate()} of one buffer
 * would, but without a reference count that someone must release when the fan-out ends: the
 * array belongs to this holder and is garbage collected with it, so a frame dropped by a stalled
 * or closed session can never leak pooled memory.
 *
 * <p>Thread-safe: sessions on different event loops may encode and write the same instance
 * concurrently.
 */
public final class OutboundFrame {
  private final ServerFrame frame;
  private volatile byte[] binary;
  private volatile byte[] json;

  private OutboundFrame(ServerFrame frame) {
    this.frame = Objects.requireNonNull(frame, "frame");
  }

  /** Wraps a frame; nothing is encoded yet. */
  public static OutboundFrame of(ServerFrame frame) {
    return new OutboundFrame(frame);
  }

  /**
   * A push of committed events: a single {@code Event} frame for one event, an {@code
   * EventBatch} frame for several.
   */
  public static OutboundFrame events(List<Event> events) {
    if (events.isEmpty()) {
      throw new IllegalArgumentException("no events");
    }
    ServerFrame.Builder b = ServerFrame.newBuilder();
    if (events.size() == 1) {
      b.setEvent(events.get(0));
    } else {
      b.setEventBatch(EventBatch.newBuilder().addAllEvents(events));
    }
    return new OutboundFrame(b.build());
  }

  public ServerFrame frame() {
    return frame;
  }

  /** The protobuf encoding (cached). Callers must not modify the returned array. */
  public byte[] binary() {
    byte[] b = binary;
    if (b == null) {
      synchronized (this) {
        b = binary;
        if (b == null) {
          b = frame.toByteArray();
          binary = b;
        }
      }
    }
    return b;
  }

  /** The UTF-8 bytes of the JSON mapping (cached). Callers must not modify the returned array. */
  public byte[] json() {
    byte[] j = json;
    if (j == null) {
      synchronized (this) {
        j = json;
        if (j == null) {
          j = FrameCodec.toJson(frame).getBytes(StandardCharsets.UTF_8);
          json = j;
        }
      }
    }
    return j;
  }

  /** A new WebSocket frame for the subprotocol, sharing the cached encoding. */
  public WebSocketFrame toWebSocketFrame(Subprotocol subprotocol) {
    return subprotocol.binary()
        ? new BinaryWebSocketFrame(Unpooled.wrappedBuffer(binary()))
        : new TextWebSocketFrame(Unpooled.wrappedBuffer(json()));
  }
}
