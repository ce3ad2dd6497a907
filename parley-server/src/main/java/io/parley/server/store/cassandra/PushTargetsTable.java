package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.server.store.PushTargetRecord;
import java.util.List;
import java.util.Optional;

/**
 * The {@code push_targets} table: {@code PRIMARY KEY ((user_id), target_id)}, a user's registered
 * devices, read together whenever a push fans out to the user. The provider's token is stored as
 * {@code device_token} because {@code token} is a CQL keyword. Thread-safe.
 */
final class PushTargetsTable {
  private static final String COLUMNS =
      "user_id, target_id, device_id, provider, device_token, created_at_ms";

  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement delete;
  private final PreparedStatement select;
  private final PreparedStatement page;

  PushTargetsTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.push_targets (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)"
                + " USING TIMESTAMP ?");
    this.delete =
        cql.prepare(
            "DELETE FROM ${ks}.push_targets USING TIMESTAMP ? WHERE user_id = ? AND target_id = ?");
    this.select =
        cql.prepare(
            "SELECT " + COLUMNS + " FROM ${ks}.push_targets WHERE user_id = ? AND target_id = ?");
    this.page = cql.prepare("SELECT " + COLUMNS + " FROM ${ks}.push_targets WHERE user_id = ? LIMIT ?");
  }

  static void check(PushTargetRecord t) {
    Ids.check(t.userId());
    Ids.check(t.targetId());
  }

  void put(List<BatchableStatement<?>> batch, PushTargetRecord t, long timestamp) {
    batch.add(
        Cql.bind(
            insert,
            t.userId(),
            t.targetId(),
            t.deviceId(),
            t.provider(),
            t.token(),
            t.createdAtMs(),
            timestamp));
  }

  void remove(List<BatchableStatement<?>> batch, PushTargetRecord t, long timestamp) {
    batch.add(Cql.bind(delete, timestamp, t.userId(), t.targetId()));
  }

  Optional<PushTargetRecord> get(String userId, String targetId) {
    Ids.check(userId);
    Ids.check(targetId);
    return Optional.ofNullable(cql.one(Cql.bind(select, userId, targetId)))
        .map(PushTargetsTable::target);
  }

  /** The user's targets ordered by target id. */
  List<PushTargetRecord> list(String userId, int limit) {
    Ids.check(userId);
    Ids.checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    return cql.rows(Cql.bind(page, userId, limit), PushTargetsTable::target);
  }

  private static PushTargetRecord target(Row r) {
    return new PushTargetRecord(
        r.getString("user_id"),
        r.getString("target_id"),
        r.getString("device_id"),
        r.getString("provider"),
        r.getString("device_token"),
        r.getLong("created_at_ms"));
  }
}
