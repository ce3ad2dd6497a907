package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.server.store.OutboxJob;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The {@code outbox} table: {@code PRIMARY KEY ((shard), lane, seq)} with {@code shard = hash(lane)
 * mod }{@value #SHARDS}. A lane lives in one partition, clustered by seq, so its head is its first
 * row ({@code GROUP BY shard, lane} returns the first row of each lane) and {@link #lane} is a
 * slice; {@link #laneHeads} merges the shards into lane order. Thread-safe.
 */
final class OutboxTable {
  /** Number of partitions; part of the on-disk format. */
  static final int SHARDS = 16;

  /** The job columns after the key, shared with {@code dead_letters}. */
  static final String JOB_COLUMNS =
      "job_id, kind, target, payload, attempts, next_attempt_at_ms, last_error, created_at_ms";

  private static final String COLUMNS = "lane, seq, " + JOB_COLUMNS;

  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement delete;
  private final PreparedStatement heads;
  private final PreparedStatement slice;

  OutboxTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.outbox (shard, "
                + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.delete =
        cql.prepare(
            "DELETE FROM ${ks}.outbox USING TIMESTAMP ? WHERE shard = ? AND lane = ? AND seq = ?");
    this.heads =
        cql.prepare(
            "SELECT "
                + COLUMNS
                + " FROM ${ks}.outbox WHERE shard = ? AND lane > ? GROUP BY shard, lane LIMIT ?");
    this.slice =
        cql.prepare(
            "SELECT "
                + COLUMNS
                + " FROM ${ks}.outbox WHERE shard = ? AND lane = ? AND seq > ? LIMIT ?");
  }

  static void check(OutboxJob j) {
    Ids.check(j.lane());
    Ids.check(j.jobId());
    Ids.positive(j.seq(), "job seq");
  }

  void put(List<BatchableStatement<?>> batch, OutboxJob j, long timestamp) {
    batch.add(
        Cql.bind(
            insert,
            Shards.of(j.lane(), SHARDS),
            j.lane(),
            j.seq(),
            j.jobId(),
            j.kind(),
            j.target(),
            ByteBuffer.wrap(j.payload()),
            j.attempts(),
            j.nextAttemptAtMs(),
            j.lastError(),
            j.createdAtMs(),
            timestamp));
  }

  void remove(List<BatchableStatement<?>> batch, OutboxJob j, long timestamp) {
    batch.add(Cql.bind(delete, timestamp, Shards.of(j.lane(), SHARDS), j.lane(), j.seq()));
  }

  /** The first job of each lane after {@code afterLane}, in lane (code point) order. */
  List<OutboxJob> laneHeads(String afterLane, int limit) {
    Objects.requireNonNull(afterLane, "afterLane");
    Ids.checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    List<BoundStatement> shards = new ArrayList<>(SHARDS);
    for (int shard = 0; shard < SHARDS; shard++) {
      shards.add(Cql.bind(heads, shard, afterLane, limit));
    }
    return Shards.merge(
        cql,
        shards,
        OutboxTable::job,
        Comparator.comparing(OutboxJob::lane, Ids.CODE_POINT_ORDER),
        limit);
  }

  /** The jobs of one lane with seq strictly greater than {@code afterSeq}, ascending. */
  List<OutboxJob> lane(String lane, long afterSeq, int limit) {
    Ids.check(lane);
    Ids.checkLimit(limit);
    if (limit == 0 || afterSeq == Long.MAX_VALUE) {
      return List.of();
    }
    return cql.rows(
        Cql.bind(slice, Shards.of(lane, SHARDS), lane, afterSeq, limit), OutboxTable::job);
  }

  /** Maps a row of {@code outbox} or {@code dead_letters} (both have lane, seq and the job columns). */
  static OutboxJob job(Row r) {
    ByteBuffer payload = r.getByteBuffer("payload");
    byte[] bytes = new byte[payload == null ? 0 : payload.remaining()];
    if (payload != null) {
      payload.duplicate().get(bytes);
    }
    return new OutboxJob(
        r.getString("lane"),
        r.getLong("seq"),
        r.getString("job_id"),
        r.getString("kind"),
        r.getString("target"),
        bytes,
        r.getInt("attempts"),
        r.getLong("next_attempt_at_ms"),
        r.getString("last_error"),
        r.getLong("created_at_ms"));
  }
}
