package io.parley.jmh;

import com.google.protobuf.ByteString;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.gateway.ws.FrameCodec;
import io.parley.server.gateway.ws.InboundFrame;
import io.parley.server.gateway.ws.OutboundFrame;
import io.parley.server.gateway.ws.Subprotocol;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The gateway's frame codec ({@link FrameCodec}, {@link OutboundFrame}): decoding a client's
 * {@code SendMessage} frame and encoding a pushed {@code MessagePosted} event, in both
 * subprotocols, with a 100-byte body (the fan-out benchmark's payload).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FrameCodecBenchmark {
  private byte[] sendBinary;
  private byte[] sendJson;
  private ServerFrame push;

  @Setup
  public void setup() {
    ByteString body = ByteString.copyFrom(new byte[100]);
    ClientFrame send =
        ClientFrame.newBuilder()
            .setRequestId(4711)
            .setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId("grp_01JB7Q2M4X0000000000000000")
                    .setClientMsgId("3f1c2a9e-8f0b-4c55-9d8e-0b7f4c3a2d11")
                    .setContentType("application/octet-stream")
                    .setBody(body))
            .build();
    sendBinary = send.toByteArray();
    sendJson = FrameCodec.toJson(send).getBytes(StandardCharsets.UTF_8);
    push =
        ServerFrame.newBuilder()
            .setEvent(
                Event.newBuilder()
                    .setConversationId("grp_01JB7Q2M4X0000000000000000")
                    .setSeq(123_456)
                    .setTimestampMs(1_764_340_000_000L)
                    .setActorUserId("bench-p0")
                    .setActorDeviceId("bench")
                    .setMessagePosted(
                        MessagePosted.newBuilder()
                            .setMessageId("m_01JB7Q2M4X0000000000000000")
                            .setClientMsgId("3f1c2a9e-8f0b-4c55-9d8e-0b7f4c3a2d11")
                            .setContentType("application/octet-stream")
                            .setBody(body)))
            .build();
  }

  @Benchmark
  public InboundFrame decodeSendProto() {
    BinaryWebSocketFrame frame = new BinaryWebSocketFrame(Unpooled.wrappedBuffer(sendBinary));
    try {
      return FrameCodec.decodeData(frame, Subprotocol.PROTO);
    } finally {
      frame.release();
    }
  }

  @Benchmark
  public InboundFrame decodeSendJson() {
    TextWebSocketFrame frame = new TextWebSocketFrame(Unpooled.wrappedBuffer(sendJson));
    try {
      return FrameCodec.decodeData(frame, Subprotocol.JSON);
    } finally {
      frame.release();
    }
  }

  @Benchmark
  public WebSocketFrame encodeEventProto() {
    return OutboundFrame.of(push).toWebSocketFrame(Subprotocol.PROTO);
  }

  @Benchmark
  public WebSocketFrame encodeEventJson() {
    return OutboundFrame.of(push).toWebSocketFrame(Subprotocol.JSON);
  }
}
