package io.parley.server.admin;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.GetReceipts;
import io.parley.protocol.v1.SendMessage;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.delivery.DeliveryService;
import io.parley.server.gateway.http.HttpReply;
import io.parley.server.messaging.MessageService;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The message routes of the admin API: post a message (as a user, or as the system when no user is
 * named), read a conversation's history, and read its receipt positions. Stateless apart from its
 * collaborators; thread-safe.
 */
final class MessageRoutes {
  static final String TEXT_CONTENT_TYPE = "text/plain";
  static final String BINARY_CONTENT_TYPE = "application/octet-stream";

  private final MessageService messages;
  private final DeliveryService delivery;
  private final AdminJson json;

  MessageRoutes(MessageService messages, DeliveryService delivery, AdminJson json) {
    this.messages = Objects.requireNonNull(messages, "messages");
    this.delivery = Objects.requireNonNull(delivery, "delivery");
    this.json = Objects.requireNonNull(json, "json");
  }

  void register(PathRouter<AdminHandler> router) {
    router
        .add("POST", "/v1/admin/conversations/{id}/messages", this::send)
        .add("GET", "/v1/admin/conversations/{id}/messages", this::history)
        .add("GET", "/v1/admin/conversations/{id}/receipts", this::receipts);
  }

  private CompletableFuture<HttpReply> send(AdminRequest r) {
    AdminBodies.SendMessage body =
        json.readBody(r.call().body(), AdminBodies.SendMessage.class, false);
    String clientMsgId = Fields.required(body.clientMsgId(), "client_msg_id");
    Caller caller = ConversationRoutes.actingAs(Fields.optionalNonBlank(body.asUser(), "as_user"));
    if ((body.text() == null) == (body.bodyBase64() == null)) {
      throw ParleyException.badRequest("exactly one of \"text\" and \"body_base64\" is required");
    }
    ByteString content;
    String defaultType;
    if (body.text() != null) {
      content = ByteString.copyFrom(body.text(), StandardCharsets.UTF_8);
      defaultType = TEXT_CONTENT_TYPE;
    } else {
      content = decodeBase64(body.bodyBase64());
      defaultType = BINARY_CONTENT_TYPE;
    }
    String contentType = Fields.optionalNonBlank(body.contentType(), "content_type");
    long replyTo = body.replyToSeq() == null ? 0L : body.replyToSeq();
    if (replyTo < 0) {
      throw ParleyException.badRequest("field \"reply_to_seq\" must not be negative");
    }
    SendMessage request =
        SendMessage.newBuilder()
            .setConversationId(r.param("id"))
            .setClientMsgId(clientMsgId)
            .setContentType(contentType != null ? contentType : defaultType)
            .setBody(content)
            .setReplyToSeq(replyTo)
            .addAllMentions(Fields.userIds(body.mentions(), "mentions"))
            .build();
    return messages
        .send(caller, request)
        .thenApply(res -> json.proto(res.getDuplicate() ? 200 : 201, res));
  }

  private CompletableFuture<HttpReply> history(AdminRequest r) {
    GetHistory request =
        GetHistory.newBuilder()
            .setConversationId(r.param("id"))
            .setFromSeq(r.nonNegativeQuery("from_seq", 0L))
            .setDirection(direction(r.query("direction")))
            .setLimit(r.intQuery("limit", 0, 1, ConversationRoutes.MAX_PAGE_LIMIT))
            .build();
    return messages.history(Caller.system(), request).thenApply(page -> json.proto(200, page));
  }

  private CompletableFuture<HttpReply> receipts(AdminRequest r) {
    return delivery
        .receipts(
            Caller.system(), GetReceipts.newBuilder().setConversationId(r.param("id")).build())
        .thenApply(list -> json.proto(200, list));
  }

  private static Direction direction(String value) {
    if (value == null || value.equals("backward")) {
      return Direction.DIRECTION_BACKWARD;
    }
    if (value.equals("forward")) {
      return Direction.DIRECTION_FORWARD;
    }
    throw ParleyException.badRequest(
        "query parameter direction must be backward or forward, got \""
            + AdminRequest.abbreviate(value)
            + "\"");
  }

  private static ByteString decodeBase64(String value) {
    try {
      return ByteString.copyFrom(Base64.getDecoder().decode(value));
    } catch (IllegalArgumentException e) {
      throw ParleyException.badRequest("field \"body_base64\" is not valid base64");
    }
  }
}
