package io.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.parley.client.Subprotocol;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ConversationCursor;
import io.parley.protocol.v1.ConversationDelta;
import io.parley.protocol.v1.Error;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.EventBatch;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import java.io.IOException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
  private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

  private static ServerFrame roundTripServer(Subprotocol protocol, ServerFrame frame)
      throws IOException {
    FrameCodec codec = FrameCodec.of(protocol);
    WebSocketFrame ws = codec.encode(frame, ALLOC);
    try {
      return codec.decodeServerFrame(ws);
    } finally {
      ws.release();
    }
  }

  private static ClientFrame roundTripClient(Subprotocol protocol, ClientFrame frame)
      throws IOException {
    FrameCodec codec = FrameCodec.of(protocol);
    WebSocketFrame ws = codec.encode(frame, ALLOC);
    try {
      return codec.decode(ws, ClientFrame.newBuilder()).build();
    } finally {
      ws.release();
    }
  }

  @Provide
  Arbitrary<Event> events() {
    return Combinators.combine(
            Arbitraries.strings().ofMaxLength(30),
            Arbitraries.longs().between(0, Long.MAX_VALUE),
            Arbitraries.longs(),
            Arbitraries.strings().ofMaxLength(10),
            Arbitraries.bytes().array(byte[].class).ofMaxSize(64),
            Arbitraries.strings().ofMaxLength(20).list().ofMaxSize(3))
        .as(
            (conv, seq, ts, actor, body, mentions) ->
                Event.newBuilder()
                    .setConversationId(conv)
                    .setSeq(seq)
                    .setTimestampMs(ts)
                    .setActorUserId(actor)
                    .setMessagePosted(
                        MessagePosted.newBuilder()
                            .setMessageId("m-" + seq)
                            .setClientMsgId(actor + seq)
                            .setContentType("application/octet-stream")
                            .setBody(ByteString.copyFrom(body))
                            .addAllMentions(mentions))
                    .build());
  }

  @Property
  void serverFramesSurviveBothEncodings(
      @ForAll @Size(max = 5) java.util.List<@From("events") Event> events,
      @ForAll long requestId,
      @ForAll String cursor,
      @ForAll boolean complete)
      throws IOException {
    ServerFrame batch =
        ServerFrame.newBuilder()
            .setRequestId(requestId)
            .setEventBatch(EventBatch.newBuilder().addAllEvents(events))
            .build();
    ServerFrame sync =
        ServerFrame.newBuilder()
            .setRequestId(requestId)
            .setSyncResult(
                SyncResult.newBuilder()
                    .addDeltas(ConversationDelta.newBuilder().addAllEvents(events))
                    .setCursor(cursor)
                    .setComplete(complete))
            .build();

    for (Subprotocol p : Subprotocol.values()) {
      assertThat(roundTripServer(p, batch)).isEqualTo(batch);
      assertThat(roundTripServer(p, sync)).isEqualTo(sync);
    }
  }

  @Property
  void clientFramesSurviveBothEncodings(
      @ForAll long requestId,
      @ForAll String text,
      @ForAll byte[] body,
      @ForAll long seq)
      throws IOException {
    ClientFrame send =
        ClientFrame.newBuilder()
            .setRequestId(requestId)
            .setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId(text)
                    .setClientMsgId(text + "-id")
                    .setContentType("text/plain")
                    .setBody(ByteString.copyFrom(body))
                    .setReplyToSeq(seq))
            .build();
    ClientFrame sync =
        ClientFrame.newBuilder()
            .setRequestId(requestId)
            .setSync(
                Sync.newBuilder()
                    .setCursor(text)
                    .addChannelCursors(
                        ConversationCursor.newBuilder().setConversationId(text).setSeq(seq)))
            .build();

    for (Subprotocol p : Subprotocol.values()) {
      assertThat(roundTripClient(p, send)).isEqualTo(send);
      assertThat(roundTripClient(p, sync)).isEqualTo(sync);
    }
  }

  @Test
  void jsonUsesTheCanonicalMappingInTextFrames() throws IOException {
    FrameCodec codec = FrameCodec.of(Subprotocol.JSON);
    ClientFrame frame =
        ClientFrame.newBuilder()
            .setRequestId(7)
            .setAuthenticate(Authenticate.newBuilder().setToken("t").setDeviceId("d"))
            .build();

    WebSocketFrame ws = codec.encode(frame, ALLOC);
    try {
      assertThat(ws).isInstanceOf(TextWebSocketFrame.class);
      assertThat(((TextWebSocketFrame) ws).text())
          .isEqualTo("{\"requestId\":\"7\",\"authenticate\":{\"token\":\"t\",\"deviceId\":\"d\"}}");
    } finally {
      ws.release();
    }
  }

  @Test
  void jsonIgnoresFieldsANewerServerAdds() throws IOException {
    TextWebSocketFrame ws =
        new TextWebSocketFrame(
            "{\"requestId\":\"3\",\"error\":{\"code\":\"RATE_LIMITED\",\"retryAfterMs\":\"1500\","
                + "\"futureField\":1},\"anotherFutureField\":{}}");
    try {
      ServerFrame decoded = FrameCodec.of(Subprotocol.JSON).decodeServerFrame(ws);
      assertThat(decoded)
          .isEqualTo(
              ServerFrame.newBuilder()
                  .setRequestId(3)
                  .setError(
                      Error.newBuilder().setCode(ErrorCode.RATE_LIMITED).setRetryAfterMs(1500))
                  .build());
    } finally {
      ws.release();
    }
  }

  @Test
  void aFrameOfTheWrongTypeIsRejected() {
    BinaryWebSocketFrame binary = new BinaryWebSocketFrame(ALLOC.buffer().writeByte(1));
    TextWebSocketFrame text = new TextWebSocketFrame("{}");
    try {
      assertThatThrownBy(() -> FrameCodec.of(Subprotocol.JSON).decodeServerFrame(binary))
          .isInstanceOf(InvalidProtocolBufferException.class);
      assertThatThrownBy(() -> FrameCodec.of(Subprotocol.PROTO).decodeServerFrame(text))
          .isInstanceOf(InvalidProtocolBufferException.class);
    } finally {
      binary.release();
      text.release();
    }
  }
}
