package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import io.parley.server.store.GroupCommitQueue;
import io.parley.server.store.StoreWrite;
import java.util.ArrayList;
import java.util.List;

/**
 * The Cassandra side of the store's {@link GroupCommitQueue}: turns as many writes as fit
 * ({@value #MAX_STATEMENTS} statements, {@value #MAX_BATCH_BYTES} bytes) into one LOGGED batch at
 * LOCAL_QUORUM and executes it.
 *
 * <p>Why one writer: it assigns per-user feed seqs ({@link FeedHeads}) in commit order and so keeps
 * every feed gapless without a lightweight transaction per user; and it gives each write a strictly
 * increasing timestamp ({@code USING TIMESTAMP}), so a later write always wins over an earlier one
 * on the same row. A single writer per keyspace is the contract; see docs/architecture.md. A failed
 * batch forgets the feed seqs it handed out (the queue then bumps the epoch).
 *
 * <p>Writer-thread confined.
 */
final class CassandraBatchWriter implements GroupCommitQueue.Engine<StoreWrite> {
  /** Most statements in one logged batch (a huge batch hurts the coordinator more than it helps). */
  static final int MAX_STATEMENTS = 512;

  /** Keeps batches far below {@code batch_size_fail_threshold}; see docs/operations.md. */
  static final long MAX_BATCH_BYTES = 256 * 1024;

  private final CqlSession session;
  private final Tables tables;
  private final BatchCommitter committer;
  private final FeedHeads<FeedTable.Key> feedHeads;
  private long lastTimestampMicros;

  CassandraBatchWriter(CqlSession session, Tables tables, BatchCommitter committer) {
    this.session = session;
    this.tables = tables;
    this.committer = committer;
    this.feedHeads = new FeedHeads<>(tables.feed::head, tables.feed::heads, 65_536);
  }

  @Override
  public long epochOf(StoreWrite write) {
    return write.epoch();
  }

  /** Batches stay within the statement and byte caps (one write alone may exceed them). */
  @Override
  public int batchEnd(List<StoreWrite> group, int start) {
    int end = start;
    long bytes = 0;
    int statements = 0;
    do {
      StoreWrite w = group.get(end);
      bytes += Tables.estimatedBytes(w);
      statements += roughStatements(w);
      end++;
    } while (end < group.size()
        && bytes + Tables.estimatedBytes(group.get(end)) <= MAX_BATCH_BYTES
        && statements + roughStatements(group.get(end)) <= MAX_STATEMENTS);
    return end;
  }

  @Override
  public long commit(List<StoreWrite> accepted) {
    try {
      List<FeedTable.Key> feeds = new ArrayList<>();
      for (StoreWrite w : accepted) {
        feeds.addAll(tables.feedKeys(w));
      }
      feedHeads.preload(feeds);
      List<BatchableStatement<?>> statements = new ArrayList<>();
      for (StoreWrite w : accepted) {
        tables.addTo(statements, w, nextTimestamp(), feedHeads);
      }
      long nanos = -1;
      if (!statements.isEmpty()) {
        BatchStatement batch =
            BatchStatement.builder(BatchType.LOGGED)
                .addStatements(statements)
                .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
                .setIdempotence(true)
                .build();
        long started = System.nanoTime();
        committer.commit(session, batch);
        nanos = System.nanoTime() - started;
      }
      feedHeads.commit();
      return nanos;
    } catch (RuntimeException e) {
      feedHeads.rollback();
      throw e;
    }
  }

  /**
   * A strictly increasing microsecond timestamp per write. Cassandra resolves conflicting writes of
   * a cell by timestamp, so these make "later write wins" hold even inside one batch.
   */
  private long nextTimestamp() {
    long now = System.currentTimeMillis() * 1000;
    lastTimestampMicros = Math.max(now, lastTimestampMicros + 1);
    return lastTimestampMicros;
  }

  private static int roughStatements(StoreWrite w) {
    int n =
        Tables.notifyRows(w)
            + w.users().size()
            + w.conversations().size()
            + 2 * w.events().size()
            + 2 * w.memberUpserts().size()
            + 2 * w.memberRemovals().size()
            + w.idempotency().size()
            + w.receipts().size();
    for (StoreWrite.FeedAppend f : w.feedAppends()) {
      n += 2 * f.userIds().size();
    }
    return n;
  }
}
