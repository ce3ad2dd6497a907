package io.parley.server.messaging;

import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.DaemonThreads;
import io.parley.server.core.ParleyException;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.StoreWrite;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-process {@link Sequencer}: N single-threaded lanes, conversation to lane by {@code
 * floorMod(conversationId.hashCode(), N)}. Each lane is the only writer of its conversations, so
 * sequencing needs no locks, and keeps a bounded LRU cache of their {@link ConversationState}s.
 *
 * <p>Lanes pipeline: a command hands its change to the store and returns; the next command runs
 * against the state as already changed. The store completes write futures in submission order;
 * each completion hops back onto the lane (a FIFO executor), so commit callbacks, and the bus
 * publishes attached to them, run on the lane in commit order, which per conversation is seq
 * order.
 *
 * <p>On a failed commit the conversation's state is poisoned and reloaded from disk: at once when
 * the store's epoch moved (the store then rejects every write built on the stale state, so the
 * log stays gapless), otherwise once none of its commits is in flight (commands meanwhile get a
 * retryable {@code UNAVAILABLE}). A command that fails while holding an open change poisons the
 * state the same way. States with commits in flight are never evicted by the LRU.
 *
 * <p>Thread-safe. {@link #close} is graceful: it stops admitting commands and waits (bounded) for
 * admitted ones and their commits to finish.
 */
public final class LaneSequencer implements Sequencer {
  private static final Logger log = LoggerFactory.getLogger(LaneSequencer.class);
  private static final long OVERLOAD_RETRY_AFTER_MS = 200;
  private static final long RECOVERY_RETRY_AFTER_MS = 100;

  private final Lane[] lanes;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object drained = new Object();
  private final long closeTimeoutMs;
  private volatile boolean closed;

  /**
   * @param store where commits go
   * @param laneCount number of lanes (threads); at least 1
   * @param maxCachedConversations LRU bound of each lane's state cache
   * @param maxQueuedPerLane commands waiting on one lane before submits fail with {@code
   *     UNAVAILABLE}
   * @param closeTimeoutMs how long {@link #close} waits for admitted commands
   */
  public LaneSequencer(
      ParleyStore store,
      int laneCount,
      int maxCachedConversations,
      int maxQueuedPerLane,
      long closeTimeoutMs) {
    Objects.requireNonNull(store, "store");
    if (laneCount < 1 || maxCachedConversations < 1 || maxQueuedPerLane < 1) {
      throw new IllegalArgumentException("lane count, cache size and queue bound must be >= 1");
    }
    this.closeTimeoutMs = closeTimeoutMs;
    this.lanes = new Lane[laneCount];
    for (int i = 0; i < laneCount; i++) {
      lanes[i] = new Lane(store, i, maxCachedConversations, maxQueuedPerLane);
    }
  }

  /** A sequencer with the default bounds: 10k cached conversations, 10k queued commands a lane. */
  public static LaneSequencer create(ParleyStore store, int laneCount) {
    return new LaneSequencer(store, laneCount, 10_000, 10_000, 10_000);
  }

  public int laneCount() {
    return lanes.length;
  }

  @Override
  public <T> CompletableFuture<T> submit(
      String conversationId, Function<LaneContext, CompletableFuture<T>> command) {
    Objects.requireNonNull(conversationId, "conversationId");
    Objects.requireNonNull(command, "command");
    if (closed) {
      return CompletableFuture.failedFuture(shuttingDown());
    }
    Lane lane = lanes[Math.floorMod(conversationId.hashCode(), lanes.length)];
    return lane.submit(command);
  }

  @Override
  public void close() {
    closed = true;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(closeTimeoutMs);
    synchronized (drained) {
      while (inFlight.get() > 0) {
        long waitMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (waitMs <= 0) {
          log.warn("sequencer closing with {} commands still in flight", inFlight.get());
          break;
        }
        try {
          drained.wait(waitMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    for (Lane lane : lanes) {
      lane.executor.shutdown();
    }
    for (Lane lane : lanes) {
      try {
        if (!lane.executor.awaitTermination(closeTimeoutMs, TimeUnit.MILLISECONDS)) {
          lane.executor.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        lane.executor.shutdownNow();
      }
    }
  }

  private void commandDone() {
    if (inFlight.decrementAndGet() == 0 && closed) {
      synchronized (drained) {
        drained.notifyAll();
      }
    }
  }

  private static ParleyException shuttingDown() {
    return new ParleyException(ErrorCode.SHUTTING_DOWN, "server is shutting down");
  }

  /** One lane: a thread, its queue and the states of the conversations hashed onto it. */
  private final class Lane implements LaneContext {
    private final ParleyStore store;
    private final ThreadPoolExecutor executor;
    private final Executor callbacks;
    private final AtomicInteger queued = new AtomicInteger();
    private final int maxQueued;
    private final LinkedHashMap<String, ConversationState> states;
    private final List<ConversationState> touched = new ArrayList<>(2);

    Lane(ParleyStore store, int index, int maxCached, int maxQueued) {
      this.store = store;
      this.maxQueued = maxQueued;
      this.executor =
          new ThreadPoolExecutor(
              1,
              1,
              0,
              TimeUnit.MILLISECONDS,
              new LinkedBlockingQueue<>(),
              DaemonThreads.named("parley-lane-" + index));
      // Commit callbacks must never be lost: if the lane was stopped (close timed out), they run
      // on the completing thread, where nothing else touches the lane's state any more.
      this.callbacks =
          task -> {
            try {
              executor.execute(task);
            } catch (RejectedExecutionException e) {
              task.run();
            }
          };
      this.states =
          new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, ConversationState> eldest) {
              return size() > maxCached && eldest.getValue().isQuiescent();
            }
          };
    }

    <T> CompletableFuture<T> submit(Function<LaneContext, CompletableFuture<T>> command) {
      if (queued.incrementAndGet() > maxQueued) {
        queued.decrementAndGet();
        return CompletableFuture.failedFuture(
            new ParleyException(
                ErrorCode.UNAVAILABLE, "server busy, retry", OVERLOAD_RETRY_AFTER_MS));
      }
      inFlight.incrementAndGet();
      CompletableFuture<T> out = new CompletableFuture<>();
      try {
        executor.execute(() -> run(command, out));
      } catch (RejectedExecutionException e) {
        queued.decrementAndGet();
        commandDone();
        return CompletableFuture.failedFuture(shuttingDown());
      }
      return out;
    }

    private <T> void run(
        Function<LaneContext, CompletableFuture<T>> command, CompletableFuture<T> out) {
      queued.decrementAndGet();
      CompletableFuture<T> result;
      try {
        result = command.apply(this);
        if (result == null) {
          result = CompletableFuture.failedFuture(new NullPointerException("command result"));
        }
      } catch (Throwable t) {
        result = CompletableFuture.failedFuture(t);
      } finally {
        afterCommand();
      }
      result.whenComplete(
          (v, e) -> {
            if (e == null) {
              out.complete(v);
            } else {
              out.completeExceptionally(EngineFailures.unwrap(e));
            }
            commandDone();
          });
    }

    /**
     * Drops states the command left inconsistent (a change opened but never committed: the
     * in-memory state moved without a write) and states of conversations that do not exist.
     */
    private void afterCommand() {
      for (ConversationState s : touched) {
        if (s.hasOpenChange()) {
          log.error("command left an uncommitted change on {}; state discarded", s.conversationId());
          s.poison();
        }
        if (s.isQuiescent() && (!s.exists() || s.isPoisoned())) {
          evict(s);
        }
      }
      touched.clear();
    }

    @Override
    public ConversationState state(String conversationId) {
      ConversationState s = states.get(conversationId);
      if (s != null && s.epoch() != store.epoch(conversationId)) {
        // A commit failed since this state was loaded: the store rejects every write it ran
        // ahead with, so the disk is the truth again.
        states.remove(conversationId);
        s = null;
      } else if (s != null && s.isPoisoned()) {
        if (s.pendingCommits() > 0) {
          // Writes built on the broken state may still land; reloading before they settle
          // could reuse their seqs.
          throw new ParleyException(
              ErrorCode.UNAVAILABLE, "conversation is recovering, retry", RECOVERY_RETRY_AFTER_MS);
        }
        states.remove(conversationId);
        s = null;
      }
      if (s == null) {
        s = ConversationState.load(store, conversationId);
        states.put(conversationId, s);
      }
      if (!touched.contains(s)) {
        touched.add(s);
      }
      return s;
    }

    @Override
    public CompletableFuture<Void> commit(StateChange change) {
      ConversationState s = change.state();
      if (!s.hasOpenChange()) {
        throw new IllegalStateException("change already committed");
      }
      s.closeChange();
      if (change.isEmpty()) {
        throw new IllegalArgumentException("empty change");
      }
      StoreWrite write = change.finish();
      long writeNo = change.writeNo();
      CompletableFuture<Void> stored;
      try {
        stored = store.write(write);
      } catch (RuntimeException e) {
        // Rejected before queueing (invalid input): nothing later may build on this state.
        s.poison();
        stored = CompletableFuture.failedFuture(e);
      }
      s.commitStarted();
      CompletableFuture<Void> done = new CompletableFuture<>();
      stored.whenCompleteAsync(
          (v, e) -> {
            s.commitFinished();
            if (e == null) {
              s.committed(writeNo);
              done.complete(null);
            } else {
              s.poison();
              done.completeExceptionally(EngineFailures.map(e));
            }
          },
          callbacks);
      s.setTail(done);
      return done;
    }

    private void evict(ConversationState s) {
      if (states.get(s.conversationId()) == s) {
        states.remove(s.conversationId());
      }
    }
  }
}
