package io.parley.server.store;

/**
 * Commit counters an engine exposes for the {@code parley_store_*} metrics, whatever "commit" means
 * for it (a RocksDB group commit, a Cassandra logged batch).
 */
public interface CommitStats {
  /** Successful commits since open. */
  long commitCount();

  /** Total time spent in successful commits, in nanoseconds. */
  long commitNanos();

  /** {@link StoreWrite}s made durable since open (several per commit). */
  long writeCount();

  /** Failed commits since open; each one increased the epoch. */
  long failedCommitCount();

  /** Writes in the most recent successful commit. */
  int lastBatchSize();

  /** Writes waiting for the next commit. */
  int queuedWrites();

  /** See {@link ParleyStore#isHealthy()}. */
  boolean isHealthy();
}
