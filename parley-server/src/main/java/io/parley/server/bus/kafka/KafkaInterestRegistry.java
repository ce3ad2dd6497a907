package io.parley.server.bus.kafka;

import io.parley.protocol.cluster.v1.InterestKind;
import io.parley.protocol.cluster.v1.RouteInterestAck;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.DaemonThreads;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.live.InterestRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's {@link InterestRegistry} in a cluster: writes each declared interest as a record
 * keyed (gateway, kind, id) to the compacted {@code <prefix>interest} topic, and a withdrawal as
 * that key's tombstone; writes the gateway's heartbeat there every heartbeat interval.
 *
 * <p>A declaration is in force once every engine registered before it in the topic has
 * acknowledged it (acknowledgements arrive on the gateway's deliveries topic, through {@link
 * KafkaDeliveryBus}; each names the engines registered before the record, so an engine that
 * joined earlier is waited for and one that joins later reads the record before it routes). If
 * they do not answer within the request timeout (an engine died and is not yet deregistered), the
 * waiters fail with a retryable {@code UNAVAILABLE} and the next waiter re-declares the interest.
 *
 * <p>If an engine evicts this gateway (it was silent too long, e.g. a long GC pause or network
 * partition), every interest is re-declared and the loss listeners run: sessions may have missed
 * events meanwhile, so the gateway closes them and their clients reconnect and sync. Thread-safe.
 */
