package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.parley.server.store.EventRef;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The {@code notify_pending} table: {@code PRIMARY KEY ((shard), conversation_id, seq)} with {@code
 * shard = hash(conversation_id) mod }{@value #SHARDS}, one row per event whose notifications are
 * not expanded yet. Every send writes (and soon deletes) a mark, so the marks are spread over shards
 * instead of one hot partition; {@link #list} merges the shards into (conversation, seq) order.
 * Thread-safe.
 */
final class NotifyPendingTable {
  /** Number of partitions; part of the on-disk format. */
  static final int SHARDS = 16;

  private static final Comparator<EventRef> ORDER =
      Comparator.comparing(EventRef::conversationId, Ids.CODE_POINT_ORDER)
          .thenComparingLong(EventRef::seq);

  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement delete;
  private final PreparedStatement select;
  private final PreparedStatement page;

  NotifyPendingTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.notify_pending (shard, conversation_id, seq) VALUES (?, ?, ?)"
                + " USING TIMESTAMP ?");
    this.delete =
        cql.prepare(
            "DELETE FROM ${ks}.notify_pending USING TIMESTAMP ?"
                + " WHERE shard = ? AND conversation_id = ? AND seq = ?");
    this.select =
        cql.prepare(
            "SELECT seq FROM ${ks}.notify_pending"
                + " WHERE shard = ? AND conversation_id = ? AND seq = ?");
    this.page =
        cql.prepare("SELECT conversation_id, seq FROM ${ks}.notify_pending WHERE shard = ? LIMIT ?");
  }

  static void check(EventRef ref) {
    Ids.check(ref.conversationId());
    Ids.positive(ref.seq(), "notify seq");
  }

  void mark(List<BatchableStatement<?>> batch, EventRef ref, long timestamp) {
    String c = ref.conversationId();
    batch.add(Cql.bind(insert, Shards.of(c, SHARDS), c, ref.seq(), timestamp));
  }

  void clear(List<BatchableStatement<?>> batch, EventRef ref, long timestamp) {
    String c = ref.conversationId();
    batch.add(Cql.bind(delete, timestamp, Shards.of(c, SHARDS), c, ref.seq()));
  }

  boolean contains(String conversationId, long seq) {
    Ids.check(conversationId);
    if (seq < 0) {
      return false;
    }
    return cql.one(Cql.bind(select, Shards.of(conversationId, SHARDS), conversationId, seq))
        != null;
  }

  List<EventRef> list(int limit) {
    Ids.checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    List<BoundStatement> shards = new ArrayList<>(SHARDS);
    for (int shard = 0; shard < SHARDS; shard++) {
      shards.add(Cql.bind(page, shard, limit));
    }
    return Shards.merge(
        cql,
        shards,
        r -> new EventRef(r.getString("conversation_id"), r.getLong("seq")),
        ORDER,
        limit);
  }
}
