package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.google.protobuf.InvalidProtocolBufferException;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.server.store.ConversationRecord;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * The {@code conversations} table: one row per conversation head ({@code PRIMARY KEY
 * (conversation_id)}), metadata as its protobuf bytes, enums as their numbers. Thread-safe.
 */
final class ConversationsTable {
  private static final String COLUMNS =
      "conversation_id, kind, metadata, is_public, receipt_visibility, created_at_ms, last_seq,"
          + " message_count, last_message_seq, member_count";

  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement select;

  ConversationsTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.conversations ("
                + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.select =
        cql.prepare("SELECT " + COLUMNS + " FROM ${ks}.conversations WHERE conversation_id = ?");
  }

  /** Validates on the submitting thread: an UNRECOGNIZED enum has no number to store. */
  static void check(ConversationRecord c) {
    Ids.check(c.conversationId());
    c.kind().getNumber();
    c.receiptVisibility().getNumber();
  }

  void put(List<BatchableStatement<?>> batch, ConversationRecord c, long timestamp) {
    batch.add(
        Cql.bind(
            insert,
            c.conversationId(),
            c.kind().getNumber(),
            ByteBuffer.wrap(c.metadata().toByteArray()),
            c.isPublic(),
            c.receiptVisibility().getNumber(),
            c.createdAtMs(),
            c.lastSeq(),
            c.messageCount(),
            c.lastMessageSeq(),
            c.memberCount(),
            timestamp));
  }

  Optional<ConversationRecord> get(String conversationId) {
    Ids.check(conversationId);
    return Optional.ofNullable(cql.one(Cql.bind(select, conversationId)))
        .map(ConversationsTable::conversation);
  }

  private static ConversationRecord conversation(Row r) {
    ConversationKind kind = ConversationKind.forNumber(r.getInt("kind"));
    ReceiptVisibility visibility = ReceiptVisibility.forNumber(r.getInt("receipt_visibility"));
    ConversationMetadata metadata;
    try {
      metadata = ConversationMetadata.parseFrom(r.getByteBuffer("metadata"));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt conversation record", e);
    }
    return new ConversationRecord(
        r.getString("conversation_id"),
        kind == null ? ConversationKind.UNRECOGNIZED : kind,
        metadata,
        r.getBoolean("is_public"),
        visibility == null ? ReceiptVisibility.UNRECOGNIZED : visibility,
        r.getLong("created_at_ms"),
        r.getLong("last_seq"),
        r.getLong("message_count"),
        r.getLong("last_message_seq"),
        r.getInt("member_count"));
  }
}
