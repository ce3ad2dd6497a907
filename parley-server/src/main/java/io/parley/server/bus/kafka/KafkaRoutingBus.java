package io.parley.server.bus.kafka;

import io.parley.protocol.cluster.v1.InterestKey;
import io.parley.protocol.cluster.v1.InterestKind;
import io.parley.protocol.cluster.v1.InterestValue;
import io.parley.protocol.cluster.v1.RouteDelivery;
import io.parley.protocol.cluster.v1.RouteEvicted;
import io.parley.protocol.cluster.v1.RouteInterestAck;
import io.parley.server.bus.BusMessage;
import io.parley.server.bus.EventBus;
import io.parley.server.bus.local.LocalEventBus;
import io.parley.server.core.DaemonThreads;
import io.parley.server.presence.ConnectedUsers;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine side of cluster routing: an {@link EventBus} whose {@link #publish} writes each
 * message once to the deliveries topic of every gateway that registered interest in it (and hands
 * it to this node's own subscribers, e.g. the notification service), instead of broadcasting every
 * message to every gateway.
 *
 * <p>A reader thread reads the whole compacted {@code <prefix>interest} topic from the beginning
 * into a {@link RoutingTable} and acknowledges each fresh interest record on the writing gateway's
 * deliveries topic, naming the engines registered before that record; the gateway lets the
 * session's sync proceed once all of them acknowledged (see {@code KafkaInterestRegistry}). The
 * engine writes its own heartbeat to the topic, evicts gateways and engines silent longer than the
 * liveness timeout (tombstoning their records), and becomes ready in {@link #start} only after it
 * has read the topic up to its own registration (it reads the existing records first, registers,
 * then reads the rest), so it never routes with a table older than the point from which gateways
 * wait for its acknowledgements.
 *
 * <p>Order: a conversation's messages are published from one sequencer lane, and one idempotent
 * producer writes them to each gateway's single-partition topic, so every gateway reads them in
 * publication order. Thread-safe.
 */
public final class KafkaRoutingBus implements EventBus, ConnectedUsers {
  private static final Logger log = LoggerFactory.getLogger(KafkaRoutingBus.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final KafkaSettings settings;
  private final RoutingSettings routing;
  private final Clock clock;
  private final LocalEventBus local = new LocalEventBus();
  private final RoutingTable table = new RoutingTable();
  private volatile BiConsumer<String, Boolean> connectivityListener;
  private volatile boolean reportingConnectivity;
  private final KafkaProducer<byte[], byte[]> producer;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final ScheduledExecutorService timer;
  private final Thread reader;
  private final TopicPartition interest;
  private final CountDownLatch ready = new CountDownLatch(1);
  private final AtomicLong routedRecords = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();
  private volatile long readyOffset = Long.MAX_VALUE;
  private volatile boolean closed;
  private volatile boolean readerStarted;

  private KafkaRoutingBus(KafkaSettings settings, RoutingSettings routing, Clock clock) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.routing = Objects.requireNonNull(routing, "routing");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.interest = new TopicPartition(settings.topic(RoutingTopics.INTEREST), 0);
    var producerProps = KafkaClients.producer(settings, "routing");
    // Never block a sequencer lane for long on metadata of a vanished gateway's topic.
    producerProps.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) settings.requestTimeout().toMillis());
    this.producer =
        new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
    this.consumer =
        new KafkaConsumer<>(
            KafkaClients.consumer(settings, "interest-reader", null),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer());
    this.timer =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("parley-routing-liveness"));
    this.reader = DaemonThreads.thread(this::readInterest, "parley-routing-interest-reader");
  }

  /**
   * Creates the interest topic if needed, registers this engine ({@code settings.nodeId()}), reads
   * the interest topic up to that registration and starts heartbeats and eviction. Returns a bus
   * ready to route; throws {@link IllegalStateException} if Kafka is unreachable.
   */
  public static KafkaRoutingBus start(KafkaSettings settings, RoutingSettings routing) {
    return start(settings, routing, Clock.systemUTC());
  }

  static KafkaRoutingBus start(KafkaSettings settings, RoutingSettings routing, Clock clock) {
    try (Admin admin = Admin.create(KafkaClients.admin(settings))) {
      RoutingTopics.ensureInterestTopic(admin, settings);
    }
    KafkaRoutingBus bus = new KafkaRoutingBus(settings, routing, clock);
    try {
      bus.begin();
      return bus;
    } catch (RuntimeException e) {
      bus.close();
      throw e;
    }
  }

  private void begin() {
    consumer.assign(List.of(interest));
    consumer.seekToBeginning(List.of(interest));
    // Read what is there before registering: from the registration on, gateways wait for this
    // engine's acknowledgements, so the shorter the rest of the catch-up, the shorter that wait.
    long end = consumer.endOffsets(List.of(interest), START_TIMEOUT).get(interest);
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (consumer.position(interest, START_TIMEOUT) < end) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out reading " + interest.topic());
      }
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        applyRecord(r);
      }
    }
    RecordMetadata own;
    try {
      own = heartbeat().get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot register engine in " + interest.topic(), e);
    }
    readyOffset = own.offset();
    // The reader now owns the consumer (Thread.start orders our use of it before the thread's).
    readerStarted = true;
    reader.start();
    try {
      if (!ready.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("timed out reading " + interest.topic());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading " + interest.topic(), e);
    }
    long period = routing.heartbeatInterval().toMillis();
    timer.scheduleAtFixedRate(this::liveness, period, period, TimeUnit.MILLISECONDS);
  }

  @Override
  public void publish(BusMessage message) {
    local.publish(message);
    if (closed) {
      return; // shutting down: the gateways' sessions recover what they miss by sync
    }
    List<String> gateways = List.copyOf(table.gatewaysFor(message));
    if (gateways.isEmpty()) {
      return;
    }
    byte[] bytes = BusMessageCodec.encode(message).toByteArray();
    routedRecords.addAndGet(gateways.size());
    for (String gw : gateways) {
      send(gw, bytes);
    }
  }

  @Override
  public AutoCloseable subscribe(Consumer<BusMessage> listener) {
    return local.subscribe(listener);
  }

  /** Bus messages written to gateways' deliveries topics so far, one per gateway reached. */
  public long routedRecords() {
    return routedRecords.get();
  }

  /** Gateways this engine has evicted for silence so far. */
  public long evictions() {
    return evictions.get();
  }

  /** The gateways this engine currently routes to (sorted; for tests and diagnostics). */
  public List<String> knownGateways() {
    return table.gateways();
  }

  /** The engines this engine knows as registered (sorted; for tests and diagnostics). */
  public List<String> knownEngines() {
    return table.engines();
  }

  private void send(String gateway, byte[] bytes) {
    try {
      producer.send(
          new ProducerRecord<>(RoutingTopics.deliveries(settings, gateway), bytes),
          (md, err) -> {
            if (err != null) {
              // The gateway's sessions miss this record; the events are durable, and a client
              // syncs the gap when the next event's seq does not follow what it has.
              log.warn("routing to gateway {} failed: {}", gateway, err.toString());
            }
          });
    } catch (RuntimeException e) {
      // Closed producer or metadata timeout: never fail the publishing sequencer lane for it.
      log.warn("routing to gateway {} failed: {}", gateway, e.toString());
    }
  }


  private void readInterest() {
    try {
      while (!closed) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          applyRecord(r);
        }
        if (ready.getCount() > 0 && consumer.position(interest) > readyOffset) {
          ready.countDown();
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      if (!closed) {
        log.error("interest reader stopped; routing table is frozen", e);
      }
    } finally {
      consumer.close(Duration.ofSeconds(1));
    }
  }

  private void applyRecord(ConsumerRecord<byte[], byte[]> r) {
    InterestKey key;
    InterestValue value;
    try {
      key = RoutingTopics.parseKey(r.key());
      value = RoutingTopics.parseValue(r.value());
    } catch (IllegalArgumentException e) {
      log.warn("skipping malformed interest record at offset {}: {}", r.offset(), e.getMessage());
      return;
    }
    long now = clock.millis();
    table.apply(key, value != null, now);
    reportUserChanges();
    if (value != null
        && value.getCorrelationId() != 0
        && r.timestamp() >= now - settings.requestTimeout().toMillis() - 1_000) {
      // Only fresh records are acknowledged: older ones (read at start) have no waiter left.
      RouteInterestAck.Builder ack =
          RouteInterestAck.newBuilder()
              .setCorrelationId(value.getCorrelationId())
              .setEngineId(settings.nodeId())
              .addAllEngines(table.engines());
      send(key.getNodeId(), RouteDelivery.newBuilder().setInterestAck(ack).build().toByteArray());
    }
  }

  @Override
  public boolean isConnected(String userId) {
    return table.hasUser(userId);
  }

  @Override
  public void setListener(BiConsumer<String, Boolean> listener) {
    this.connectivityListener = listener;
  }

  /**
   * From now on tells the {@link ConnectedUsers} listener of every change (called once the engine
   * is wired; every engine follows every user, and presence announces only its own shards' users).
   */
  public void startReportingConnectivity() {
    reportingConnectivity = true;
  }

  private void reportUserChanges() {
    List<Map.Entry<String, Boolean>> changes = table.drainUserChanges();
    BiConsumer<String, Boolean> listener = connectivityListener;
    if (!reportingConnectivity || listener == null) {
      return;
    }
    for (Map.Entry<String, Boolean> c : changes) {
      try {
        listener.accept(c.getKey(), c.getValue());
      } catch (RuntimeException e) {
        log.warn("presence update for {} failed: {}", c.getKey(), e.toString());
      }
    }
  }

  private Future<RecordMetadata> heartbeat() {
    return writeInterest(settings.nodeId(), InterestKind.INTEREST_KIND_ENGINE_ALIVE, "", true);
  }

  private Future<RecordMetadata> writeInterest(
      String node, InterestKind kind, String id, boolean present) {
    byte[] value = present ? RoutingTopics.value(0, clock.millis()) : null;
    return producer.send(
        new ProducerRecord<>(interest.topic(), 0, RoutingTopics.key(node, kind, id), value));
  }

  private void liveness() {
    try {
      heartbeat();
      long cutoff = clock.millis() - routing.livenessTimeout().toMillis();
      for (String gw : table.silentGateways(cutoff)) {
        log.warn("gateway {} silent for more than {}; evicting it", gw, routing.livenessTimeout());
        evictions.incrementAndGet();
        for (InterestKey k : table.evictGateway(gw)) {
          writeInterest(k.getNodeId(), k.getKind(), k.getId(), false);
        }
        reportUserChanges();
        // Tell the gateway only once the tombstones are written: what it declares again after
        // the notice then lands behind them in the (single-partition) topic and stays in force.
        producer.send(
            new ProducerRecord<>(
                interest.topic(),
                0,
                RoutingTopics.key(gw, InterestKind.INTEREST_KIND_GATEWAY_ALIVE, ""),
                null),
            (md, err) -> {
              if (err == null) {
                send(
                    gw,
                    RouteDelivery.newBuilder()
                        .setEvicted(RouteEvicted.newBuilder().setEngineId(settings.nodeId()))
                        .build()
                        .toByteArray());
              } else {
                log.warn("tombstoning gateway {} failed: {}", gw, err.toString());
              }
            });
      }
      for (String engine : table.silentEngines(cutoff)) {
        if (!engine.equals(settings.nodeId())) {
          log.warn("engine {} silent for more than {}; deregistering it", engine, routing.livenessTimeout());
          writeInterest(engine, InterestKind.INTEREST_KIND_ENGINE_ALIVE, "", false);
        }
      }
    } catch (RuntimeException e) {
      log.warn("routing liveness round failed", e);
    }
  }

  /**
   * Stops routing. The engine's registration is withdrawn, so gateways stop waiting for its
   * acknowledgements at once rather than after the liveness timeout.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    timer.shutdownNow();
    try {
      if (ready.getCount() == 0) {
        writeInterest(settings.nodeId(), InterestKind.INTEREST_KIND_ENGINE_ALIVE, "", false);
      }
    } catch (RuntimeException e) {
      log.warn("withdrawing engine registration failed", e);
    }
    stopReader();
    producer.close(Duration.ofSeconds(5));
    local.close();
  }

  /**
   * Simulates a crash for tests: stops heartbeats and reading without withdrawing anything, as
   * {@code kill -9} would.
   */
  void crash() {
    closed = true;
    timer.shutdownNow();
    stopReader();
    producer.close(Duration.ZERO);
  }

  private void stopReader() {
    if (!readerStarted) {
      consumer.close(Duration.ZERO); // start failed before the reader took the consumer over
      return;
    }
    consumer.wakeup();
    try {
      reader.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
