package io.parley.server.bus.kafka;

import io.parley.protocol.cluster.v1.RouteDelivery;
import io.parley.protocol.cluster.v1.RouteInterestAck;
import io.parley.server.bus.BusMessage;
import io.parley.server.bus.EventBus;
import io.parley.server.bus.local.LocalEventBus;
import io.parley.server.core.DaemonThreads;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway side of cluster routing: an {@link EventBus} whose subscribers (the gateway's {@code
 * LiveDispatcher}) receive the messages engines routed to this node's own deliveries topic, {@code
 * <prefix>deliveries.<nodeId>}, in the order they were written, on one reader thread. A gateway
 * reads only what its sessions are interested in, never the whole cluster's traffic.
 *
 * <p>Interest acknowledgements and eviction notices on the same topic go to the handlers the
 * {@link KafkaInterestRegistry} installs. {@link #publish} hands a message to this node's
 * subscribers only: a gateway has no engine, and messages from the engines arrive by the topic.
 * Thread-safe.
 */
public final class KafkaDeliveryBus implements EventBus {
  private static final Logger log = LoggerFactory.getLogger(KafkaDeliveryBus.class);

  private final LocalEventBus local = new LocalEventBus();
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread reader;
  private final String topic;
  private final List<Consumer<RouteInterestAck>> ackHandlers = new CopyOnWriteArrayList<>();
  private final List<Runnable> evictionHandlers = new CopyOnWriteArrayList<>();
  private final AtomicLong recordsRead = new AtomicLong();
  private final AtomicLong messagesRead = new AtomicLong();
  private volatile boolean closed;

  private KafkaDeliveryBus(KafkaSettings settings) {
    this.topic = RoutingTopics.deliveries(settings, settings.nodeId());
    this.consumer =
        new KafkaConsumer<>(
            KafkaClients.consumer(settings, "deliveries-reader", null),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer());
    TopicPartition tp = new TopicPartition(topic, 0);
    consumer.assign(List.of(tp));
    // Engines route here only after this process declared interest, so older records (of an
    // earlier process that wrongly reused the node id) are not for these sessions. position()
    // resolves the end now, before any declaration: nothing routed to us can be skipped.
    consumer.seekToEnd(List.of(tp));
    consumer.position(tp, Duration.ofSeconds(30));
    this.reader = DaemonThreads.thread(this::read, "parley-deliveries-reader");
  }

  /**
   * Creates this gateway's deliveries topic ({@code settings.nodeId()} names it; a gateway takes
   * a new node id at every start, see docs/architecture.md) and starts reading it from its end.
   */
  public static KafkaDeliveryBus start(KafkaSettings settings) {
    Objects.requireNonNull(settings, "settings");
    try (Admin admin = Admin.create(KafkaClients.admin(settings))) {
      RoutingTopics.ensureDeliveriesTopic(admin, settings, settings.nodeId());
    }
    KafkaDeliveryBus bus = new KafkaDeliveryBus(settings);
    bus.reader.start();
    return bus;
  }

  @Override
  public void publish(BusMessage message) {
    local.publish(message);
  }

  @Override
  public AutoCloseable subscribe(Consumer<BusMessage> listener) {
    return local.subscribe(listener);
  }

  /** Records read from the deliveries topic so far, acknowledgements included. */
  public long recordsRead() {
    return recordsRead.get();
  }

  /** Bus messages read from the deliveries topic so far. */
  public long messagesRead() {
    return messagesRead.get();
  }

  void onAck(Consumer<RouteInterestAck> handler) {
    ackHandlers.add(handler);
  }

  void onEvicted(Runnable handler) {
    evictionHandlers.add(handler);
  }

  private void read() {
    try {
      while (!closed) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          recordsRead.incrementAndGet();
          handle(r);
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      if (!closed) {
        log.error("deliveries reader of {} stopped", topic, e);
      }
    } finally {
      consumer.close(Duration.ofSeconds(1));
    }
  }

  private void handle(ConsumerRecord<byte[], byte[]> r) {
    RouteDelivery d;
    try {
      d = BusMessageCodec.parse(r.value());
    } catch (IllegalArgumentException e) {
      log.warn("skipping malformed record at {}:{}: {}", topic, r.offset(), e.getMessage());
      return;
    }
    switch (d.getBodyCase()) {
      case INTEREST_ACK -> ackHandlers.forEach(h -> h.accept(d.getInterestAck()));
      case EVICTED -> {
        log.warn("engine {} evicted this gateway", d.getEvicted().getEngineId());
        evictionHandlers.forEach(Runnable::run);
      }
      case BODY_NOT_SET -> log.warn("skipping empty record at {}:{}", topic, r.offset());
      default -> {
        messagesRead.incrementAndGet();
        local.publish(BusMessageCodec.decode(d));
      }
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    consumer.wakeup();
    try {
      reader.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    local.close();
  }
}
