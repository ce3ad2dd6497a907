package io.parley.server.bus.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.parley.protocol.cluster.v1.RpcCall;
import io.parley.protocol.cluster.v1.RpcReply;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.auth.TokenVerifier;
import io.parley.server.store.ConversationShards;
import io.parley.server.core.Caller;
import io.parley.server.core.DaemonThreads;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.GatewayServices;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's side of the requests to the engines: every call becomes an {@link RpcCall} record
 * on {@code <prefix>commands}, keyed by conversation (or user, see {@link RpcMethod#key}), and its
 * future completes from the {@link RpcReply} the engine writes to this node's own reply topic
 * {@code <prefix>replies.<nodeId>} (one partition, created at start, read from its end).
 *
 * <p>No caller ever waits on Kafka: records are handed to a sender thread through a bounded queue
 * (a full queue, a broker that cannot take the record or an engine that does not answer within
 * {@link KafkaSettings#requestTimeout} all fail the call with a retryable {@code UNAVAILABLE}),
 * and {@link #close} fails every pending call with {@code SHUTTING_DOWN}. Correlation ids start
 * at a random number so that replies meant for an earlier process with the same node id never
 * match. Thread-safe.
 */
public final class RemoteEngine implements RpcChannel, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RemoteEngine.class);
  private static final int SEND_QUEUE = 16_384;
  private static final Duration POLL = Duration.ofMillis(200);

  private final KafkaSettings settings;
  private final String commandTopic;
  private final ConversationShards shards;
  private final String replyTopic;
  private final KafkaProducer<String, byte[]> producer;
  private final KafkaConsumer<byte[], byte[]> replies;
  private final ThreadPoolExecutor sender;
  private final ScheduledThreadPoolExecutor timer;
  private final Thread replyReader;
  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong nextCorrelation = new AtomicLong(new SecureRandom().nextLong());
  private final long retryAfterMs;
  private volatile boolean closed;

  private record Pending(
      RpcMethod<?, ?, ?> method, CompletableFuture<Message> future, ScheduledFuture<?> timeout) {}

  private RemoteEngine(
      KafkaSettings settings,
      KafkaProducer<String, byte[]> producer,
      KafkaConsumer<byte[], byte[]> replies) {
    this.settings = settings;
    this.commandTopic = commandTopic(settings);
    this.shards = new ConversationShards(settings.commandPartitions());
    this.replyTopic = replyTopic(settings, settings.nodeId());
    this.producer = producer;
    this.replies = replies;
    this.retryAfterMs = Math.max(500, settings.requestTimeout().toMillis() / 4);
    this.sender =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(SEND_QUEUE),
            DaemonThreads.named("parley-rpc-send"));
    this.timer = new ScheduledThreadPoolExecutor(1, DaemonThreads.named("parley-rpc-timeout"));
    this.timer.setRemoveOnCancelPolicy(true);
    this.replyReader = DaemonThreads.thread(this::readReplies, "parley-rpc-replies");
  }

  /** {@code <prefix>commands}. */
  public static String commandTopic(KafkaSettings settings) {
    return settings.topic("commands");
  }

  /** {@code <prefix>replies.<nodeId>}. */
  public static String replyTopic(KafkaSettings settings, String nodeId) {
    return settings.topic("replies." + nodeId);
  }

  /**
   * Creates this node's reply topic (and the command topic, if no engine has yet), positions the
   * reply reader at its end and starts it. Blocks while it talks to Kafka (at most about 30 s per
   * step); fails with {@link IllegalStateException} when Kafka cannot be reached.
   */
  public static RemoteEngine start(KafkaSettings settings) {
    Objects.requireNonNull(settings, "settings");
    try (Admin admin = Admin.create(KafkaClients.admin(settings))) {
      KafkaClients.ensureCommandTopic(
          admin, commandTopic(settings), settings.commandPartitions(), settings.replicationFactor());
      // Replies are useless after the request timeout: keep them briefly.
      KafkaClients.ensureTopic(
          admin,
          replyTopic(settings, settings.nodeId()),
          1,
          settings.replicationFactor(),
          Map.of("retention.ms", String.valueOf(Duration.ofHours(1).toMillis())));
    }
    Map<String, Object> producerProps = KafkaClients.producer(settings, "rpc-gateway");
    // send() may block this long for metadata or buffer space; it runs on the sender thread, and
    // the caller's timeout fires independently, so no client waits longer than the timeout.
    producerProps.put(
        ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) settings.requestTimeout().toMillis());
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(producerProps, new StringSerializer(), new ByteArraySerializer());
    KafkaConsumer<byte[], byte[]> consumer;
    try {
      consumer =
          new KafkaConsumer<>(
              KafkaClients.consumer(settings, "rpc-replies", null),
              new ByteArrayDeserializer(),
              new ByteArrayDeserializer());
      TopicPartition tp = new TopicPartition(replyTopic(settings, settings.nodeId()), 0);
      consumer.assign(List.of(tp));
      consumer.seekToEnd(List.of(tp));
      // Resolve the position now: a reply to a call made right after start must not be skipped.
      consumer.position(tp, Duration.ofSeconds(30));
      // Learn the command topic's partitions now, so the first send does not wait for metadata.
      producer.partitionsFor(commandTopic(settings));
    } catch (RuntimeException e) {
      producer.close(Duration.ZERO);
      throw new IllegalStateException("cannot start the engine client: " + e.getMessage(), e);
    }
    RemoteEngine engine = new RemoteEngine(settings, producer, consumer);
    engine.replyReader.start();
    log.info("engine client started (commands {}, replies {})", engine.commandTopic, engine.replyTopic);
    return engine;
  }

  /** The service interfaces the gateway calls, all run on the engines through this client. */
  public GatewayServices services(TokenVerifier tokens) {
    return new GatewayServices(
        new RemoteConversationService(this),
        new RemoteMessageService(this),
        new RemoteDeliveryService(this),
        new RemotePresenceService(this, shards),
        new RemoteUserService(this),
        tokens,
        new RemoteClientNotifications(this));
  }

  /** Calls that wait for a reply (a gauge for metrics and a check for tests). */
  public int pendingCalls() {
    return pending.size();
  }

  @Override
  public <Q extends Message, R extends Message> CompletableFuture<R> call(
      RpcMethod<?, Q, R> method, Caller caller, Q request) {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(caller, "caller");
    Objects.requireNonNull(request, "request");
    CompletableFuture<Message> future = new CompletableFuture<>();
    if (closed) {
      return failedShutdown();
    }
    long correlationId = nextCorrelation.incrementAndGet();
    long timeoutMs = settings.requestTimeout().toMillis();
    RpcCall call =
        RpcEnvelopes.call(
            method,
            caller,
            request,
            settings.nodeId(),
            correlationId,
            System.currentTimeMillis() + timeoutMs);
    ScheduledFuture<?> timeout;
    try {
      timeout = timer.schedule(() -> timedOut(correlationId), timeoutMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      return failedShutdown();
    }
    pending.put(correlationId, new Pending(method, future, timeout));
    if (closed) {
      // close() may have swept the table before this call was added.
      fail(correlationId, shutdown());
    }
    String key = method.key(caller, request);
    ProducerRecord<String, byte[]> record =
        new ProducerRecord<>(commandTopic, shards.of(key), key, call.toByteArray());
    try {
      sender.execute(() -> send(correlationId, record));
    } catch (RejectedExecutionException e) {
      fail(
          correlationId,
          closed
              ? shutdown()
              : ParleyException.unavailable(
                  "the engines are not reachable (too many requests waiting)", retryAfterMs, null));
    }
    @SuppressWarnings("unchecked")
    CompletableFuture<R> typed = (CompletableFuture<R>) (CompletableFuture<?>) future;
    return typed;
  }

  private void send(long correlationId, ProducerRecord<String, byte[]> record) {
    if (!pending.containsKey(correlationId)) {
      return; // timed out or closed while queued
    }
    try {
      producer.send(
          record,
          (metadata, err) -> {
            if (err != null) {
              fail(
                  correlationId,
                  ParleyException.unavailable(
                      "the engines are not reachable: " + err.getMessage(), retryAfterMs, err));
            }
          });
    } catch (RuntimeException e) {
      fail(
          correlationId,
          ParleyException.unavailable(
              "the engines are not reachable: " + e.getMessage(), retryAfterMs, e));
    }
  }

  private void timedOut(long correlationId) {
    Pending p = pending.remove(correlationId);
    if (p != null) {
      p.future.completeExceptionally(
          ParleyException.unavailable(
              "no engine answered within " + settings.requestTimeout().toMillis() + " ms",
              retryAfterMs,
              null));
    }
  }

  private void fail(long correlationId, ParleyException e) {
    Pending p = pending.remove(correlationId);
    if (p != null) {
      p.timeout.cancel(false);
      p.future.completeExceptionally(e);
    }
  }

  private void readReplies() {
    try {
      while (!closed) {
        for (ConsumerRecord<byte[], byte[]> r : replies.poll(POLL)) {
          onReply(r.value());
        }
      }
    } catch (WakeupException e) {
      // close()
    } catch (RuntimeException e) {
      if (!closed) {
        log.error("the engine reply reader stopped; calls will time out", e);
      }
    } finally {
      replies.close(Duration.ofSeconds(5));
    }
  }

  void onReply(byte[] value) {
    RpcReply reply;
    try {
      reply = RpcEnvelopes.decodeReply(value);
    } catch (RpcEnvelopes.MalformedRecordException e) {
      log.warn("skipping a malformed reply on {}: {}", replyTopic, e.getMessage());
      return;
    }
    Pending p = pending.remove(reply.getCorrelationId());
    if (p == null) {
      return; // timed out already, or meant for an earlier process with this node id
    }
    p.timeout.cancel(false);
    if (reply.hasError()) {
      p.future.completeExceptionally(RpcEnvelopes.exception(reply.getError()));
      return;
    }
    try {
      p.future.complete(p.method.parseResponse(reply.getResponse().toByteArray()));
    } catch (InvalidProtocolBufferException e) {
      p.future.completeExceptionally(
          new ParleyException(
              ErrorCode.INTERNAL, "the engine's answer to " + p.method.name() + " does not parse"));
    }
  }

  /** Fails every pending call with {@code SHUTTING_DOWN} and stops the Kafka clients. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Long id : List.copyOf(pending.keySet())) {
      fail(id, shutdown());
    }
    sender.shutdownNow();
    timer.shutdownNow();
    replies.wakeup();
    try {
      replyReader.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
    log.info("engine client closed");
  }

  private static ParleyException shutdown() {
    return new ParleyException(ErrorCode.SHUTTING_DOWN, "the server is shutting down; reconnect");
  }

  private static <R> CompletableFuture<R> failedShutdown() {
    return CompletableFuture.failedFuture(shutdown());
  }

}