public final class KafkaInterestRegistry implements InterestRegistry, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaInterestRegistry.class);

  private final KafkaSettings settings;
  private final String topic;
  private final KafkaProducer<byte[], byte[]> producer;
  private final ScheduledExecutorService timer;
  // Declarations come from sessions on Netty event loops; KafkaProducer.send may block (metadata,
  // full buffer) for up to max.block.ms, so records are handed to this thread, in order.
  private final java.util.concurrent.ExecutorService sender;
  private final Map<Interest, Declaration> declared = new HashMap<>();
  private final Map<Long, Declaration> pending = new HashMap<>();
  private final List<Runnable> evictionListeners = new CopyOnWriteArrayList<>();
  private long nextCorrelation = 1;
  private volatile long heartbeatMs;
  private volatile long lastHeartbeatMs = System.currentTimeMillis();
  private ScheduledFuture<?> heartbeats;
  private volatile boolean closed;

  private static final class Declaration {
    final long correlationId;
    final CompletableFuture<Void> future = new CompletableFuture<>();
    final Set<String> required = new HashSet<>();
    final Set<String> acked = new HashSet<>();

    Declaration(long correlationId) {
      this.correlationId = correlationId;
    }
  }

  private KafkaInterestRegistry(KafkaSettings settings) {
    this.settings = settings;
    this.topic = settings.topic(RoutingTopics.INTEREST);
    var props = KafkaClients.producer(settings, "interest");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) settings.requestTimeout().toMillis());
    this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    this.timer =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("parley-interest-registry"));
    this.sender =
        Executors.newSingleThreadExecutor(DaemonThreads.named("parley-interest-sender"));
  }

  /**
   * Registers this gateway ({@code settings.nodeId()}) in the interest topic and starts its
   * heartbeat. {@code deliveries} must be this gateway's started bus: acknowledgements and
   * eviction notices arrive through it.
   */
  public static KafkaInterestRegistry start(
      KafkaSettings settings, RoutingSettings routing, KafkaDeliveryBus deliveries) {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(routing, "routing");
    Objects.requireNonNull(deliveries, "deliveries");
    try (Admin admin = Admin.create(KafkaClients.admin(settings))) {
      RoutingTopics.ensureInterestTopic(admin, settings);
    }
    KafkaInterestRegistry r = new KafkaInterestRegistry(settings);
    deliveries.onAck(r::acknowledged);
    deliveries.onEvicted(r::evicted);
    try {
      r.heartbeat().get(settings.requestTimeout().toMillis() + 30_000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      r.close();
      throw new IllegalStateException("cannot register gateway in " + r.topic, e);
    }
    r.heartbeatMs = routing.heartbeatInterval().toMillis();
    r.resumeHeartbeats();
    return r;
  }

  /** Runs {@code listener} (on the deliveries reader thread) when an engine evicted this gateway. */
  @Override
  public void addLossListener(Runnable listener) {
    evictionListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  @Override
  public synchronized void declare(Interest interest) {
    if (closed) {
      return; // shutting down: sessions are closing, nothing will wait for this
    }
    send(interest, newDeclaration(interest));
  }

  @Override
  public synchronized void withdraw(Interest interest) {
    Declaration d = declared.remove(interest);
    if (d != null) {
      pending.remove(d.correlationId);
      // Nobody needs this interest any more, so nothing is left to wait for.
      d.future.complete(null);
    }
    send(interest, null);
  }

  @Override
  public CompletableFuture<Void> inForce(Collection<Interest> interests) {
    List<CompletableFuture<Void>> waits = new ArrayList<>();
    synchronized (this) {
      for (Interest i : interests) {
        Declaration d = declared.get(i);
        if (d == null) {
          continue;
        }
        if (d.future.isCompletedExceptionally() && !closed) {
          // The engines did not confirm in time; the record is re-sent under a new correlation.
          d = newDeclaration(i);
          send(i, d);
        }
        if (!d.future.isDone()) {
          waits.add(d.future);
        }
      }
    }
    return waits.isEmpty()
        ? CompletableFuture.completedFuture(null)
        : CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new));
  }

  /** The number of interests currently declared (for tests and metrics). */
  public synchronized int declaredCount() {
    return declared.size();
  }

  private Declaration newDeclaration(Interest interest) {
    Declaration d = new Declaration(nextCorrelation++);
    Declaration old = declared.put(interest, d);
    if (old != null) {
      pending.remove(old.correlationId);
      // A waiter on the superseded record is served by the new one.
      d.future.whenComplete(
          (v, e) -> {
            if (e == null) {
              old.future.complete(null);
            } else {
              old.future.completeExceptionally(e);
            }
          });
    }
    pending.put(d.correlationId, d);
    timer.schedule(() -> expire(d), settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    return d;
  }

  private void send(Interest interest, Declaration d) {
    if (closed) {
      return;
    }
    byte[] key = RoutingTopics.key(settings.nodeId(), kind(interest.kind()), interest.id());
    byte[] value = d == null ? null : RoutingTopics.value(d.correlationId, System.currentTimeMillis());
    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, 0, key, value);
    try {
      sender.execute(
          () -> {
            try {
              producer.send(
                  record,
                  (md, err) -> {
                    if (err != null) {
                      sendFailed(interest, d, err);
                    }
                  });
            } catch (RuntimeException e) {
              sendFailed(interest, d, e);
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      sendFailed(interest, d, e);
    }
  }

  private void sendFailed(Interest interest, Declaration d, Throwable err) {
    if (d != null) {
      fail(d, err);
    } else {
      log.warn("withdrawing interest {} failed: {}", interest, err.toString());
    }
  }

  private synchronized void acknowledged(RouteInterestAck ack) {
    Declaration d = pending.get(ack.getCorrelationId());
    if (d == null) {
      return;
    }
    d.required.addAll(ack.getEnginesList());
    d.acked.add(ack.getEngineId());
    if (d.acked.containsAll(d.required)) {
      pending.remove(d.correlationId);
      d.future.complete(null);
    }
  }

  private void expire(Declaration d) {
    Set<String> missing;
    synchronized (this) {
      if (pending.remove(d.correlationId) == null) {
        return;
      }
      missing = new HashSet<>(d.required);
      missing.removeAll(d.acked);
    }
    d.future.completeExceptionally(
        new ParleyException(
            ErrorCode.UNAVAILABLE,
            missing.isEmpty()
                ? "no engine confirmed the session's routing; retry"
                : "engines " + missing + " did not confirm the session's routing; retry",
            1_000));
  }

  private void fail(Declaration d, Throwable err) {
    synchronized (this) {
      pending.remove(d.correlationId);
    }
    d.future.completeExceptionally(
        new ParleyException(
            ErrorCode.UNAVAILABLE, "cannot register the session's routing; retry", 1_000, err));
  }

  private synchronized void evicted() {
    heartbeat();
    for (Interest i : List.copyOf(declared.keySet())) {
      send(i, newDeclaration(i));
    }
    evictionListeners.forEach(
        l -> {
          try {
            l.run();
          } catch (RuntimeException e) {
            log.warn("eviction listener failed", e);
          }
        });
  }

  private Future<RecordMetadata> heartbeat() {
    return producer.send(
        new ProducerRecord<>(
            topic,
            0,
            RoutingTopics.key(settings.nodeId(), InterestKind.INTEREST_KIND_GATEWAY_ALIVE, ""),
            RoutingTopics.value(0, System.currentTimeMillis())),
        (md, err) -> {
          if (err == null) {
            lastHeartbeatMs = System.currentTimeMillis();
          }
        });
  }

  /**
   * True while this gateway's heartbeats reach Kafka (the last one was written within three
   * heartbeat intervals plus the request timeout): the gateway's readiness check, so a load
   * balancer stops sending clients to a gateway cut off from the cluster.
   */
  public boolean isLinked() {
    long allowed = 3 * Math.max(heartbeatMs, 1_000) + settings.requestTimeout().toMillis();
    return !closed && System.currentTimeMillis() - lastHeartbeatMs <= allowed;
  }

  private static InterestKind kind(Kind kind) {
    return switch (kind) {
      case USER -> InterestKind.INTEREST_KIND_USER;
      case CHANNEL -> InterestKind.INTEREST_KIND_CHANNEL;
      case PRESENCE -> InterestKind.INTEREST_KIND_PRESENCE;
    };
  }

  /**
   * Withdraws every interest and the gateway's registration, so engines stop routing here at once
   * (a crashed gateway is evicted after the liveness timeout instead).
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      for (Interest i : List.copyOf(declared.keySet())) {
        withdraw(i);
      }
      closed = true;
    }
    timer.shutdownNow();
    // The withdrawals above are queued on the sender: let them go out before the last record.
    sender.shutdown();
    try {
      if (!sender.awaitTermination(5, TimeUnit.SECONDS)) {
        sender.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      sender.shutdownNow();
    }
    try {
      producer.send(
          new ProducerRecord<>(
              topic,
              0,
              RoutingTopics.key(settings.nodeId(), InterestKind.INTEREST_KIND_GATEWAY_ALIVE, ""),
              null));
    } catch (RuntimeException e) {
      log.warn("withdrawing gateway registration failed", e);
    }
    producer.close(Duration.ofSeconds(5));
  }

  /** Stops heartbeats, as a long pause of the process would (for tests). */
  synchronized void pauseHeartbeats() {
    heartbeats.cancel(false);
  }

  /** Starts heartbeats (again). */
  synchronized void resumeHeartbeats() {
    heartbeats =
        timer.scheduleAtFixedRate(this::heartbeat, heartbeatMs, heartbeatMs, TimeUnit.MILLISECONDS);
  }

  /** Simulates {@code kill -9} for tests: stops heartbeats and writes nothing more. */
  void crash() {
    synchronized (this) {
      closed = true;
    }
    timer.shutdownNow();
    sender.shutdownNow();
    producer.close(Duration.ZERO);
  }
}
