package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.parley.server.store.OutboxJob;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code dead_letters} table: {@code PRIMARY KEY ((shard), job_id)} with {@code shard =
 * hash(job_id) mod }{@value #SHARDS}. Dead letters pile up until an operator replays or drops
 * them, so they are sharded like users rather than kept in one partition; {@link #list} merges the
 * shards into job id order. Thread-safe.
 */
final class DeadLettersTable {
  /** Number of partitions; part of the on-disk format. */
  static final int SHARDS = 16;

  private static final String COLUMNS = "lane, seq, " + OutboxTable.JOB_COLUMNS;

  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement delete;
  private final PreparedStatement select;
  private final PreparedStatement page;

  DeadLettersTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.dead_letters (shard, "
                + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.delete =
        cql.prepare("DELETE FROM ${ks}.dead_letters USING TIMESTAMP ? WHERE shard = ? AND job_id = ?");
    this.select =
        cql.prepare("SELECT " + COLUMNS + " FROM ${ks}.dead_letters WHERE shard = ? AND job_id = ?");
    this.page =
        cql.prepare(
            "SELECT " + COLUMNS + " FROM ${ks}.dead_letters WHERE shard = ? AND job_id > ? LIMIT ?");
  }

  void put(List<BatchableStatement<?>> batch, OutboxJob j, long timestamp) {
    batch.add(
        Cql.bind(
            insert,
            Shards.of(j.jobId(), SHARDS),
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

  void remove(List<BatchableStatement<?>> batch, String jobId, long timestamp) {
    batch.add(Cql.bind(delete, timestamp, Shards.of(jobId, SHARDS), jobId));
  }

  Optional<OutboxJob> get(String jobId) {
    Ids.check(jobId);
    return Optional.ofNullable(cql.one(Cql.bind(select, Shards.of(jobId, SHARDS), jobId)))
        .map(OutboxTable::job);
  }

  /** Dead letters in job id (code point) order strictly after {@code afterJobId}. */
  List<OutboxJob> list(String afterJobId, int limit) {
    Objects.requireNonNull(afterJobId, "afterJobId");
    Ids.checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    List<BoundStatement> shards = new ArrayList<>(SHARDS);
    for (int shard = 0; shard < SHARDS; shard++) {
      shards.add(Cql.bind(page, shard, afterJobId, limit));
    }
    return Shards.merge(
        cql,
        shards,
        OutboxTable::job,
        Comparator.comparing(OutboxJob::jobId, Ids.CODE_POINT_ORDER),
        limit);
  }
}
