package io.parley.server.gateway.ws;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SyncResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

  private static final ClientFrame SEND =
      ClientFrame.newBuilder()
          .setRequestId(42)
          .setSendMessage(
              SendMessage.newBuilder()
                  .setConversationId("c1")
                  .setClientMsgId("k1")
                  .setContentType("text/plain")
                  .setBody(ByteString.copyFromUtf8("hello")))
          .build();

  private static InboundFrame decodeThrough(Subprotocol p, WebSocketFrame frame) {
    EmbeddedChannel ch = new EmbeddedChannel(new FrameCodec(p));
    ch.writeInbound(frame);
    InboundFrame in = ch.readInbound();
    assertThat(ch.finish()).isFalse();
    return in;
  }

  @Test
  void binaryFrameOnProtoDecodesToTheClientFrame() {
    InboundFrame in =
        decodeThrough(Subprotocol.PROTO, new BinaryWebSocketFrame(Unpooled.wrappedBuffer(SEND.toByteArray())));
    assertThat(in).isEqualTo(new InboundFrame.Decoded(SEND));
  }

  @Test
  void textFrameOnJsonDecodesToTheClientFrame() throws Exception {
    String json = JsonFormat.printer().print(SEND);
    InboundFrame in = decodeThrough(Subprotocol.JSON, new TextWebSocketFrame(json));
    assertThat(in).isEqualTo(new InboundFrame.Decoded(SEND));
  }

  @Test
  void jsonAcceptsNumericAndStringRequestIdsAndIgnoresUnknownFields() {
    InboundFrame in =
        decodeThrough(
            Subprotocol.JSON,
            new TextWebSocketFrame(
                "{\"requestId\":7,\"futureField\":{\"x\":1},\"authenticate\":{\"token\":\"t\"}}"));
    assertThat(in)
        .isEqualTo(
            new InboundFrame.Decoded(
                ClientFrame.newBuilder()
                    .setRequestId(7)
                    .setAuthenticate(Authenticate.newBuilder().setToken("t"))
                    .build()));
  }

  @Test
  void unknownRequestKindDecodesWithNoRequestSet() {
    // Field 99 is not a request kind this server knows: protobuf keeps it as an unknown field.
    byte[] bytes = {0x08, 0x05, (byte) 0x9a, 0x06, 0x00};
    InboundFrame in =
        decodeThrough(Subprotocol.PROTO, new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes)));
    assertThat(in).isInstanceOf(InboundFrame.Decoded.class);
    ClientFrame f = ((InboundFrame.Decoded) in).frame();
    assertThat(f.getRequestId()).isEqualTo(5);
    assertThat(f.getRequestCase()).isEqualTo(ClientFrame.RequestCase.REQUEST_NOT_SET);
  }

  @Test
  void garbageBytesAreMalformedNotAnException() {
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02};
    InboundFrame in =
        decodeThrough(Subprotocol.PROTO, new BinaryWebSocketFrame(Unpooled.wrappedBuffer(garbage)));
    assertThat(in).isInstanceOf(InboundFrame.Malformed.class);
  }

  @Test
  void invalidJsonIsMalformed() {
    InboundFrame in = decodeThrough(Subprotocol.JSON, new TextWebSocketFrame("{\"requestId\": nope"));
    assertThat(in).isInstanceOf(InboundFrame.Malformed.class);
  }

  @Test
  void textFrameOnProtoIsTheWrongFrameType() {
    InboundFrame in = decodeThrough(Subprotocol.PROTO, new TextWebSocketFrame("{\"requestId\":1}"));
    assertThat(in).isInstanceOf(InboundFrame.Malformed.class);
    assertThat(((InboundFrame.Malformed) in).reason()).contains("text frames are not accepted").contains("parley.v1.proto");
  }

  @Test
  void binaryFrameOnJsonIsTheWrongFrameType() {
    InboundFrame in =
        decodeThrough(Subprotocol.JSON, new BinaryWebSocketFrame(Unpooled.wrappedBuffer(SEND.toByteArray())));
    assertThat(((InboundFrame.Malformed) in).reason()).contains("binary frames are not accepted").contains("parley.v1.json");
  }

  @Test
  void controlFramesPassThrough() {
    EmbeddedChannel ch = new EmbeddedChannel(new FrameCodec(Subprotocol.PROTO));
    ch.writeInbound(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2})));
    PingWebSocketFrame ping = ch.readInbound();
    assertThat(ByteBufUtil.getBytes(ping.content())).containsExactly(1, 2);
    ping.release();
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void outboundFrameEncodesAsBinaryForProtoAndTextForJson() throws Exception {
    ServerFrame frame =
        ServerFrame.newBuilder().setRequestId(9).setSyncResult(SyncResult.newBuilder().setCursor("abc").setComplete(true)).build();
    OutboundFrame out = OutboundFrame.of(frame);

    EmbeddedChannel proto = new EmbeddedChannel(new FrameCodec(Subprotocol.PROTO));
    proto.writeOutbound(out);
    BinaryWebSocketFrame bin = proto.readOutbound();
    assertThat(ServerFrame.parseFrom(ByteBufUtil.getBytes(bin.content()))).isEqualTo(frame);
    bin.release();

    EmbeddedChannel json = new EmbeddedChannel(new FrameCodec(Subprotocol.JSON));
    json.writeOutbound(out);
    TextWebSocketFrame txt = json.readOutbound();
    ServerFrame.Builder parsed = ServerFrame.newBuilder();
    JsonFormat.parser().merge(txt.text(), parsed);
    assertThat(parsed.build()).isEqualTo(frame);
    assertThat(txt.text()).doesNotContain("\n").contains("\"syncResult\"");
    txt.release();
  }

  @Test
  void outboundFrameEncodesOncePerFormatForAllRecipients() {
    OutboundFrame out =
        OutboundFrame.events(
            List.of(Event.newBuilder().setConversationId("c").setSeq(1).build(),
                Event.newBuilder().setConversationId("c").setSeq(2).build()));
    assertThat(out.frame().hasEventBatch()).isTrue();
    assertThat(out.binary()).isSameAs(out.binary());
    assertThat(out.json()).isSameAs(out.json());
    WebSocketFrame a = out.toWebSocketFrame(Subprotocol.PROTO);
    WebSocketFrame b = out.toWebSocketFrame(Subprotocol.PROTO);
    assertThat(a.content().array()).isSameAs(b.content().array());
    a.release();
    b.release();
  }

  @Property(tries = 200)
  void anySendMessageRoundTripsThroughBothEncodings(
      @ForAll @LongRange(min = 1) long requestId,
      @ForAll @StringLength(max = 40) String conversationId,
      @ForAll @Size(max = 64) byte[] body,
      @ForAll @Size(max = 3) List<@StringLength(max = 10) String> mentions)
      throws Exception {
    ClientFrame f =
        ClientFrame.newBuilder()
            .setRequestId(requestId)
            .setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId(conversationId)
                    .setBody(ByteString.copyFrom(body))
                    .addAllMentions(mentions))
            .build();
    InboundFrame bin = FrameCodec.decodeData(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(f.toByteArray())), Subprotocol.PROTO);
    assertThat(bin).isEqualTo(new InboundFrame.Decoded(f));
    InboundFrame txt =
        FrameCodec.decodeData(
            new TextWebSocketFrame(Unpooled.wrappedBuffer(JsonFormat.printer().print(f).getBytes(StandardCharsets.UTF_8))),
            Subprotocol.JSON);
    assertThat(txt).isEqualTo(new InboundFrame.Decoded(f));
  }

  @Property(tries = 200)
  void anyServerEventRoundTripsThroughOutboundFrame(
      @ForAll @LongRange(min = 1) long seq, @ForAll @StringLength(max = 30) String text) throws Exception {
    Event e =
        Event.newBuilder()
            .setConversationId("c")
            .setSeq(seq)
            .setMessagePosted(MessagePosted.newBuilder().setBody(ByteString.copyFromUtf8(text)))
            .build();
    OutboundFrame out = OutboundFrame.events(List.of(e));
    assertThat(ServerFrame.parseFrom(out.binary()).getEvent()).isEqualTo(e);
    ServerFrame.Builder b = ServerFrame.newBuilder();
    JsonFormat.parser().merge(new String(out.json(), StandardCharsets.UTF_8), b);
    assertThat(b.getEvent()).isEqualTo(e);
  }
}
