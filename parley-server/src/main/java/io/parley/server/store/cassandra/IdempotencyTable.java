package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.server.store.IdempotencyEntry;
import java.util.List;
import java.util.OptionalLong;

/**
 * The {@code idempotency_keys} table: {@code PRIMARY KEY ((conversation_id, user_id),
 * client_msg_id)}, one partition per sender and conversation. Thread-safe.
 */
final class IdempotencyTable {
  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement select;

  IdempotencyTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.idempotency_keys (conversation_id, user_id, client_msg_id, seq)"
                + " VALUES (?, ?, ?, ?) USING TIMESTAMP ?");
    this.select =
        cql.prepare(
            "SELECT seq FROM ${ks}.idempotency_keys"
                + " WHERE conversation_id = ? AND user_id = ? AND client_msg_id = ?");
  }

  static void check(IdempotencyEntry e) {
    Ids.check(e.conversationId());
    Ids.check(e.userId());
    Ids.check(e.clientMsgId());
    Ids.positive(e.seq(), "idempotency seq");
  }

  void put(List<BatchableStatement<?>> batch, IdempotencyEntry e, long timestamp) {
    batch.add(
        Cql.bind(insert, e.conversationId(), e.userId(), e.clientMsgId(), e.seq(), timestamp));
  }

  OptionalLong get(String conversationId, String userId, String clientMsgId) {
    Ids.check(conversationId);
    Ids.check(userId);
    Ids.check(clientMsgId);
    Row row = cql.one(Cql.bind(select, conversationId, userId, clientMsgId));
    return row == null ? OptionalLong.empty() : OptionalLong.of(row.getLong("seq"));
  }
}
