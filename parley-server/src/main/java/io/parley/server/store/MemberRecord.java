package io.parley.server.store;

import io.parley.protocol.v1.Role;
import java.util.Objects;

/** A user's membership of a conversation. Exists only while the user is a member. */
public record MemberRecord(
    String conversationId, String userId, Role role, long joinedAtMs, long joinedSeq) {
  public MemberRecord {
    Objects.requireNonNull(conversationId, "conversationId");
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(role, "role");
  }
}
