package io.parley.server.store.rocksdb;

import io.parley.server.store.StoreUnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's single writer: one dedicated thread takes every pending write (up to {@code
 * maxBatchWrites}), applies them as one {@link WriteBatch} with one sync (group commit), then
 * completes their futures in submission order, on this thread.
 *
 * <p>Epochs: a write tagged with an epoch older than the current one is rejected without being
 * written. A failed commit fails every write of its batch, increases the epoch by one, and so also
 * rejects the writes already queued behind it that were built on the same (now stale) state.
 *
 * <p>Back-pressure: at most {@code queueCapacity} writes wait; further submitters block until the
 * writer catches up. Submissions from the writer thread itself (a non-async continuation of a
 * write's future) never block, so they cannot deadlock the writer.
 *
 * <p>Shutdown: {@link #shutdown()} refuses new writes, lets the writer finish everything queued
 * before it, then runs {@code onTerminate} on the writer thread.
 *
 * <p>Thread-safe: {@link #submit} may be called from any thread.
 */
final class GroupCommitWriter {
  private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);

  /** One submitted write and its future; {@code holdsPermit} when it took a queue slot. */
  private record Pending(
      PreparedWrite write, CompletableFuture<Void> future, boolean holdsPermit) {}

  private final RocksDB db;
  private final WriteOptions writeOptions;
  private final Function<StoreColumnFamily, ColumnFamilyHandle> handles;
  private final BatchCommitter committer;
  private final FeedSequences feedSequences;
  private final int maxBatchWrites;
  private final Runnable onTerminate;

  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Semaphore slots;
  /** Read-locked by submitters, write-locked once by shutdown: nothing is queued after STOP. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private final Pending stop = new Pending(null, null, false);
  private final Thread thread;
  private volatile boolean closing;

  private final AtomicLong epoch = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong committedWrites = new AtomicLong();
  private final AtomicLong failedCommits = new AtomicLong();
  private final AtomicLong commitNanos = new AtomicLong();
  private volatile int lastBatchSize;
  private volatile boolean lastCommitFailed;

  GroupCommitWriter(
      RocksDB db,
      WriteOptions writeOptions,
      Function<StoreColumnFamily, ColumnFamilyHandle> handles,
      BatchCommitter committer,
      FeedSequences feedSequences,
      int maxBatchWrites,
      int queueCapacity,
      Runnable onTerminate) {
    if (maxBatchWrites < 1 || queueCapacity < 1) {
      throw new IllegalArgumentException("maxBatchWrites and queueCapacity must be positive");
    }
    this.db = Objects.requireNonNull(db, "db");
    this.writeOptions = Objects.requireNonNull(writeOptions, "writeOptions");
    this.handles = Objects.requireNonNull(handles, "handles");
    this.committer = Objects.requireNonNull(committer, "committer");
    this.feedSequences = Objects.requireNonNull(feedSequences, "feedSequences");
    this.maxBatchWrites = maxBatchWrites;
    this.slots = new Semaphore(queueCapacity);
    this.onTerminate = Objects.requireNonNull(onTerminate, "onTerminate");
    this.thread = new Thread(this::run, "parley-store-writer");
    // Daemon so that a forgotten close() cannot keep the JVM alive; close() drains the queue.
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Queues a write; its future completes on the writer thread once the write is durable. */
  CompletableFuture<Void> submit(PreparedWrite write) {
    Objects.requireNonNull(write, "write");
    if (closing) {
      return closedFuture();
    }
    boolean onWriter = isWriterThread();
    if (!onWriter) {
      // Uninterruptible: giving up here would drop a write whose successors may still commit.
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

  /** Refuses new writes and lets the writer finish the queued ones, then stop. Idempotent. */
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

  /** Waits until the writer thread has finished (uninterruptibly; the interrupt is kept). */
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

  int lastBatchSize() {
    return lastBatchSize;
  }

  /** Total time spent in successful RocksDB batch writes (including fsync), in nanoseconds. */
  long commitNanos() {
    return commitNanos.get();
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
        // Nothing is queued after STOP, so if it was taken it is the last element.
        if (group.get(group.size() - 1) == stop) {
          group.remove(group.size() - 1);
          stopping = true;
        }
        if (!group.isEmpty()) {
          commit(group);
        }
        group.clear();
      }
    } catch (RuntimeException | Error e) {
      log.error("store writer stopped unexpectedly", e);
      failAll(group, e);
    } finally {
      // Normally the queue is empty here; after an unexpected stop, fail what is left.
      shutdown();
      List<Pending> rest = new ArrayList<>();
      queue.drainTo(rest);
      rest.remove(stop);
      failAll(rest, null);
      // Wakes a submitter still blocked on a slot; it sees `closing`, returns the slot and so
      // wakes the next one.
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

  private void commit(List<Pending> group) {
    long current = epoch.get();
    List<PreparedWrite> accepted = new ArrayList<>(group.size());
    for (Pending p : group) {
      if (!isStale(p, current)) {
        accepted.add(p.write());
      }
    }
    Throwable failure = null;
    if (accepted.stream().anyMatch(w -> !w.isEmpty())) {
      failure = writeBatch(accepted);
    }
    slots.release(countPermits(group));
    for (Pending p : group) {
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

  /** Writes one batch; returns null on success, else the failure (the epoch is then bumped). */
  private Throwable writeBatch(List<PreparedWrite> accepted) {
    try (WriteBatch batch = new WriteBatch()) {
      for (PreparedWrite w : accepted) {
        w.applyTo(batch, handles, feedSequences);
      }
      long started = System.nanoTime();
      committer.commit(db, writeOptions, batch);
      commitNanos.addAndGet(System.nanoTime() - started);
      feedSequences.commit();
      lastBatchSize = accepted.size();
      committedWrites.addAndGet(accepted.size());
      commits.incrementAndGet();
      lastCommitFailed = false;
      return null;
    } catch (Exception | Error e) {
      feedSequences.rollback();
      long next = epoch.incrementAndGet();
      failedCommits.incrementAndGet();
      // Full stack trace for the first failure of a run; a failing disk fails every batch.
      if (lastCommitFailed) {
        log.warn(
            "store commit of {} writes failed again; epoch is now {}: {}",
            accepted.size(),
            next,
            e.toString());
      } else {
        log.warn("store commit of {} writes failed; epoch is now {}", accepted.size(), next, e);
      }
      lastCommitFailed = true;
      return e;
    }
  }

  private static boolean isStale(Pending p, long currentEpoch) {
    long e = p.write().epoch();
    return e >= 0 && e < currentEpoch;
  }

  private static int countPermits(List<Pending> group) {
    int n = 0;
    for (Pending p : group) {
      if (p.holdsPermit()) {
        n++;
      }
    }
    return n;
  }

  /** Fails writes that can no longer be committed; their slots no longer matter once closing. */
  private static void failAll(List<Pending> pending, Throwable cause) {
    for (Pending p : pending) {
      p.future().completeExceptionally(new StoreUnavailableException("store is closed", cause));
    }
  }

  private static CompletableFuture<Void> closedFuture() {
    return CompletableFuture.failedFuture(new StoreUnavailableException("store is closed"));
  }
}
