package io.parley.client.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.parley.client.Subprotocol;
import io.parley.protocol.v1.ServerFrame;
import java.io.IOException;

/**
 * Encodes protocol messages into WebSocket frames and back, in one of the two subprotocols:
 * protobuf in binary frames or the canonical protobuf JSON mapping in text frames. Unknown fields
 * are ignored when decoding, so a newer server can add fields. Immutable and thread-safe.
 */
public abstract class FrameCodec {

  /** The codec of a subprotocol. */
  public static FrameCodec of(Subprotocol subprotocol) {
    return switch (subprotocol) {
      case PROTO -> Proto.INSTANCE;
      case JSON -> Json.INSTANCE;
    };
  }

  private FrameCodec() {}

  /** Encodes one message into one frame (the caller owns the frame and its buffer). */
  public abstract WebSocketFrame encode(MessageOrBuilder message, ByteBufAllocator alloc);

  /**
   * Merges one frame into {@code builder} and returns it. Does not release the frame.
   *
   * @throws IOException when the frame has the wrong type for the subprotocol or is malformed
   */
  public abstract <B extends Message.Builder> B decode(WebSocketFrame frame, B builder)
      throws IOException;

  /** Decodes a frame from the server. */
  public ServerFrame decodeServerFrame(WebSocketFrame frame) throws IOException {
    return decode(frame, ServerFrame.newBuilder()).build();
  }

  private static final class Proto extends FrameCodec {
    static final Proto INSTANCE = new Proto();

    @Override
    public WebSocketFrame encode(MessageOrBuilder message, ByteBufAllocator alloc) {
      Message m = message instanceof Message.Builder b ? b.build() : (Message) message;
      byte[] bytes = m.toByteArray();
      ByteBuf buf = alloc.buffer(bytes.length);
      buf.writeBytes(bytes);
      return new BinaryWebSocketFrame(buf);
    }

    @Override
    public <B extends Message.Builder> B decode(WebSocketFrame frame, B builder)
        throws IOException {
      if (!(frame instanceof BinaryWebSocketFrame)) {
        throw new InvalidProtocolBufferException(
            "expected a binary frame for parley.v1.proto, got " + frame.getClass().getSimpleName());
      }
      ByteBuf content = frame.content();
      builder.mergeFrom(CodedInputStream.newInstance(content.nioBuffer()));
      return builder;
    }
  }

  private static final class Json extends FrameCodec {
    static final Json INSTANCE = new Json();

    private final JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
    private final JsonFormat.Parser parser = JsonFormat.parser().ignoringUnknownFields();

    @Override
    public WebSocketFrame encode(MessageOrBuilder message, ByteBufAllocator alloc) {
      try {
        return new TextWebSocketFrame(printer.print(message));
      } catch (InvalidProtocolBufferException e) {
        // Only Any fields with unknown types fail to print; the protocol has none.
        throw new IllegalArgumentException("message cannot be printed as JSON", e);
      }
    }

    @Override
    public <B extends Message.Builder> B decode(WebSocketFrame frame, B builder)
        throws IOException {
      if (!(frame instanceof TextWebSocketFrame text)) {
        throw new InvalidProtocolBufferException(
            "expected a text frame for parley.v1.json, got " + frame.getClass().getSimpleName());
      }
      parser.merge(text.text(), builder);
      return builder;
    }
  }
}
