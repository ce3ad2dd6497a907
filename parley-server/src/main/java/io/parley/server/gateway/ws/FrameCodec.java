package io.parley.server.gateway.ws;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.parley.protocol.v1.ClientFrame;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * Translates between WebSocket data frames and the protocol's messages for one connection.
 *
 * <p>Inbound, every binary or text frame becomes an {@link InboundFrame}: {@link
 * InboundFrame.Decoded} holding the {@link ClientFrame}, or {@link InboundFrame.Malformed} when the
 * bytes do not parse or the frame type does not match the negotiated subprotocol (binary frames
 * for {@code parley.v1.proto}, text frames for {@code parley.v1.json}). Decoding never fails the
 * channel: the session answers a malformed frame with a {@code BAD_REQUEST} error and keeps the
 * connection. Control frames pass through unchanged.
 *
 * <p><b>Unknown fields are accepted in both encodings</b>, for forward compatibility: protobuf
 * binary parsing ignores unknown field numbers by design, and the JSON parser is configured with
 * {@code ignoringUnknownFields()} so that a newer client talking JSON to an older server behaves
 * exactly like one talking protobuf. A request whose kind is unknown to this server therefore
 * arrives with no request set and is answered with {@code UNSUPPORTED}.
 *
 * <p>Outbound, an {@link OutboundFrame} becomes a binary or text frame using the holder's cached
 * encoding, so a frame fanned out to many sessions is encoded once per format.
 *
 * <p>Not sharable: one instance per channel (it knows the channel's subprotocol).
 */
public final class FrameCodec extends MessageToMessageCodec<WebSocketFrame, OutboundFrame> {
  private static final JsonFormat.Parser JSON_PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final JsonFormat.Printer JSON_PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();
  private static final int MAX_REASON_CHARS = 200;

  private final Subprotocol subprotocol;

  public FrameCodec(Subprotocol subprotocol) {
    this.subprotocol = Objects.requireNonNull(subprotocol, "subprotocol");
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) {
    if (frame instanceof BinaryWebSocketFrame || frame instanceof TextWebSocketFrame) {
      out.add(decodeData(frame, subprotocol));
    } else {
      out.add(frame.retain());
    }
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, OutboundFrame frame, List<Object> out) {
    out.add(frame.toWebSocketFrame(subprotocol));
  }

  /** Decodes one data frame; never throws. Does not release the frame. */
  public static InboundFrame decodeData(WebSocketFrame frame, Subprotocol subprotocol) {
    boolean binary = frame instanceof BinaryWebSocketFrame;
    if (!binary && !(frame instanceof TextWebSocketFrame)) {
      return new InboundFrame.Malformed("unexpected frame type " + frame.getClass().getSimpleName());
    }
    if (binary != subprotocol.binary()) {
      return new InboundFrame.Malformed(
          (binary ? "binary" : "text")
              + " frames are not accepted with subprotocol "
              + subprotocol.wireName()
              + "; send "
              + (subprotocol.binary() ? "binary" : "text")
              + " frames");
    }
    ByteBuf content = frame.content();
    try {
      if (binary) {
        return new InboundFrame.Decoded(ClientFrame.parseFrom(content.nioBuffer()));
      }
      ClientFrame.Builder b = ClientFrame.newBuilder();
      JSON_PARSER.merge(content.toString(StandardCharsets.UTF_8), b);
      return new InboundFrame.Decoded(b.build());
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return new InboundFrame.Malformed(truncate(String.valueOf(e.getMessage())));
    }
  }

  /** The canonical JSON mapping of a message on one line (as sent on {@code parley.v1.json}). */
  public static String toJson(MessageOrBuilder message) {
    try {
      return JSON_PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only Any fields with unknown types fail to print; the protocol has none.
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  private static String truncate(String s) {
    return s.length() <= MAX_REASON_CHARS ? s : s.substring(0, MAX_REASON_CHARS) + "...";
  }
}
