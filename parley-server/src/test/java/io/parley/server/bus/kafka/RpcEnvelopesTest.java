package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.parley.protocol.cluster.v1.CallerKind;
import io.parley.protocol.cluster.v1.RpcCall;
import io.parley.protocol.cluster.v1.RpcReply;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import java.util.concurrent.CompletionException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class RpcEnvelopesTest {

  @Property
  void aCallRoundTripsThroughItsBytes(
      @ForAll @AlphaChars @StringLength(min = 1, max = 40) String user,
      @ForAll @StringLength(max = 40) String device,
      @ForAll @StringLength(max = 200) String text,
      @ForAll("nodeIds") String replyTo,
      @ForAll long correlationId,
      @ForAll long deadline)
      throws Exception {
    SendMessage request =
        SendMessage.newBuilder()
            .setConversationId("c1")
            .setClientMsgId("m1")
            .setContentType("text/plain").setBody(ByteString.copyFromUtf8(text))
            .build();
    Caller caller = Caller.user(user, device);
    byte[] bytes =
        RpcEnvelopes.call(RpcMethods.SEND, caller, request, replyTo, correlationId, deadline)
            .toByteArray();

    RpcEnvelopes.DecodedCall call = RpcEnvelopes.decodeCall(bytes);

    assertThat(call.method()).isSameAs(RpcMethods.SEND);
    assertThat(call.caller()).isEqualTo(caller);
    assertThat(call.request()).isEqualTo(request);
    assertThat(call.replyTo()).isEqualTo(replyTo);
    assertThat(call.correlationId()).isEqualTo(correlationId);
    assertThat(call.deadlineMs()).isEqualTo(deadline);
  }

  @Provide
  Arbitrary<String> nodeIds() {
    return Arbitraries.strings().withChars("abcXYZ019._-").ofMinLength(1).ofMaxLength(64);
  }

  @Property(tries = 2_000)
  void randomBytesNeverEscapeAsAnythingButMalformedRecord(@ForAll @Size(max = 300) byte[] bytes) {
    try {
      RpcEnvelopes.DecodedCall call = RpcEnvelopes.decodeCall(bytes);
      // Random bytes that happen to decode must still be a valid call.
      assertThat(RpcMethods.byId(call.method().id())).isPresent();
      assertThat(call.replyTo()).matches("[A-Za-z0-9._-]{1,64}");
    } catch (RpcEnvelopes.MalformedRecordException expected) {
      // the only allowed failure
    }
    try {
      RpcReply reply = RpcEnvelopes.decodeReply(bytes);
      assertThat(reply.getOutcomeCase()).isNotEqualTo(RpcReply.OutcomeCase.OUTCOME_NOT_SET);
    } catch (RpcEnvelopes.MalformedRecordException expected) {
      // the only allowed failure
    }
  }

  @Property(tries = 500)
  void mutatedValidCallsNeverEscapeAsAnythingButMalformedRecord(
      @ForAll int position, @ForAll byte value) {
    byte[] bytes =
        RpcEnvelopes.call(
                RpcMethods.SEND,
                Caller.user("alice", "d"),
                SendMessage.newBuilder().setConversationId("c").build(),
                "gw-1",
                1,
                2)
            .toByteArray();
    bytes[Math.floorMod(position, bytes.length)] = value;
    try {
      RpcEnvelopes.decodeCall(bytes);
    } catch (RpcEnvelopes.MalformedRecordException expected) {
      // fine
    }
  }

  @Test
  void invalidEnvelopesAreRejectedWithAReason() {
    RpcCall valid =
        RpcEnvelopes.call(
            RpcMethods.SEND, Caller.user("alice", "d"), SendMessage.getDefaultInstance(), "gw", 1, 2);
    assertThatThrownBy(() -> RpcEnvelopes.decodeCall(null))
        .isInstanceOf(RpcEnvelopes.MalformedRecordException.class);
    assertThatThrownBy(
            () -> RpcEnvelopes.decodeCall(valid.toBuilder().setMethodId(9_999).build().toByteArray()))
        .hasMessageContaining("unknown method");
    assertThatThrownBy(
            () -> RpcEnvelopes.decodeCall(valid.toBuilder().setReplyTo("../x").build().toByteArray()))
        .hasMessageContaining("reply_to");
    assertThatThrownBy(
            () ->
                RpcEnvelopes.decodeCall(
                    valid.toBuilder()
                        .setCallerKind(CallerKind.CALLER_KIND_UNSPECIFIED)
                        .build()
                        .toByteArray()))
        .hasMessageContaining("caller kind");
    assertThatThrownBy(
            () ->
                RpcEnvelopes.decodeCall(
                    valid.toBuilder()
                        .setRequest(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff}))
                        .build()
                        .toByteArray()))
        .hasMessageContaining("does not parse");
    assertThatThrownBy(() -> RpcEnvelopes.decodeReply(RpcReply.newBuilder().setCorrelationId(3).build().toByteArray()))
        .hasMessageContaining("outcome");
  }

  @Test
  void adminAndSystemCallersKeepTheirKind() throws Exception {
    for (Caller c : new Caller[] {Caller.adminAs("bob"), Caller.system()}) {
      RpcCall call =
          RpcEnvelopes.call(RpcMethods.SEND, c, SendMessage.getDefaultInstance(), "gw", 1, 2);
      assertThat(RpcEnvelopes.decodeCall(call.toByteArray()).caller()).isEqualTo(c);
    }
  }

  @Test
  void typedErrorsSurviveTheReply() throws Exception {
    ParleyException original = new ParleyException(ErrorCode.RATE_LIMITED, "slow down", 1234);
    RpcReply reply =
        RpcEnvelopes.decodeReply(
            RpcEnvelopes.failure(7, new CompletionException(original)).toByteArray());

    ParleyException back = RpcEnvelopes.exception(reply.getError());

    assertThat(reply.getCorrelationId()).isEqualTo(7);
    assertThat(back.code()).isEqualTo(ErrorCode.RATE_LIMITED);
    assertThat(back.getMessage()).isEqualTo("slow down");
    assertThat(back.retryAfterMs()).isEqualTo(1234);
  }

  @Test
  void unexpectedFailuresBecomeInternalWithoutLeakingDetails() throws Exception {
    RpcReply reply = RpcEnvelopes.failure(1, new IllegalStateException("secret path /etc"));
    assertThat(reply.getError().getCode()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(reply.getError().getMessage()).doesNotContain("secret");
  }

  @Test
  void successfulRepliesCarryTheResponse() throws Exception {
    SendResult result = SendResult.newBuilder().setSeq(5).setMessageId("m").build();
    RpcReply reply = RpcEnvelopes.decodeReply(RpcEnvelopes.reply(9, result).toByteArray());
    assertThat(RpcMethods.SEND.parseResponse(reply.getResponse().toByteArray())).isEqualTo(result);
  }
}
