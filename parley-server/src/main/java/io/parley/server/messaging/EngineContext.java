package io.parley.server.messaging;

import io.parley.server.bus.BusMessage;
import io.parley.server.bus.EventBus;
import io.parley.server.config.ParleyConfig;
import io.parley.server.store.ParleyStore;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every engine service shares: the store, the bus, the limits, the clock, the sequencer, the
 * executor for blocking reads that need no ordering, and the view builder. Immutable; the
 * components are thread-safe.
 *
 * @param reads runs blocking store reads off the caller's thread (never a Netty event loop)
 */
public record EngineContext(
    ParleyStore store,
    EventBus bus,
    ParleyConfig.Limits limits,
    Clock clock,
    Sequencer sequencer,
    Executor reads,
    ConversationViews views) {
  private static final Logger log = LoggerFactory.getLogger(EngineContext.class);

  public EngineContext {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(bus, "bus");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(sequencer, "sequencer");
    Objects.requireNonNull(reads, "reads");
    Objects.requireNonNull(views, "views");
  }

  /**
   * Commits a change and, once durable, publishes its events on the bus. Runs on the lane: the
   * commit future completes on the lane in commit order, so publishes of one conversation follow
   * seq order. A failing publish is logged and does not fail the command (the events are durable
   * and reach clients through sync).
   */
  public CompletableFuture<Void> commitAndPublish(LaneContext lane, StateChange change) {
    return lane.commit(change)
        .thenRun(() -> change.committedEvents().ifPresent(this::publish));
  }

  /** Publishes a bus message, logging instead of propagating a failure. */
  public void publish(BusMessage message) {
    try {
      bus.publish(message);
    } catch (RuntimeException e) {
      log.error("bus publish failed", e);
    }
  }

  /** Runs a blocking read on the read executor. */
  public <T> CompletableFuture<T> read(java.util.function.Supplier<T> read) {
    return CompletableFuture.supplyAsync(read, reads);
  }
}
