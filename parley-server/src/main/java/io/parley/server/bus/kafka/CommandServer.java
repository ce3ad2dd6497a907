package io.parley.server.bus.kafka;

import com.google.protobuf.Message;
import io.parley.protocol.cluster.v1.RpcReply;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.DaemonThreads;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's side of the gateways' requests: a consumer in group {@code <prefix>engines} on
 * {@code <prefix>commands} that runs every call on the local services and writes the answer to the
 * calling gateway's reply topic.
 *
 * <p>The poll loop never waits for a service: it starts the call and moves on; the future's
 * completion hands the reply to a reply-sender thread and reports the offset done. Offsets are
 * committed per partition only up to the lowest call not yet answered, so a crash re-executes the
 * calls after that point (<b>at-least-once</b>). Re-execution is harmless for reads ({@code
 * history}, {@code sync}, {@code receipts}, lists, {@code getProfile}, presence reads) and is
 * deduplicated for {@code send} (by {@code client_msg_id}). The others may run twice after an
 * engine crash, with these effects: {@code edit}, {@code delete}, {@code addReaction}, {@code
 * removeReaction}, {@code updateConversation}, {@code setMemberRole}, {@code addMembers}, {@code
 * removeMember}, {@code leave}, {@code joinChannel} can append a second event (or fail the second
 * time with a typed error the gateway no longer waits for); {@code createGroup}, {@code
 * createChannel} (the gateway chose the new id before sending) and {@code openDirect} return the
 * conversation the first run created; receipts, profile updates, mutes, push-target
 * registration, user upsert and (de)activation are idempotent writes; typing and presence
 * changes are re-announced. Calls whose deadline ({@code RpcCall.deadline_ms}, compared with
 * this engine's clock: keep clocks in sync) has passed are skipped without running, since the
 * gateway has answered {@code UNAVAILABLE} already. Malformed records are logged and skipped.
 *
 * <p>Only the holder of the {@link RoleLease} takes commands. The server starts as a standby:
 * its thread waits for the lease (while another engine holds it) and joins the group only once it
 * holds it; the group membership is static ({@code group.instance.id = <prefix>engine}), so the new
 * holder takes over the partitions of a crashed one at once instead of after the crashed member's
 * session timeout, and a stale member that comes back is fenced by the broker too. The lease is
 * checked before every dispatch, and when it is lost the server stops polling and reports not
 * ready. Thread-safe.
 */
public final class CommandServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CommandServer.class);
  private static final Duration POLL = Duration.ofMillis(100);
  private static final long COMMIT_INTERVAL_MS = 200;
  private static final int MAX_IN_FLIGHT = 4_096;
  private static final long DEAD_TOPIC_MS = 30_000;
  private static final long DRAIN_ON_CLOSE_MS = 5_000;

  private final KafkaSettings settings;
  private final LocalServices services;
  private final Consumer<RoleLease> onActive;
  private final Runnable onLeaseLost;
  private volatile RoleLease lease;
  private final Clock clock;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<byte[], byte[]> producer;
  private final ExecutorService replySender;
  private final Thread loop;
  private final Queue<Done> completions = new ConcurrentLinkedQueue<>();
  private final Map<TopicPartition, Tracker> trackers = new HashMap<>();
  private final Map<String, Long> deadReplyTopics = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean running = true;
  private volatile boolean polling;
  private boolean paused;
  private long lastCommitMs;

  /** The calls of one assigned partition that were polled and not yet answered. */
  private static final class Tracker {
    final TreeSet<Long> open = new TreeSet<>();
    long next = -1;
    long committed = -1;

    long committable() {
      return open.isEmpty() ? next : open.first();
    }
  }

  private record Done(Tracker tracker, long offset) {}

  private CommandServer(
      KafkaSettings settings,
      LocalServices services,
      Consumer<RoleLease> onActive,
      Runnable onLeaseLost,
      Clock clock,
      KafkaConsumer<byte[], byte[]> consumer,
      KafkaProducer<byte[], byte[]> producer) {
    this.settings = settings;
    this.services = services;
    this.onActive = onActive;
    this.onLeaseLost = onLeaseLost;
    this.clock = clock;
    this.consumer = consumer;
    this.producer = producer;
    this.replySender =
        Executors.newSingleThreadExecutor(DaemonThreads.named("parley-rpc-reply"));
    this.loop = DaemonThreads.thread(this::run, "parley-command-server");
  }

  /** The consumer group all engines share, {@code <prefix>engines}. */
  public static String groupId(KafkaSettings settings) {
    return settings.topic("engines");
  }

  /**
   * Creates the command topic with {@code commandPartitions} partitions if needed and starts the
   * server's thread, which waits for the {@link RoleLease} (standing by while another engine
   * holds it), then joins the engines' group and takes commands. Returns at once.
   *
   * @param onActive called once with the lease, on the server's thread, when this engine holds it
   *     and is about to take commands (replay the journal, start the work only the active engine
   *     may do); if it throws, the lease is given up and {@code onLeaseLost} runs
   * @param onLeaseLost called once when this server stopped taking commands for good while not
   *     being closed: another engine took the lease, or the poll loop failed (the lease is then
   *     released for a standby); the process should exit
   */
  public static CommandServer start(
      KafkaSettings settings,
      LocalServices services,
      Consumer<RoleLease> onActive,
      Runnable onLeaseLost) {
    return start(settings, services, onActive, onLeaseLost, Clock.systemUTC());
  }

  static CommandServer start(
      KafkaSettings settings,
      LocalServices services,
      Consumer<RoleLease> onActive,
      Runnable onLeaseLost,
      Clock clock) {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(services, "services");
    Objects.requireNonNull(onActive, "onActive");
    Objects.requireNonNull(onLeaseLost, "onLeaseLost");
    try (Admin admin = Admin.create(KafkaClients.admin(settings))) {
      KafkaClients.ensureCommandTopic(
          admin,
          RemoteEngine.commandTopic(settings),
          settings.commandPartitions(),
          settings.replicationFactor());
    }
    Map<String, Object> consumerProps =
        KafkaClients.consumer(settings, "command-server", groupId(settings));
    // A new group starts at the oldest command: calls past their deadline are skipped anyway.
    consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // One engine at a time, always the same member: a successor replaces a crashed holder's
    // membership at once (no session timeout to wait out) and fences it should it come back.
    consumerProps.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, settings.topic("engine"));
    Map<String, Object> producerProps = KafkaClients.producer(settings, "rpc-engine");
    // A reply to a gateway whose topic is gone must not stall the others for long.
    producerProps.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000);
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
    CommandServer server =
        new CommandServer(settings, services, onActive, onLeaseLost, clock, consumer, producer);
    server.loop.start();
    return server;
  }

  /** True while this engine holds the lease and its poll loop runs (readiness). */
  public boolean isReady() {
    RoleLease l = lease;
    return running && polling && l != null && l.isHeld();
  }

  /** True while this engine waits for another to give up the lease. */
  public boolean isStandingBy() {
    return running && lease == null;
  }

  /** Calls started and not yet answered. */
  public int inFlight() {
    return inFlight.get();
  }

  private void run() {
    if (!takeLease()) {
      closeConsumer();
      return;
    }
    RoleLease lease = this.lease;
    try {
      onActive.accept(lease);
      consumer.subscribe(List.of(RemoteEngine.commandTopic(settings)), new Rebalance());
      polling = true;
      while (running && lease.isHeld()) {
        drainCompletions();
        commit(false);
        throttle();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
          if (!lease.isHeld()) {
            break; // not dispatched, not committed: the new holder runs it
          }
          handle(r);
        }
      }
    } catch (RuntimeException e) {
      log.error("the command server's poll loop failed; this engine takes no more commands", e);
    } finally {
      polling = false;
      if (!lease.isHeld()) {
        log.error("engine lease lost: the command server stopped taking commands");
      }
      finishInFlight();
      closeConsumer();
      if (running && lease.isHeld()) {
        // An engine that takes no commands must not keep the lease from a standby.
        log.error("the command server stopped unexpectedly: giving up the engine lease");
        lease.close();
        onLeaseLost.run();
      }
    }
  }

  /** Waits for the lease until this server holds it (true) or is closed (false). */
  private boolean takeLease() {
    Optional<RoleLease> taken =
        RoleLease.acquireWhenFree(
            settings, ParleyConfig.Role.ENGINE, onLeaseLost, () -> !running);
    taken.ifPresent(l -> lease = l);
    return taken.isPresent();
  }

  private void closeConsumer() {
    try {
      consumer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      log.warn("closing the command consumer failed: {}", e.getMessage());
    }
  }

  private void handle(ConsumerRecord<byte[], byte[]> r) {
    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
    Tracker tracker = trackers.computeIfAbsent(tp, k -> new Tracker());
    tracker.next = r.offset() + 1;
    RpcEnvelopes.DecodedCall call;
    try {
      call = RpcEnvelopes.decodeCall(r.value());
    } catch (RpcEnvelopes.MalformedRecordException e) {
      log.warn("skipping malformed command at {}@{}: {}", tp, r.offset(), e.getMessage());
      return;
    }
    if (call.deadlineMs() < clock.millis()) {
      log.debug("skipping {} past its deadline at {}@{}", call.method(), tp, r.offset());
      return;
    }
    tracker.open.add(r.offset());
    inFlight.incrementAndGet();
    CompletableFuture<? extends Message> result;
    try {
      result = invoke(call);
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    long offset = r.offset();
    result.whenComplete(
        (response, err) -> {
          RpcReply reply =
              err == null
                  ? RpcEnvelopes.reply(call.correlationId(), response)
                  : RpcEnvelopes.failure(call.correlationId(), err);
          reply(call.replyTo(), reply);
          completions.add(new Done(tracker, offset));
          inFlight.decrementAndGet();
        });
  }

  @SuppressWarnings("unchecked")
  private <S, Q extends Message, R extends Message> CompletableFuture<R> invoke(
      RpcEnvelopes.DecodedCall call) {
    RpcMethod<S, Q, R> method = (RpcMethod<S, Q, R>) call.method();
    return method.invoke(services.get(method.service()), call.caller(), (Q) call.request());
  }

  private void reply(String gatewayNodeId, RpcReply reply) {
    String topic = RemoteEngine.replyTopic(settings, gatewayNodeId);
    try {
      replySender.execute(() -> sendReply(topic, reply));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing: the gateway times out and its client retries
    }
  }

  private void sendReply(String topic, RpcReply reply) {
    Long deadUntil = deadReplyTopics.get(topic);
    if (deadUntil != null && deadUntil > System.currentTimeMillis()) {
      return;
    }
    try {
      producer.send(
          new ProducerRecord<>(topic, reply.toByteArray()),
          (md, err) -> {
            if (err != null) {
              log.warn("reply to {} not written: {}", topic, err.getMessage());
            }
          });
    } catch (KafkaException e) {
      // Typically the gateway is gone and so is its topic: do not wait for it again for a while.
      deadReplyTopics.put(topic, System.currentTimeMillis() + DEAD_TOPIC_MS);
      log.warn("reply to {} not written: {}", topic, e.getMessage());
    }
  }

  private void drainCompletions() {
    Done d;
    while ((d = completions.poll()) != null) {
      d.tracker.open.remove(d.offset);
    }
  }

  /** Pauses fetching while too many calls are open, so a slow store cannot pile up memory. */
  private void throttle() {
    int n = inFlight.get();
    if (!paused && n >= MAX_IN_FLIGHT) {
      consumer.pause(consumer.assignment());
      paused = true;
    } else if (paused && n <= MAX_IN_FLIGHT / 2) {
      consumer.resume(consumer.paused());
      paused = false;
    }
  }

  private void commit(boolean sync) {
    long now = System.currentTimeMillis();
    if (!sync && now - lastCommitMs < COMMIT_INTERVAL_MS) {
      return;
    }
    lastCommitMs = now;
    Map<TopicPartition, OffsetAndMetadata> offsets = committable(trackers.keySet());
    if (offsets.isEmpty()) {
      return;
    }
    if (sync) {
      consumer.commitSync(offsets, Duration.ofSeconds(5));
    } else {
      consumer.commitAsync(
          offsets,
          (o, err) -> {
            if (err != null) {
              log.warn("command offset commit failed (retried with the next): {}", err.getMessage());
              // Runs on the poll thread (inside poll), so the trackers may be touched here.
              o.keySet().forEach(tp -> {
                Tracker t = trackers.get(tp);
                if (t != null) {
                  t.committed = -1;
                }
              });
            }
          });
    }
  }

  private Map<TopicPartition, OffsetAndMetadata> committable(Collection<TopicPartition> parts) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition tp : parts) {
      Tracker t = trackers.get(tp);
      if (t == null || t.next < 0) {
        continue;
      }
      long c = t.committable();
      if (c > t.committed) {
        offsets.put(tp, new OffsetAndMetadata(c));
        t.committed = c;
      }
    }
    return offsets;
  }

  /** Lets started calls finish (bounded) and commits what they answered. */
  private void finishInFlight() {
    long until = System.currentTimeMillis() + DRAIN_ON_CLOSE_MS;
    while (inFlight.get() > 0 && System.currentTimeMillis() < until) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    drainCompletions();
    try {
      commit(true);
    } catch (RuntimeException e) {
      log.warn("final command offset commit failed: {}", e.getMessage());
    }
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      drainCompletions();
      try {
        Map<TopicPartition, OffsetAndMetadata> offsets = committable(partitions);
        if (!offsets.isEmpty()) {
          consumer.commitSync(offsets, Duration.ofSeconds(5));
        }
      } catch (RuntimeException e) {
        log.warn("commit on revocation failed; the new owner re-runs those calls: {}", e.getMessage());
      }
      // Calls still open on these partitions are re-run by the new owner (at-least-once).
      partitions.forEach(trackers::remove);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      log.info("engine assigned {} command partitions", partitions.size());
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      partitions.forEach(trackers::remove);
    }
  }

  /** Stops taking commands, lets started calls finish (bounded), commits, releases the lease. */
  @Override
  public void close() {
    if (!running) {
      return;
    }
    running = false; // the loop sees it within one poll timeout
    try {
      loop.join(DRAIN_ON_CLOSE_MS + 10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    replySender.shutdown();
    try {
      replySender.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
    RoleLease l = lease;
    if (l != null) {
      l.close();
    }
  }
}
