package io.parley.server.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.parley.protocol.v1.Error;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.EventBatch;
import io.parley.protocol.v1.MemberJoined;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.TypingNotice;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class EventScannerTest {
  private record Seen(String conversationId, long seq, byte[] body) {}

  private static List<Seen> scan(ServerFrame frame) {
    List<Seen> seen = new ArrayList<>();
    EventScanner scanner =
        new EventScanner(
            (conv, seq, buf, at, length) -> {
              byte[] body = null;
              if (at >= 0) {
                body = new byte[length];
                buf.getBytes(at, body);
              }
              seen.add(new Seen(conv, seq, body));
            });
    scanner.scan(Unpooled.wrappedBuffer(frame.toByteArray()));
    return seen;
  }

  private static Event posted(String conv, long seq, byte[] body) {
    return Event.newBuilder()
        .setConversationId(conv)
        .setSeq(seq)
        .setTimestampMs(1_764_340_000_000L)
        .setActorUserId("alice")
        .setMessagePosted(
            MessagePosted.newBuilder()
                .setMessageId("m_1")
                .setClientMsgId("c1")
                .setContentType("application/octet-stream")
                .setBody(ByteString.copyFrom(body))
                .setReplyToSeq(3))
        .build();
  }

  @Property(tries = 200)
  void findsEveryEventOfABatchWithItsBody(
      @ForAll @IntRange(min = 0, max = 20) int count,
      @ForAll @StringLength(min = 1, max = 40) String conversationPrefix,
      @ForAll @LongRange(min = 1, max = Long.MAX_VALUE / 2) long firstSeq,
      @ForAll @IntRange(min = 0, max = 300) int bodyLength) {
    List<String> conversations = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      // Runs of one conversation exercise the scanner's reuse of the previous id.
      conversations.add(conversationPrefix + (i / 3));
    }
    byte[] body = new byte[bodyLength];
    for (int i = 0; i < bodyLength; i++) {
      body[i] = (byte) (i * 31 + count);
    }
    EventBatch.Builder batch = EventBatch.newBuilder();
    for (int i = 0; i < conversations.size(); i++) {
      batch.addEvents(posted(conversations.get(i), firstSeq + i, body));
    }
    List<Seen> seen = scan(ServerFrame.newBuilder().setEventBatch(batch).build());

    assertThat(seen).hasSize(conversations.size());
    for (int i = 0; i < seen.size(); i++) {
      assertThat(seen.get(i).conversationId()).isEqualTo(conversations.get(i));
      assertThat(seen.get(i).seq()).isEqualTo(firstSeq + i);
      assertThat(seen.get(i).body()).isEqualTo(body);
    }
  }

  @Test
  void reportsOtherEventsWithoutBodyAndIgnoresOtherPushes() {
    Event joined =
        Event.newBuilder()
            .setConversationId("grp_1")
            .setSeq(2)
            .setMemberJoined(MemberJoined.newBuilder().setUserId("bob"))
            .build();
    assertThat(scan(ServerFrame.newBuilder().setEvent(joined).build()))
        .containsExactly(new Seen("grp_1", 2, null));
    assertThat(
            scan(
                ServerFrame.newBuilder()
                    .setTyping(TypingNotice.newBuilder().setConversationId("grp_1").setUserId("bob"))
                    .build()))
        .isEmpty();
  }

  @Test
  void readsTheRequestIdOfAnswersAndZeroForPushes() {
    ServerFrame answer =
        ServerFrame.newBuilder()
            .setRequestId(300_000)
            .setError(Error.newBuilder().setCode(ErrorCode.BAD_REQUEST).setMessage("x"))
            .build();
    assertThat(EventScanner.requestId(Unpooled.wrappedBuffer(answer.toByteArray()))).isEqualTo(300_000);
    ServerFrame push = ServerFrame.newBuilder().setEvent(posted("c", 1, new byte[8])).build();
    ByteBuf buf = Unpooled.wrappedBuffer(push.toByteArray());
    assertThat(EventScanner.requestId(buf)).isZero();
    assertThat(buf.readerIndex()).isZero();
  }

  @Property(tries = 300)
  void randomBytesFailWithAnExceptionOrScanWithoutHanging(@ForAll @Size(max = 200) byte[] junk) {
    EventScanner scanner = new EventScanner((conv, seq, buf, at, length) -> {});
    // The server is trusted, but a broken frame must fail the scan, never loop or corrupt memory.
    assertThatCode(
            () -> {
              try {
                scanner.scan(Unpooled.wrappedBuffer(junk));
              } catch (IllegalArgumentException | IndexOutOfBoundsException expected) {
                // a malformed frame
              }
            })
        .doesNotThrowAnyException();
  }
}
