package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.StoreWrite;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Cassandra store's single writer thread: takes every pending {@link StoreWrite}, turns as many
 * as fit ({@code maxBatchWrites}, {@value #MAX_STATEMENTS} statements, {@value #MAX_BATCH_BYTES}
 * bytes) into one LOGGED batch at LOCAL_QUORUM, executes it, and completes the writes' futures in
 * submission order on this thread.
 *
 * <p>Why one writer: it assigns per-user feed seqs ({@link FeedHeads}) in commit order and so keeps
 * every feed gapless without a lightweight transaction per user; and it gives each write a strictly
 * increasing timestamp ({@code USING TIMESTAMP}), so a later write always wins over an earlier one
 * on the same row. A single writer per keyspace is the contract; see docs/architecture.md.
 *
 * <p>Epochs as in the embedded engine: a failed batch fails all its writes, clears the cached feed
 * heads and increases the epoch; writes tagged with an older epoch are rejected unwritten.
 *
 * <p>Thread-safe: {@link #submit} may be called from any thread.
 */
final class CommitWriter {
  /** Most statements in one logged batch (a huge batch hurts the coordinator more than it helps). */
  static final int MAX_STATEMENTS = 512;

  /** Keeps batches far below {@code batch_size_fail_threshold}; see docs/operations.md. */
  static final long MAX_BATCH_BYTES = 256 * 1024;

  private static final Logger log = LoggerFactory.getLogger(CommitWriter.class);

  private record Pending(StoreWrite write, CompletableFuture<Void> future, boolean holdsPermit) {}

  private final CqlSession session;
  private final Tables tables;
  private final BatchCommitter committer;
  private final FeedHeads feedHeads;
  private final int maxBatchWrites;
  private final Runnable onTerminate;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Semaphore slots;
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private final Pending stop = new Pending(null, null, false);
  private final Thread thread;
  private volatile boolean closing;
  private long lastTimestampMicros;

  private final AtomicLong epoch = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong committedWrites = new AtomicLong();
  private final AtomicLong failedCommits = new AtomicLong();
  private final AtomicLong commitNanos = new AtomicLong();
  private volatile int lastBatchSize;
  private volatile boolean lastCommitFailed;

  CommitWriter(
      CqlSession session,
      Tables tables,
      BatchCommitter committer,
      int maxBatchWrites,
      int queueCapacity,
      Runnable onTerminate) {
    this.session = session;
    this.tables = tables;
    this.committer = committer;
    this.feedHeads = new FeedHeads(tables.feed::head, tables.feed::heads, 65_536);
    this.maxBatchWrites = maxBatchWrites;
    this.slots = new Semaphore(queueCapacity);
    this.onTerminate = onTerminate;
    this.thread = new Thread(this::run, "parley-cassandra-writer");
    // Daemon so that a forgotten close() cannot keep the JVM alive; close() drains the queue.
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  CompletableFuture<Void> submit(StoreWrite write) {
    if (closing) {
      return closedFuture();
    }
    boolean onWriter = isWriterThread();
    if (!onWriter) {
      // Back-pressure; uninterruptible because dropping a write would let its successors commit.
      slots.acquireUninterruptibly();
    }
    lifecycle.readLock().lock();
    try {
      if (closing) {
        if (!onWriter) {
          slots.release();
        }
        return closedFuture();
      }
      CompletableFuture<Void> future = new CompletableFuture<>();
      queue.add(new Pending(write, future, !onWriter));
      return future;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  void shutdown() {
    lifecycle.writeLock().lock();
    try {
      if (!closing) {
        closing = true;
        queue.add(stop);
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  void awaitTermination() {
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  boolean isWriterThread() {
    return Thread.currentThread() == thread;
  }

  long epoch() {
    return epoch.get();
  }

  boolean isAccepting() {
    return !closing;
  }

  boolean lastCommitFailed() {
    return lastCommitFailed;
  }

  long commits() {
    return commits.get();
  }

  long committedWrites() {
    return committedWrites.get();
  }

  long failedCommits() {
    return failedCommits.get();
  }

  long commitNanos() {
    return commitNanos.get();
  }

  int lastBatchSize() {
    return lastBatchSize;
  }

  int queued() {
    return queue.size();
  }

  private void run() {
    List<Pending> group = new ArrayList<>();
    try {
      boolean stopping = false;
      while (!stopping) {
        group.add(take());
        queue.drainTo(group, maxBatchWrites - 1);
        if (group.get(group.size() - 1) == stop) {
          group.remove(group.size() - 1);
          stopping = true;
        }
        commitInChunks(group);
        group.clear();
      }
    } catch (RuntimeException | Error e) {
      log.error("cassandra store writer stopped unexpectedly", e);
      failAll(group, e);
    } finally {
      shutdown();
      List<Pending> rest = new ArrayList<>();
      queue.drainTo(rest);
      rest.remove(stop);
      failAll(rest, null);
      slots.release();
      onTerminate.run();
    }
  }

  private Pending take() {
    while (true) {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        // Nobody interrupts this thread on purpose; stopping here would strand queued futures.
      }
    }
  }

  /** Commits the group as consecutive batches that each stay within the statement/byte caps. */
  private void commitInChunks(List<Pending> group) {
    int start = 0;
    while (start < group.size()) {
      int end = start;
      long bytes = 0;
      int statements = 0;
      do {
        StoreWrite w = group.get(end).write();
        bytes += Tables.estimatedBytes(w);
        statements += roughStatements(w);
        end++;
      } while (end < group.size()
          && bytes + Tables.estimatedBytes(group.get(end).write()) <= MAX_BATCH_BYTES
          && statements + roughStatements(group.get(end).write()) <= MAX_STATEMENTS);
      commit(group.subList(start, end));
      start = end;
    }
  }

  private void commit(List<Pending> chunk) {
    long current = epoch.get();
    List<BatchableStatement<?>> statements = new ArrayList<>();
    Throwable failure = null;
    int accepted = 0;
    try {
      List<String> feedUsers = new ArrayList<>();
      for (Pending p : chunk) {
        if (!isStale(p, current)) {
          p.write().feedAppends().forEach(f -> feedUsers.addAll(f.userIds()));
        }
      }
      feedHeads.preload(feedUsers);
      for (Pending p : chunk) {
        if (!isStale(p, current)) {
          tables.addTo(statements, p.write(), nextTimestamp(), feedHeads);
          accepted++;
        }
      }
      if (!statements.isEmpty()) {
        BatchStatement batch =
            BatchStatement.builder(BatchType.LOGGED)
                .addStatements(statements)
                .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
                .setIdempotence(true)
                .build();
        long started = System.nanoTime();
        committer.commit(session, batch);
        commitNanos.addAndGet(System.nanoTime() - started);
        commits.incrementAndGet();
      }
      feedHeads.commit();
      committedWrites.addAndGet(accepted);
      lastBatchSize = accepted;
      lastCommitFailed = false;
    } catch (RuntimeException e) {
      failure = e;
      feedHeads.rollback();
      long next = epoch.incrementAndGet();
      failedCommits.incrementAndGet();
      if (lastCommitFailed) {
        log.warn("cassandra batch of {} writes failed again; epoch is now {}: {}", accepted, next, e.toString());
      } else {
        log.warn("cassandra batch of {} writes failed; epoch is now {}", accepted, next, e);
      }
      lastCommitFailed = true;
    }
    slots.release(countPermits(chunk));
    for (Pending p : chunk) {
      if (isStale(p, current)) {
        p.future()
            .completeExceptionally(
                new StoreUnavailableException(
                    "write built in epoch " + p.write().epoch() + " but the store is at epoch "
                        + current));
      } else if (failure != null) {
        p.future().completeExceptionally(new StoreUnavailableException("commit failed", failure));
      } else {
        p.future().complete(null);
      }
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

  private static boolean isStale(Pending p, long currentEpoch) {
    long e = p.write().epoch();
    return e >= 0 && e < currentEpoch;
  }

  private static int countPermits(List<Pending> chunk) {
    int n = 0;
    for (Pending p : chunk) {
      if (p.holdsPermit()) {
        n++;
      }
    }
    return n;
  }

  private static void failAll(List<Pending> pending, Throwable cause) {
    for (Pending p : pending) {
      p.future().completeExceptionally(new StoreUnavailableException("store is closed", cause));
    }
  }

  private static CompletableFuture<Void> closedFuture() {
    return CompletableFuture.failedFuture(new StoreUnavailableException("store is closed"));
  }
}
