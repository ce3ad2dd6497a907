package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import io.parley.server.store.GroupCommitQueue;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.WriteJournal;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The Cassandra side of a {@link GroupCommitQueue}: turns as many writes as fit ({@value
 * #MAX_STATEMENTS} statements, {@value #MAX_BATCH_BYTES} bytes) into one LOGGED batch at
 * LOCAL_QUORUM and executes it.
 *
 * <p>Why one writer per set of feeds: it assigns per-(user, shard) feed seqs ({@link FeedHeads})
 * in commit order and so keeps every feed gapless without a lightweight transaction per user; and
 * it gives each write a strictly increasing timestamp ({@code USING TIMESTAMP}), so a later write
 * always wins over an earlier one on the same row. A single writer per keyspace, or with engines
 * owning shards one writer per shard in the whole cluster, is the contract; see
 * docs/architecture.md. A failed batch forgets the feed seqs it handed out (the queue then bumps the
 * epoch). With a {@link WriteJournal} (a cluster engine's writer of one shard) every batch is
 * recorded through the shard's current {@link WriteJournal.Fence} first, which also fences a writer
 * whose shard was taken over; when the fence changes (the shard was given up and taken again) the
 * cached feed heads are forgotten, since another engine may have written the shard meanwhile.
 *
 * <p>Writer-thread confined.
 */
final class CassandraBatchWriter implements GroupCommitQueue.Engine<StoreWrite> {
  private static final Logger log = LoggerFactory.getLogger(CassandraBatchWriter.class);

  /** Most statements in one logged batch (a huge batch hurts the coordinator more than it helps). */
  static final int MAX_STATEMENTS = 512;

  /** Keeps batches far below {@code batch_size_fail_threshold}; see docs/operations.md. */
  static final long MAX_BATCH_BYTES = 256 * 1024;

  private final CqlSession session;
  private final Tables tables;
  private final BatchCommitter committer;
  private final FeedHeads<FeedTable.Key> feedHeads;
  private final WriteJournal journal;
  private final int shard;
  /** The fence the last batch was recorded through; another one means a new ownership period. */
  private WriteJournal.Fence lastFence;
  private long lastTimestampMicros;
  /** Raised by a journal replay: every later write is stamped above what the replay wrote. */
  private final AtomicLong timestampFloor = new AtomicLong();
  private volatile boolean closing;

  /**
   * @param journal where every batch is recorded before it is applied, or null when this process
   *     is the only writer of what this writer writes (see {@link WriteJournal})
   * @param shard the conversation shard whose writes this writer commits, when it has a journal
   */
  CassandraBatchWriter(
      CqlSession session, Tables tables, BatchCommitter committer, WriteJournal journal, int shard) {
    this.session = session;
    this.tables = tables;
    this.committer = committer;
    this.journal = journal;
    this.shard = shard;
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
      WriteJournal.Fence fence = null;
      if (journal != null) {
        fence = journal.fence(shard); // fails at once when this process does not own the shard
        if (fence != lastFence) {
          feedHeads.rollback(); // another engine may have appended to these feeds meanwhile
          lastFence = fence;
        }
      }
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
        if (fence == null) {
          committer.commit(session, batch);
        } else {
          fence.record(JournalCodec.encode(statements, lastTimestampMicros));
          // Recorded means committed: retried until applied (or the next writer replays it).
          apply(batch, Integer.MAX_VALUE);
        }
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
   * Applies a batch recorded in the journal (this writer's, or a predecessor's being replayed),
   * retrying failures with a backoff of 50 ms doubling to 2 s (every statement is idempotent and
   * carries its timestamp) for at most {@code attempts} attempts, or until the store closes.
   *
   * @throws StoreUnavailableException when the attempts are spent or the store closes first
   */
  void apply(BatchStatement batch, int attempts) {
    long backoffMs = 50;
    for (int attempt = 1; ; attempt++) {
      try {
        committer.commit(session, batch);
        return;
      } catch (RuntimeException e) {
        if (closing) {
          throw new StoreUnavailableException(
              "store closed before a recorded batch was applied (the journal keeps it)", e);
        }
        if (attempt >= attempts) {
          throw new StoreUnavailableException(
              "cannot apply a recorded batch: " + e.getMessage(), e);
        }
        log.warn("applying a recorded batch failed (retrying in {} ms): {}", backoffMs,
            e.getMessage());
        try {
          Thread.sleep(backoffMs);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new StoreUnavailableException("interrupted applying a recorded batch", ie);
        }
        backoffMs = Math.min(2_000, backoffMs * 2);
      }
    }
  }

  /**
   * After a journal replay: stamps every later write above {@code micros} (the replayed writes
   * may come from a machine whose clock is ahead). The cached feed heads are reset by the change
   * of fence that follows a replay.
   */
  void afterReplay(long micros) {
    timestampFloor.accumulateAndGet(micros, Math::max);
  }

  /** A recorded batch whose application fails from now on stays in the journal. */
  void closing() {
    closing = true;
  }

  /**
   * A strictly increasing microsecond timestamp per write. Cassandra resolves conflicting writes of
   * a cell by timestamp, so these make "later write wins" hold even inside one batch.
   */
  private long nextTimestamp() {
    long now = Math.max(System.currentTimeMillis() * 1000, timestampFloor.get() + 1);
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
