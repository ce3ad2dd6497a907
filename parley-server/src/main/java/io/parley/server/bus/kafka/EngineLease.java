package io.parley.server.bus.kafka;

import io.parley.server.core.DaemonThreads;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guard that lets exactly one engine take commands while engines are not yet partitioned: a
 * Kafka transactional producer with {@code transactional.id = <prefix>engine-lease} that commits
 * a heartbeat record to {@code <prefix>engine-lease} every {@link #HEARTBEAT}. Kafka allows one
 * live producer per transactional id: a new engine's {@code initTransactions} bumps the id's
 * epoch, so the previous holder's next heartbeat fails with a fencing error; it then marks the
 * lease lost and calls its {@code onLost} callback (its {@link CommandServer} stops dispatching,
 * leaves the consumer group and reports not ready; the composition root should exit the process).
 *
 * <p>The new holder waits {@link #TAKEOVER_DELAY} after {@code initTransactions} before {@link
 * #acquire} returns, so a previous holder that can reach Kafka has seen its fencing before the new
 * one polls a single command. <b>The window that remains</b>: (1) calls the previous holder had
 * already dispatched to its services before it noticed complete on their own (their store writes
 * are not cancelled) — they may interleave with the new holder's work on the same conversations
 * for as long as they take, normally milliseconds; (2) a previous holder that could not reach
 * Kafka, or stalled (GC pause, SIGSTOP), for longer than the takeover delay notices only when it
 * reaches Kafka again, and until then its in-flight calls (never new ones: it cannot poll without
 * Kafka, and it checks the lease before every dispatch) still write to the store. Closing the
 * window needs fencing at the store (a lease epoch in the conversation head's conditional
 * write), which comes with partitioned engines.
 *
 * <p>A heartbeat that times out (broker unreachable) does not give up the lease: nobody else can
 * take it without the broker, and the fencing error arrives when the broker is back. Thread-safe.
 */
public final class EngineLease implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EngineLease.class);

  /** How often the holder proves it still holds the lease. */
  public static final Duration HEARTBEAT = Duration.ofSeconds(1);

  /** How long a new holder waits after fencing the old one before it takes commands. */
  public static final Duration TAKEOVER_DELAY = HEARTBEAT.multipliedBy(3);

  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final String nodeId;
  private final Runnable onLost;
  private final Thread heartbeat;
  private volatile boolean held = true;
  private volatile boolean closed;
  private boolean commitPending;

  private EngineLease(
      KafkaProducer<String, String> producer, String topic, String nodeId, Runnable onLost) {
    this.producer = producer;
    this.topic = topic;
    this.nodeId = nodeId;
    this.onLost = onLost;
    this.heartbeat = DaemonThreads.thread(this::beat, "parley-engine-lease");
  }

  /** The lease topic and transactional id, {@code <prefix>engine-lease}. */
  public static String leaseName(KafkaSettings settings) {
    return settings.topic("engine-lease");
  }

  /**
   * Takes the lease from whoever holds it (fencing them), waits {@link #TAKEOVER_DELAY}, and starts
   * the heartbeat. Blocks for those seconds; fails with {@link IllegalStateException} when Kafka
   * cannot be reached.
   *
   * @param onLost called once, on the heartbeat thread, when another engine took the lease
   */
  public static EngineLease acquire(KafkaSettings settings, Runnable onLost) {
    Objects.requireNonNull(onLost, "onLost");
    String name = leaseName(settings);
    try (Admin admin = Admin.create(KafkaClients.admin(settings))) {
      KafkaClients.ensureTopic(
          admin,
          name,
          1,
          settings.replicationFactor(),
          Map.of("retention.ms", String.valueOf(Duration.ofHours(1).toMillis())));
    }
    Map<String, Object> props = KafkaClients.producer(settings, "engine-lease");
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, name);
    // A heartbeat must not hang for the default minute: a slow call is retried on the next tick.
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
    KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    try {
      producer.initTransactions();
    } catch (KafkaException e) {
      producer.close(Duration.ZERO);
      throw new IllegalStateException("cannot take the engine lease: " + e.getMessage(), e);
    }
    EngineLease lease = new EngineLease(producer, name, settings.nodeId(), onLost);
    lease.heartbeat.start();
    log.info("took the engine lease {}; waiting {} ms for a previous holder to stop", name,
        TAKEOVER_DELAY.toMillis());
    try {
      Thread.sleep(TAKEOVER_DELAY.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      lease.close();
      throw new IllegalStateException("interrupted while taking the engine lease", e);
    }
    if (!lease.isHeld()) {
      throw new IllegalStateException("another engine took the engine lease while this one started");
    }
    return lease;
  }

  /** False once another engine took the lease (never true again). */
  public boolean isHeld() {
    return held && !closed;
  }

  private void beat() {
    while (!closed && held) {
      try {
        if (commitPending) {
          producer.commitTransaction(); // retrying a commit that timed out is allowed
        } else {
          producer.beginTransaction();
          producer.send(new ProducerRecord<>(topic, nodeId, String.valueOf(System.currentTimeMillis())));
          commitPending = true;
          producer.commitTransaction();
        }
        commitPending = false;
      } catch (ProducerFencedException
          | InvalidProducerEpochException
          | AuthorizationException
          | UnsupportedVersionException e) {
        lost(e);
        return;
      } catch (TimeoutException e) {
        log.warn("engine lease heartbeat timed out (Kafka unreachable?); retrying");
      } catch (KafkaException e) {
        if (fencing(e)) {
          lost(e);
          return;
        }
        try {
          producer.abortTransaction();
          commitPending = false;
        } catch (KafkaException abort) {
          if (fencing(abort)) {
            lost(abort);
            return;
          }
          log.warn("engine lease heartbeat failed: {}", abort.getMessage());
        }
      }
      try {
        Thread.sleep(HEARTBEAT.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static boolean fencing(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
        return true;
      }
    }
    return false;
  }

  private void lost(Exception e) {
    held = false;
    log.error(
        "engine lease {} lost: another engine took over ({}); this engine stops taking commands",
        topic, e.getClass().getSimpleName());
    producer.close(Duration.ZERO);
    try {
      onLost.run();
    } catch (RuntimeException cb) {
      log.warn("engine lease onLost callback failed", cb);
    }
  }

  /** Stops the heartbeat and gives up the producer (the lease lapses; no one is fenced). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    heartbeat.interrupt();
    try {
      heartbeat.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (held) {
      producer.close(Duration.ofSeconds(5));
    }
  }
}
