package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.protocol.v1.Role;
import io.parley.server.store.MemberRecord;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Memberships, stored twice in one logged batch: {@code members} ({@code PRIMARY KEY
 * ((conversation_id), user_id)}) for a conversation's member list and {@code user_conversations}
 * ({@code PRIMARY KEY ((user_id), conversation_id)}) for a user's conversation list. A
 * hand-maintained table instead of a materialized view or index because both stay plain
 * partition reads and the batch keeps them in step. Thread-safe.
 */
final class MembersTable {
  private static final String VALUES = "role, joined_at_ms, joined_seq";

  private final Cql cql;
  private final PreparedStatement insertMember;
  private final PreparedStatement insertUserConversation;
  private final PreparedStatement deleteMember;
  private final PreparedStatement deleteUserConversation;
  private final PreparedStatement select;
  private final PreparedStatement membersPage;
  private final PreparedStatement conversationsPage;

  MembersTable(Cql cql) {
    this.cql = cql;
    this.insertMember =
        cql.prepare(
            "INSERT INTO ${ks}.members (conversation_id, user_id, "
                + VALUES
                + ") VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.insertUserConversation =
        cql.prepare(
            "INSERT INTO ${ks}.user_conversations (user_id, conversation_id, "
                + VALUES
                + ") VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.deleteMember =
        cql.prepare(
            "DELETE FROM ${ks}.members USING TIMESTAMP ? WHERE conversation_id = ? AND user_id = ?");
    this.deleteUserConversation =
        cql.prepare(
            "DELETE FROM ${ks}.user_conversations USING TIMESTAMP ?"
                + " WHERE user_id = ? AND conversation_id = ?");
    this.select =
        cql.prepare(
            "SELECT conversation_id, user_id, "
                + VALUES
                + " FROM ${ks}.members WHERE conversation_id = ? AND user_id = ?");
    this.membersPage =
        cql.prepare(
            "SELECT conversation_id, user_id, "
                + VALUES
                + " FROM ${ks}.members WHERE conversation_id = ? AND user_id > ? LIMIT ?");
    this.conversationsPage =
        cql.prepare(
            "SELECT conversation_id, user_id, "
                + VALUES
                + " FROM ${ks}.user_conversations WHERE user_id = ? AND conversation_id > ?"
                + " LIMIT ?");
  }

  /** Validates on the submitting thread: an UNRECOGNIZED role has no number to store. */
  static void check(MemberRecord m) {
    Ids.check(m.conversationId());
    Ids.check(m.userId());
    m.role().getNumber();
  }

  void put(List<BatchableStatement<?>> batch, MemberRecord m, long timestamp) {
    int role = m.role().getNumber();
    batch.add(
        Cql.bind(
            insertMember,
            m.conversationId(),
            m.userId(),
            role,
            m.joinedAtMs(),
            m.joinedSeq(),
            timestamp));
    batch.add(
        Cql.bind(
            insertUserConversation,
            m.userId(),
            m.conversationId(),
            role,
            m.joinedAtMs(),
            m.joinedSeq(),
            timestamp));
  }

  void remove(List<BatchableStatement<?>> batch, MemberRecord m, long timestamp) {
    batch.add(Cql.bind(deleteMember, timestamp, m.conversationId(), m.userId()));
    batch.add(Cql.bind(deleteUserConversation, timestamp, m.userId(), m.conversationId()));
  }

  Optional<MemberRecord> get(String conversationId, String userId) {
    Ids.check(conversationId);
    Ids.check(userId);
    return Optional.ofNullable(cql.one(Cql.bind(select, conversationId, userId)))
        .map(MembersTable::member);
  }

  List<MemberRecord> members(String conversationId, String afterUserId, int limit) {
    Ids.check(conversationId);
    Objects.requireNonNull(afterUserId, "afterUserId");
    Ids.checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    return cql.rows(
        Cql.bind(membersPage, conversationId, afterUserId, limit), MembersTable::member);
  }

  List<MemberRecord> userConversations(String userId, String afterConversationId, int limit) {
    Ids.check(userId);
    Objects.requireNonNull(afterConversationId, "afterConversationId");
    Ids.checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    return cql.rows(
        Cql.bind(conversationsPage, userId, afterConversationId, limit), MembersTable::member);
  }

  private static MemberRecord member(Row r) {
    Role role = Role.forNumber(r.getInt("role"));
    return new MemberRecord(
        r.getString("conversation_id"),
        r.getString("user_id"),
        role == null ? Role.UNRECOGNIZED : role,
        r.getLong("joined_at_ms"),
        r.getLong("joined_seq"));
  }
}
