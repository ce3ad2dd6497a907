package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.parley.server.store.StoreWrite;
import java.util.List;

/**
 * The {@code mutes} table: {@code PRIMARY KEY ((user_id), conversation_id)}, a row while the user
 * has muted the conversation's push notifications. Thread-safe.
 */
final class MutesTable {
  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement delete;
  private final PreparedStatement select;

  MutesTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.mutes (user_id, conversation_id) VALUES (?, ?) USING TIMESTAMP ?");
    this.delete =
        cql.prepare(
            "DELETE FROM ${ks}.mutes USING TIMESTAMP ? WHERE user_id = ? AND conversation_id = ?");
    this.select =
        cql.prepare(
            "SELECT conversation_id FROM ${ks}.mutes WHERE user_id = ? AND conversation_id = ?");
  }

  static void check(StoreWrite.MuteChange m) {
    Ids.check(m.userId());
    Ids.check(m.conversationId());
  }

  void apply(List<BatchableStatement<?>> batch, StoreWrite.MuteChange m, long timestamp) {
    batch.add(
        m.muted()
            ? Cql.bind(insert, m.userId(), m.conversationId(), timestamp)
            : Cql.bind(delete, timestamp, m.userId(), m.conversationId()));
  }

  boolean isMuted(String userId, String conversationId) {
    Ids.check(userId);
    Ids.check(conversationId);
    return cql.one(Cql.bind(select, userId, conversationId)) != null;
  }
}
