package io.parley.server.messaging;

import io.parley.server.bus.EventBus;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.DaemonThreads;
import io.parley.server.delivery.DeliveryService;
import io.parley.server.delivery.DeliveryServiceImpl;
import io.parley.server.presence.ConnectedUsers;
import io.parley.server.presence.PresenceService;
import io.parley.server.presence.PresenceServiceImpl;
import io.parley.server.store.ParleyStore;
import io.parley.server.user.UserService;
import io.parley.server.user.UserServiceImpl;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wired messaging engine: the five services over one store and one bus, with the sequencer
 * lanes and the read executor they share. {@link #close} is graceful: the sequencer stops
 * admitting commands and finishes the queued ones and their commits, then the read executor
 * finishes its queued reads. Close the engine before the store. Thread-safe.
 *
 * <p>Service futures complete on engine threads (a sequencer lane or the read executor), never on
 * the caller's thread and never on the store's writer thread: continuations must be quick and
 * non-blocking (a Netty {@code writeAndFlush} is fine), or use the {@code thenXxxAsync} variants.
 *
 * @param resources stops the lanes and executors (called by {@link #close})
 */
public record EngineModule(
    ConversationService conversations,
    MessageService messages,
    DeliveryService delivery,
    PresenceService presence,
    UserService users,
    AutoCloseable resources)
    implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EngineModule.class);
  private static final long READS_CLOSE_TIMEOUT_MS = 10_000;

  public EngineModule {
    Objects.requireNonNull(conversations, "conversations");
    Objects.requireNonNull(messages, "messages");
    Objects.requireNonNull(delivery, "delivery");
    Objects.requireNonNull(presence, "presence");
    Objects.requireNonNull(users, "users");
    Objects.requireNonNull(resources, "resources");
  }

  /**
   * Wires the engine.
   *
   * @param lanes sequencer lanes (threads); {@code <= 0} means one per available processor
   * @param clock source of event timestamps and presence times
   */
  public static EngineModule create(
      ParleyStore store, EventBus bus, ParleyConfig.Limits limits, int lanes, Clock clock) {
    return create(store, bus, limits, lanes, clock, BeforeSendHook.NONE, null, userId -> true);
  }

  /**
   * Wires the engine with a before-send hook that checks every new and edited message before it
   * is sequenced; in a cluster, presence takes connectivity from {@code connected} (the gateways'
   * routing declarations) instead of counting connects in this process (null: count them here),
   * and this engine announces the presence of the users {@code announces} accepts (those of the
   * shards it owns).
   */
  public static EngineModule create(
      ParleyStore store,
      EventBus bus,
      ParleyConfig.Limits limits,
      int lanes,
      Clock clock,
      BeforeSendHook beforeSend,
      ConnectedUsers connected,
      Predicate<String> announces) {
    Objects.requireNonNull(beforeSend, "beforeSend");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(bus, "bus");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(clock, "clock");
    int processors = Runtime.getRuntime().availableProcessors();
    LaneSequencer sequencer = LaneSequencer.create(store, lanes > 0 ? lanes : processors);
    ExecutorService reads = readExecutor(Math.max(2, Math.min(16, 2 * processors)));
    EngineContext ctx =
        new EngineContext(store, bus, limits, clock, sequencer, reads, new ConversationViews(store));
    AutoCloseable resources =
        () -> {
          sequencer.close();
          reads.shutdown();
          try {
            if (!reads.awaitTermination(READS_CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
              log.warn("engine read executor did not finish in time");
              reads.shutdownNow();
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reads.shutdownNow();
          }
        };
    PresenceServiceImpl presence =
        new PresenceServiceImpl(
            store, bus, clock, reads, limits.maxGroupMembers(), connected, announces);
    presence.follow();
    return new EngineModule(
        new ConversationServiceImpl(ctx),
        new MessageServiceImpl(ctx, beforeSend),
        new DeliveryServiceImpl(ctx),
        presence,
        new UserServiceImpl(store, bus, clock, reads),
        resources);
  }

  private static ExecutorService readExecutor(int threads) {
    return new ThreadPoolExecutor(
        threads,
        threads,
        0,
        TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(),
        DaemonThreads.numbered("parley-read-"));
  }

  /** Stops the engine gracefully (see the type's documentation). */
  @Override
  public void close() {
    try {
      resources.close();
    } catch (Exception e) {
      log.warn("engine close failed", e);
    }
  }
}
