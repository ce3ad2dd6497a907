package io.parley.server.store;

import io.parley.server.core.DaemonThreads;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer every store engine commits through: one dedicated thread takes every pending
 * write (up to {@code maxBatchWrites}), hands them to the engine as one or more atomic batches
 * (group commit), then completes their futures in submission order, on this thread. The engine
 * ({@link Engine}) only knows how to make a list of writes durable; queueing, back-pressure,
 * epochs, shutdown and the commit statistics live here once for all engines.
 *
 * <p>Epochs: a write tagged with an epoch older than the current one is rejected without being
 * written. A failed batch fails every write in it, increases the epoch by one, and so also rejects
 * the writes already queued behind it that were built on the same (now stale) state.
 *
 * <p>Back-pressure: at most {@code queueCapacity} writes wait; further submitters block until the
 * writer catches up. Submissions from the writer thread itself (a non-async continuation of a
 * write's future) never block, so they cannot deadlock the writer.
 *
 * <p>Shutdown: {@link #shutdown()} refuses new writes, lets the writer finish everything queued
 * before it, then runs {@code onTerminate} on the writer thread.
 *
 * <p>Thread-safe: {@link #submit} may be called from any thread.
 *
 * @param <W> the engine's form of a write
 */
public final class GroupCommitQueue<W> {
  private static final Logger log = LoggerFactory.getLogger(GroupCommitQueue.class);

  /** What an engine provides: how to commit a batch atomically and durably. */
  public interface Engine<W> {
    /** The write's epoch tag, or a negative number when it carries none. */
    long epochOf(W write);

    /**
     * Where the batch that starts at {@code start} of a drained group ends (exclusive). Engines
     * with a batch size cap split here; by default the whole group is one batch.
     */
    default int batchEnd(List<W> group, int start) {
      return group.size();
    }

    /**
     * Makes the writes durable as one atomic batch, or throws (after undoing any state of its
     * own that the attempt changed). An exception fails the batch and bumps the epoch; an {@link
     * Error} stops the writer (every pending write fails). Runs on the writer thread only.
     *
     * @return the nanoseconds spent writing the batch durably, or a negative number when the
     *     writes had nothing to write (nothing was committed)
     */
    long commit(List<W> accepted) throws Exception;
  }

  /** One submitted write and its future; {@code holdsPermit} when it took a queue slot. */
  private record Pending<W>(W write, CompletableFuture<Void> future, boolean holdsPermit) {}

  private final Engine<W> engine;
  private final String what;
  private final int maxBatchWrites;
  private final Runnable onTerminate;

  private final BlockingQueue<Pending<W>> queue = new LinkedBlockingQueue<>();
  private final Semaphore slots;
  /** Read-locked by submitters, write-locked once by shutdown: nothing is queued after STOP. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private final Pending<W> stop = new Pending<>(null, null, false);
  private final Thread thread;
  private volatile boolean closing;

  private final AtomicLong epoch = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong committedWrites = new AtomicLong();
  private final AtomicLong failedCommits = new AtomicLong();
  private final AtomicLong commitNanos = new AtomicLong();
  private volatile int lastBatchSize;
  private volatile boolean lastCommitFailed;

  /**
   * @param what how log lines name one batch, e.g. "store commit"
   * @param threadName the writer thread's name
   */
  public GroupCommitQueue(
      Engine<W> engine,
      String what,
      String threadName,
      int maxBatchWrites,
      int queueCapacity,
      Runnable onTerminate) {
    if (maxBatchWrites < 1 || queueCapacity < 1) {
      throw new IllegalArgumentException("maxBatchWrites and queueCapacity must be positive");
    }
    this.engine = Objects.requireNonNull(engine, "engine");
    this.what = Objects.requireNonNull(what, "what");
    this.maxBatchWrites = maxBatchWrites;
    this.slots = new Semaphore(queueCapacity);
    this.onTerminate = Objects.requireNonNull(onTerminate, "onTerminate");
    // Daemon so that a forgotten close() cannot keep the JVM alive; close() drains the queue.
    this.thread = DaemonThreads.thread(this::run, threadName);
  }

  public void start() {
    thread.start();
  }

  /** Queues a write; its future completes on the writer thread once the write is durable. */
  public CompletableFuture<Void> submit(W write) {
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
      queue.add(new Pending<>(write, future, !onWriter));
      return future;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Refuses new writes and lets the writer finish the queued ones, then stop. Idempotent. */
  public void shutdown() {
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
  public void awaitTermination() {
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

  /** {@link #shutdown()}, then waits for the writer unless called on it (from a write's future). */
  public void close() {
    shutdown();
    if (!isWriterThread()) {
      awaitTermination();
    }
  }

  public boolean isWriterThread() {
    return Thread.currentThread() == thread;
  }

  public long epoch() {
    return epoch.get();
  }

  /**
   * Increases the epoch without a failure: every write built on state read before this call is
   * rejected. Used when the right to write changes hands (a cluster engine loses or gains a
   * conversation shard), so nothing cached under the previous owner is trusted again.
   */
  public void invalidate() {
    epoch.incrementAndGet();
  }

  public boolean isAccepting() {
    return !closing;
  }

  public boolean lastCommitFailed() {
    return lastCommitFailed;
  }

  /** Number of successful batches since start. */
  public long commits() {
    return commits.get();
  }

  /** Number of writes made durable since start (summed over all batches). */
  public long committedWrites() {
    return committedWrites.get();
  }

  /** Number of failed batches since start; each one increased the epoch. */
  public long failedCommits() {
    return failedCommits.get();
  }

  /** Number of writes in the most recent successful batch (0 before the first). */
  public int lastBatchSize() {
    return lastBatchSize;
  }

  /** Total time the engine spent writing successful batches durably, in nanoseconds. */
  public long commitNanos() {
    return commitNanos.get();
  }

  /** Number of writes waiting for the writer thread right now. */
  public int queued() {
    return queue.size();
  }

  private void run() {
    List<Pending<W>> group = new ArrayList<>();
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
        commitInBatches(group);
        group.clear();
      }
    } catch (RuntimeException | Error e) {
      log.error("store writer stopped unexpectedly", e);
      failAll(group, e);
    } finally {
      // Normally the queue is empty here; after an unexpected stop, fail what is left.
      shutdown();
      List<Pending<W>> rest = new ArrayList<>();
      queue.drainTo(rest);
      rest.remove(stop);
      failAll(rest, null);
      // Wakes a submitter still blocked on a slot; it sees `closing`, returns the slot and so
      // wakes the next one.
      slots.release();
      onTerminate.run();
    }
  }

  private Pending<W> take() {
    while (true) {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        // Nobody interrupts this thread on purpose; stopping here would strand queued futures.
      }
    }
  }

  /** Commits the group as consecutive batches, each ending where the engine says. */
  private void commitInBatches(List<Pending<W>> group) {
    List<W> writes = new ArrayList<>(group.size());
    for (Pending<W> p : group) {
      writes.add(p.write());
    }
    int start = 0;
    while (start < group.size()) {
      int end = Math.max(start + 1, Math.min(group.size(), engine.batchEnd(writes, start)));
      commit(group.subList(start, end));
      start = end;
    }
  }

  private void commit(List<Pending<W>> batch) {
    long current = epoch.get();
    List<W> accepted = new ArrayList<>(batch.size());
    for (Pending<W> p : batch) {
      if (!isStale(p, current)) {
        accepted.add(p.write());
      }
    }
    Throwable failure = accepted.isEmpty() ? null : write(accepted);
    slots.release(countPermits(batch));
    for (Pending<W> p : batch) {
      if (isStale(p, current)) {
        p.future()
            .completeExceptionally(
                new StoreUnavailableException(
                    "write built in epoch "
                        + engine.epochOf(p.write())
                        + " but the store is at epoch "
                        + current));
      } else if (failure != null) {
        p.future().completeExceptionally(new StoreUnavailableException("commit failed", failure));
      } else {
        p.future().complete(null);
      }
    }
  }

  /** Writes one batch; returns null on success, else the failure (the epoch is then bumped). */
  private Throwable write(List<W> accepted) {
    try {
      long nanos = engine.commit(accepted);
      if (nanos >= 0) {
        commitNanos.addAndGet(nanos);
        lastBatchSize = accepted.size();
        committedWrites.addAndGet(accepted.size());
        commits.incrementAndGet();
        lastCommitFailed = false;
      }
      return null;
    } catch (Exception e) {
      long next = epoch.incrementAndGet();
      failedCommits.incrementAndGet();
      // Full stack trace for the first failure of a run; a failing disk fails every batch.
      if (lastCommitFailed) {
        log.warn(
            "{} of {} writes failed again; epoch is now {}: {}",
            what,
            accepted.size(),
            next,
            e.toString());
      } else {
        log.warn("{} of {} writes failed; epoch is now {}", what, accepted.size(), next, e);
      }
      lastCommitFailed = true;
      return e;
    }
  }

  private boolean isStale(Pending<W> p, long currentEpoch) {
    long e = engine.epochOf(p.write());
    return e >= 0 && e < currentEpoch;
  }

  private static int countPermits(List<? extends Pending<?>> batch) {
    int n = 0;
    for (Pending<?> p : batch) {
      if (p.holdsPermit()) {
        n++;
      }
    }
    return n;
  }

  /** Fails writes that can no longer be committed; their slots no longer matter once closing. */
  private static void failAll(List<? extends Pending<?>> pending, Throwable cause) {
    for (Pending<?> p : pending) {
      p.future().completeExceptionally(new StoreUnavailableException("store is closed", cause));
    }
  }

  private static CompletableFuture<Void> closedFuture() {
    return CompletableFuture.failedFuture(new StoreUnavailableException("store is closed"));
  }
}
