package io.parley.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.GetReceipts;
import io.parley.protocol.v1.SendMessage;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.http.HttpReply;
import org.junit.jupiter.api.Test;

class AdminMessageRoutesTest {
  private final AdminHarness h = new AdminHarness();
  private final RecordingServices s = h.services;
  private static final String MESSAGES = "/v1/admin/conversations/grp_1/messages";

  @Test
  void textMessageAsAUserIsSentAsThatUser() {
    HttpReply reply =
        h.call(
            "POST",
            MESSAGES,
            "{\"as_user\":\"alice\",\"client_msg_id\":\"c-1\",\"text\":\"héllo\","
                + "\"reply_to_seq\":3,\"mentions\":[\"bob\"]}");
    assertThat(reply.status()).isEqualTo(201);
    assertThat(AdminHarness.text(reply))
        .isEqualTo(
            "{\"conversationId\":\"grp_1\",\"seq\":\"8\",\"messageId\":\"msg_1\","
                + "\"timestampMs\":\"1700000000123\"}");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.adminAs("alice"));
    assertThat(s.onlyCall().request())
        .isEqualTo(
            SendMessage.newBuilder()
                .setConversationId("grp_1")
                .setClientMsgId("c-1")
                .setContentType("text/plain")
                .setBody(ByteString.copyFromUtf8("héllo"))
                .setReplyToSeq(3)
                .addMentions("bob")
                .build());
  }

  @Test
  void messageWithoutAUserIsASystemMessage() {
    h.call("POST", MESSAGES, "{\"client_msg_id\":\"c-2\",\"text\":\"maintenance tonight\"}");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.system());
  }

  @Test
  void base64BodyIsDecodedAndDefaultsToOctetStream() {
    h.call("POST", MESSAGES, "{\"client_msg_id\":\"c-3\",\"body_base64\":\"AAH/\"}");
    SendMessage sent = (SendMessage) s.onlyCall().request();
    assertThat(sent.getBody()).isEqualTo(ByteString.copyFrom(new byte[] {0, 1, (byte) 0xff}));
    assertThat(sent.getContentType()).isEqualTo("application/octet-stream");
  }

  @Test
  void explicitContentTypeIsKept() {
    h.call(
        "POST",
        MESSAGES,
        "{\"client_msg_id\":\"c-4\",\"body_base64\":\"e30=\",\"content_type\":\"application/json\"}");
    assertThat(((SendMessage) s.onlyCall().request()).getContentType())
        .isEqualTo("application/json");
  }

  @Test
  void resendOfAnAcceptedMessageAnswers200WithDuplicate() {
    s.sendDuplicate = true;
    HttpReply reply = h.call("POST", MESSAGES, "{\"client_msg_id\":\"c-1\",\"text\":\"x\"}");
    assertThat(reply.status()).isEqualTo(200);
    assertThat(AdminHarness.json(reply).get("duplicate").asBoolean()).isTrue();
  }

  @Test
  void conflictingResendIsA409() {
    s.failNextWith(RecordingServices.error(ErrorCode.CONFLICT));
    HttpReply reply = h.call("POST", MESSAGES, "{\"client_msg_id\":\"c-1\",\"text\":\"y\"}");
    assertThat(reply.status()).isEqualTo(409);
  }

  @Test
  void rateLimitedSendCarriesRetryAfter() {
    s.failNextWith(new ParleyException(ErrorCode.RATE_LIMITED, "slow down", 200));
    HttpReply reply = h.call("POST", MESSAGES, "{\"client_msg_id\":\"c-1\",\"text\":\"y\"}");
    assertThat(reply.status()).isEqualTo(429);
    assertThat(reply.headers()).containsEntry("Retry-After", "1");
  }

  @Test
  void historyDefaultsToBackwardFromTheNewestAsSystem() {
    HttpReply reply = h.call("GET", MESSAGES, "");
    assertThat(reply.status()).isEqualTo(200);
    JsonNode body = AdminHarness.json(reply);
    assertThat(body.get("hasMore").asBoolean()).isTrue();
    JsonNode event = body.get("events").get(0);
    assertThat(event.get("seq").asText()).isEqualTo("5");
    assertThat(event.get("messagePosted").get("body").asText()).isEqualTo("aGk=");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.system());
    assertThat(s.onlyCall().request())
        .isEqualTo(
            GetHistory.newBuilder()
                .setConversationId("grp_1")
                .setDirection(Direction.DIRECTION_BACKWARD)
                .build());
  }

  @Test
  void historyForwardFromASeqWithALimit() {
    h.call("GET", MESSAGES + "?from_seq=10&direction=forward&limit=50", "");
    assertThat(s.onlyCall().request())
        .isEqualTo(
            GetHistory.newBuilder()
                .setConversationId("grp_1")
                .setFromSeq(10)
                .setDirection(Direction.DIRECTION_FORWARD)
                .setLimit(50)
                .build());
  }

  @Test
  void receiptsAreReadAsSystem() {
    HttpReply reply = h.call("GET", "/v1/admin/conversations/grp_1/receipts", "");
    JsonNode receipt = AdminHarness.json(reply).get("receipts").get(0);
    assertThat(receipt.get("userId").asText()).isEqualTo("bob");
    assertThat(receipt.get("readSeq").asText()).isEqualTo("3");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.system());
    assertThat(s.onlyCall().request())
        .isEqualTo(GetReceipts.newBuilder().setConversationId("grp_1").build());
  }
}
