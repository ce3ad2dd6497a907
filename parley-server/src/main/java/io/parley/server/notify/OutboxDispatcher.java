package io.parley.server.notify;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.StoreWrite;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the durable outbox: every poll (and whenever woken) it reads the head job of each lane,
 * attempts the due ones through the {@link JobHandler} of their kind, and commits the outcome:
 * removes a done job, reschedules a failed one with {@link RetryBackoff} or moves it to the
 * dead-letter list after {@code maxAttempts}. Only a lane's head is ever attempted and a lane has
 * at most one attempt in flight, which gives per-lane ordering.
 *
 * <p>A job leaves the outbox only after its delivery was acknowledged (or it was dead-lettered),
 * so delivery is at-least-once: a crash between the acknowledgement and the removal's commit
 * repeats that one delivery with the same delivery id after the restart.
 *
 * <p>Confined to the notification executor (single thread); {@link #wake()} may be called from
 * any thread.
 */
final class OutboxDispatcher {
  private static final Logger log = LoggerFactory.getLogger(OutboxDispatcher.class);
  private static final int LANES_PER_PAGE = 512;
  private static final int MAX_IN_FLIGHT = 256;

  private final ParleyStore store;
  private final Map<String, JobHandler> handlers;
  private final ScheduledExecutorService executor;
  private final RetryBackoff backoff;
  private final int maxAttempts;
  private final Clock clock;
  private final Set<String> inFlightLanes = new HashSet<>();
  private final AtomicBoolean wakeQueued = new AtomicBoolean();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final MeterRegistry metrics;
  private volatile boolean stopped;
  private volatile ScheduledFuture<?> polling;

  OutboxDispatcher(
      ParleyStore store,
      Map<String, JobHandler> handlers,
      ScheduledExecutorService executor,
      RetryBackoff backoff,
      int maxAttempts,
      Clock clock,
      MeterRegistry metrics) {
    this.store = store;
    this.handlers = Map.copyOf(handlers);
    this.executor = executor;
    this.backoff = backoff;
    this.maxAttempts = maxAttempts;
    this.clock = clock;
    this.metrics = metrics;
  }

  /** Starts (or, after {@link #stop}, restarts) polling every {@code intervalMs}. */
  void start(long intervalMs) {
    stopped = false;
    polling =
        executor.scheduleWithFixedDelay(this::pollSafely, 0, intervalMs, TimeUnit.MILLISECONDS);
  }

  /** Stops attempting new jobs; attempts in flight are abandoned and repeat after a restart. */
  void stop() {
    stopped = true;
    ScheduledFuture<?> p = polling;
    if (p != null) {
      p.cancel(false);
    }
  }

  /** Asks for a poll soon (new jobs were written). Any thread. */
  void wake() {
    if (!stopped && wakeQueued.compareAndSet(false, true)) {
      try {
        executor.execute(
            () -> {
              wakeQueued.set(false);
              pollSafely();
            });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        wakeQueued.set(false);
      }
    }
  }

  /** Number of lanes with an attempt in flight (notification thread only). */
  int inFlight() {
    return inFlightLanes.size();
  }

  private void pollSafely() {
    try {
      poll();
    } catch (RuntimeException e) {
      log.warn("outbox poll failed: {}", e.toString());
    }
  }

  private void poll() {
    if (stopped) {
      return;
    }
    long now = clock.millis();
    String after = "";
    while (inFlightLanes.size() < MAX_IN_FLIGHT) {
      List<OutboxJob> heads = store.outboxLaneHeads(after, LANES_PER_PAGE);
      for (OutboxJob job : heads) {
        if (inFlightLanes.size() >= MAX_IN_FLIGHT) {
          return;
        }
        if (job.nextAttemptAtMs() <= now && !inFlightLanes.contains(job.lane())) {
          attempt(job);
        }
      }
      if (heads.size() < LANES_PER_PAGE) {
        return;
      }
      after = heads.get(heads.size() - 1).lane();
    }
  }

  private void attempt(OutboxJob job) {
    JobHandler handler = handlers.get(job.kind());
    inFlightLanes.add(job.lane());
    CompletableFuture<JobOutcome> outcome;
    if (handler == null) {
      outcome =
          CompletableFuture.completedFuture(
              new JobOutcome.Permanent("no handler for job kind " + job.kind()));
    } else {
      try {
        outcome = handler.attempt(job);
      } catch (RuntimeException e) {
        outcome =
            CompletableFuture.completedFuture(new JobOutcome.Failed(e.toString(), 0));
      }
    }
    outcome
        .exceptionally(e -> new JobOutcome.Failed(e.toString(), 0))
        .thenAcceptAsync(o -> settle(job, o), executor)
        .exceptionally(
            e -> {
              // Rejected after close: the job stays in the outbox and runs after a restart.
              return null;
            });
  }

  private void settle(OutboxJob job, JobOutcome outcome) {
    try {
      if (stopped) {
        return;
      }
      StoreWrite w = new StoreWrite().removeOutboxJob(job);
      long now = clock.millis();
      String result;
      if (outcome instanceof JobOutcome.Done d) {
        d.alsoWrite().accept(w);
        result = d.note();
      } else if (outcome instanceof JobOutcome.Postponed p) {
        w.putOutboxJob(job.postponed(Math.max(p.atMs(), now + 1), p.reason()));
        result = "postponed";
      } else if (outcome instanceof JobOutcome.Failed f) {
        if (job.attempts() + 1 >= maxAttempts) {
          w.putDeadLetter(job.failed(f.error(), now));
          result = "dead_lettered";
          log.warn("{} dead-lettered after {} attempts: {}", job, job.attempts() + 1, f.error());
        } else {
          long delay = Math.max(f.retryAfterMs(), backoff.delayMs(job.attempts() + 1));
          w.putOutboxJob(job.failed(f.error(), now + delay));
          result = "retried";
        }
      } else {
        String error = ((JobOutcome.Permanent) outcome).error();
        w.putDeadLetter(job.failed(error, now));
        result = "dead_lettered";
        log.warn("{} dead-lettered: {}", job, error);
      }
      store.write(w).join();
      count(job.kind(), result);
    } catch (RuntimeException e) {
      log.warn("cannot settle {}: {}", job, e.toString());
    } finally {
      inFlightLanes.remove(job.lane());
    }
    wake();
  }

  private void count(String kind, String result) {
    counters
        .computeIfAbsent(
            kind + "/" + result,
            k ->
                Counter.builder("parley.notify.jobs")
                    .description("Outbox job attempts by kind and result")
                    .tag("kind", kind)
                    .tag("result", result)
                    .register(metrics))
        .increment();
  }
}
