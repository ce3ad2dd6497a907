package io.parley.server.admin;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The admin-specific JSON bodies (requests and the few replies that are not protocol messages).
 * Field names are snake_case on the wire ({@link AdminJson} applies the naming strategy); a null
 * component means the field was absent or {@code null}. Values only: validation happens in the
 * route handlers, which answer with {@code BAD_REQUEST} and a message naming the field.
 */
final class AdminBodies {
  private AdminBodies() {}

  /** {@code POST /v1/admin/users}. */
  record CreateUser(String userId, String displayName, String avatarUrl) {}

  /** {@code PATCH /v1/admin/users/{id}}: absent fields keep their current value. */
  record UpdateUser(String displayName, String avatarUrl) {}

  /** {@code POST /v1/admin/users/{id}/tokens}. */
  record MintToken(Long ttlSeconds) {}

  /** A route that takes no fields: the body must be empty or {@code {}}. */
  record NoFields() {}

  /** {@code POST /v1/admin/conversations}. */
  record CreateConversation(
      String kind,
      String creator,
      List<String> members,
      String title,
      String description,
      @JsonProperty("public") Boolean isPublic) {}

  /** {@code POST /v1/admin/conversations/{id}/members}. */
  record AddMembers(List<String> userIds, String asUser) {}

  /** {@code POST /v1/admin/conversations/{id}/messages}. */
  record SendMessage(
      String asUser,
      String clientMsgId,
      String contentType,
      String text,
      String bodyBase64,
      Long replyToSeq,
      List<String> mentions) {}

  /** Reply of {@code POST /v1/admin/users/{id}/tokens}. */
  record TokenReply(String token, long expiresAtMs) {}

  /** {@code POST /v1/admin/webhooks}. */
  record CreateWebhook(String url, String secret, List<String> eventTypes) {}

  /** {@code POST /v1/admin/users/{id}/push-targets}. */
  record RegisterPushTarget(String deviceId, String provider, String token) {}

  /** {@code PUT /v1/admin/users/{id}/mutes/{conversation}}. */
  record SetMuted(Boolean muted) {}
}
