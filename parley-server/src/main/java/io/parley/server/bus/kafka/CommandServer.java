package io.parley.server.bus.kafka;

import com.google.protobuf.Message;
import io.parley.protocol.cluster.v1.RpcReply;
import io.parley.server.core.DaemonThreads;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
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
 * deduplicated for {@code send}, {@code edit}, {@code delete}, {@code addReaction} and {@code
 * removeReaction} (by {@code client_msg_id}, which the gateway sets for the last four when the
 * client did not). The others may run twice after an engine crash or a shard move, with these
 * effects: {@code updateConversation}, {@code setMemberRole}, {@code addMembers}, {@code
 * removeMember}, {@code leave}, {@code joinChannel} can append a second event (or fail the second
 * time with a typed error the gateway no longer waits for); {@code createGroup}, {@code
 * createChannel} (the gateway chose the new id before sending) and {@code openDirect} return the
 * conversation the first run created; receipts, profile updates, mutes, push-target
 * registration, user upsert and (de)activation are idempotent writes; typing and presence
 * changes are re-announced. Calls whose deadline ({@code RpcCall.deadline_ms}, compared with
 * this engine's clock: keep clocks in sync) has passed are skipped without running, since the
 * gateway has answered {@code UNAVAILABLE} already. Malformed records are logged and skipped.
 *
 * <p><b>Shards.</b> Every engine process joins the group, and the group's assignment (cooperative
 * sticky: a rebalance moves only the partitions that must move) decides which engine sequences
 * which conversation shard. Before the first command of a newly assigned partition runs, {@link
 * ShardAssignment#assigned} takes the shard over (fences its previous owner and replays its
 * journal, see {@link EngineJournal}); when a partition is revoked, the server stops taking its
 * commands, waits (bounded) for the calls it started, commits their offsets and then calls {@link
 * ShardAssignment#revoked}. A crashed engine's partitions move once its session times out ({@value
 * #SESSION_TIMEOUT_MS} ms); one that shuts down leaves the group at once. Thread-safe.
 */
public final class CommandServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CommandServer.class);
  private static final Duration POLL = Duration.ofMillis(100);
  private static final long COMMIT_INTERVAL_MS = 200;
  private static final int MAX_IN_FLIGHT = 4_096;
  private static final long DEAD_TOPIC_MS = 30_000;
  private static final long DRAIN_ON_CLOSE_MS = 5_000;
  /** How long a revoked partition's started calls may take before its shard is given up anyway. */
  private static final long DRAIN_ON_REVOKE_MS = 10_000;
  /** How long a silent engine keeps its partitions (the broker's minimum is 6 s). */
  static final int SESSION_TIMEOUT_MS = 10_000;

  private final KafkaSettings settings;
  private final LocalServices services;
  private final ShardAssignment assignment;
  private final Runnable onFailed;
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
      ShardAssignment assignment,
      Runnable onFailed,
      Clock clock,
      KafkaConsumer<byte[], byte[]> consumer,
      KafkaProducer<byte[], byte[]> producer) {
    this.settings = settings;
    this.services = services;
    this.assignment = assignment;
    this.onFailed = onFailed;
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
   * server's thread, which joins the engines' group and takes the commands of the partitions it is
   * assigned. Returns at once.
   *
   * @param assignment takes over the shards the group assigns and gives up the ones it revokes
   * @param onFailed called once when this server stopped taking commands for good while not being
   *     closed (the poll loop failed, or a shard could not be taken over); the process should exit
   */
  public static CommandServer start(
      KafkaSettings settings,
      LocalServices services,
      ShardAssignment assignment,
      Runnable onFailed) {
    return start(settings, services, assignment, onFailed, Clock.systemUTC());
  }

  static CommandServer start(
      KafkaSettings settings,
      LocalServices services,
      ShardAssignment assignment,
      Runnable onFailed,
      Clock clock) {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(services, "services");
    Objects.requireNonNull(assignment, "assignment");
    Objects.requireNonNull(onFailed, "onFailed");
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
    // Only the partitions that must move are revoked: a rebalance does not stop every shard.
    consumerProps.put(
        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
        CooperativeStickyAssignor.class.getName());
    consumerProps.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, SESSION_TIMEOUT_MS);
    consumerProps.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, SESSION_TIMEOUT_MS / 5);
    Map<String, Object> producerProps = KafkaClients.producer(settings, "rpc-engine");
    // A reply to a gateway whose topic is gone must not stall the others for long.
    producerProps.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000);
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
    CommandServer server =
        new CommandServer(settings, services, assignment, onFailed, clock, consumer, producer);
    server.loop.start();
    return server;
  }

  /** True while the poll loop runs (readiness); the engine may own no shard at the moment. */
  public boolean isReady() {
    return running && polling;
  }

  /** Calls started and not yet answered. */
  public int inFlight() {
    return inFlight.get();
  }

  private void run() {
    try {
      consumer.subscribe(List.of(RemoteEngine.commandTopic(settings)), new Rebalance());
      polling = true;
      while (running) {
        drainCompletions();
        commit(false);
        throttle();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
          handle(r);
        }
      }
    } catch (RuntimeException e) {
      log.error("the command server's poll loop failed; this engine takes no more commands", e);
    } finally {
      polling = false;
      finishInFlight();
      closeConsumer(); // leaves the group: the partitions are revoked and move at once
      if (running) {
        log.error("the command server stopped unexpectedly");
        onFailed.run();
      }
    }
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
      if (partitions.isEmpty()) {
        return;
      }
      awaitCalls(partitions);
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
      giveUp(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) {
        return;
      }
      Set<Integer> shards = shards(partitions);
      assignment.assigned(shards); // throws out of poll: the loop fails and the process exits
      log.info("engine took over shards {}", shards);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      // Another engine owns them already: nothing to wait for or commit.
      partitions.forEach(trackers::remove);
      giveUp(partitions);
    }

    private void giveUp(Collection<TopicPartition> partitions) {
      Set<Integer> shards = shards(partitions);
      assignment.revoked(shards);
      log.info("engine gave up shards {}", shards);
    }

    /** Waits (bounded) until the started calls of the partitions have answered. */
    private void awaitCalls(Collection<TopicPartition> partitions) {
      long until = System.currentTimeMillis() + DRAIN_ON_REVOKE_MS;
      while (System.currentTimeMillis() < until) {
        drainCompletions();
        boolean open = false;
        for (TopicPartition tp : partitions) {
          Tracker t = trackers.get(tp);
          open |= t != null && !t.open.isEmpty();
        }
        if (!open) {
          return;
        }
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      log.warn("calls of revoked partitions still running after {} ms; giving the shards up",
          DRAIN_ON_REVOKE_MS);
    }
  }

  private static Set<Integer> shards(Collection<TopicPartition> partitions) {
    Set<Integer> shards = new TreeSet<>();
    partitions.forEach(tp -> shards.add(tp.partition()));
    return shards;
  }

  /** Stops taking commands, lets started calls finish (bounded), commits, leaves the group. */
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
  }
}
