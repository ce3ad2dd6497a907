package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.server.store.ReceiptRecord;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code receipts} table: {@code PRIMARY KEY ((conversation_id), user_id)}, a user's cumulative
 * delivered/read positions in a conversation. Thread-safe.
 */
final class ReceiptsTable {
  private static final String COLUMNS =
      "conversation_id, user_id, delivered_seq, read_seq, read_message_ordinal";

  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement select;
  private final PreparedStatement page;

  ReceiptsTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.receipts (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.select =
        cql.prepare(
            "SELECT " + COLUMNS + " FROM ${ks}.receipts WHERE conversation_id = ? AND user_id = ?");
    this.page =
        cql.prepare(
            "SELECT "
                + COLUMNS
                + " FROM ${ks}.receipts WHERE conversation_id = ? AND user_id > ? LIMIT ?");
  }

  void put(List<BatchableStatement<?>> batch, ReceiptRecord r, long timestamp) {
    batch.add(
        Cql.bind(
            insert,
            r.conversationId(),
            r.userId(),
            r.deliveredSeq(),
            r.readSeq(),
            r.readMessageOrdinal(),
            timestamp));
  }

  Optional<ReceiptRecord> get(String conversationId, String userId) {
    Ids.check(conversationId);
    Ids.check(userId);
    return Optional.ofNullable(cql.one(Cql.bind(select, conversationId, userId)))
        .map(ReceiptsTable::receipt);
  }

  List<ReceiptRecord> list(String conversationId, String afterUserId, int limit) {
    Ids.check(conversationId);
    Objects.requireNonNull(afterUserId, "afterUserId");
    Ids.checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    return cql.rows(Cql.bind(page, conversationId, afterUserId, limit), ReceiptsTable::receipt);
  }

  private static ReceiptRecord receipt(Row r) {
    return new ReceiptRecord(
        r.getString("conversation_id"),
        r.getString("user_id"),
        r.getLong("delivered_seq"),
        r.getLong("read_seq"),
        r.getLong("read_message_ordinal"));
  }
}
