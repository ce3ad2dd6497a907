package io.parley.server.bus.kafka;

import io.parley.server.config.ParleyConfig;
import io.parley.server.core.DaemonThreads;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guard that lets exactly one process of a role be active, with any number of others standing
 * by: used for the notify role (one process delivers the outbox, see {@link NotifyLeader}; engines
 * share their work by conversation shard instead, see {@link EngineJournal}). The lease is a Kafka
 * transactional producer with {@code transactional.id = <prefix><role>-lease} that commits a
 * heartbeat record to the topic of the same name every {@link #HEARTBEAT}, and a {@code released}
 * record when its process shuts down cleanly.
 *
 * <p><b>Standing by.</b> {@link #acquire} first reads the lease topic: while another process's
 * heartbeats are fresh it waits; it goes on once the holder released the lease or has been silent
 * for {@link #VACANCY} (crashed, cut off, or paused). So a second process is a hot standby, and a
 * crashed holder's replacement is already running: failover takes the vacancy plus the takeover
 * delay, no restart. Freshness is judged by the reader's clock (records newer than the reader's
 * clock count as "now"), so clocks must agree to well within {@link #VACANCY} (NTP).
 *
 * <p><b>Fencing.</b> Kafka allows one live producer per transactional id: the new holder's {@code
 * initTransactions} bumps the id's epoch, so a previous holder that is still alive (it was only
 * paused or cut off) fails its next heartbeat with a fencing error; it then marks the lease lost
 * and calls its {@code onLost} callback (the composition root exits the process, and its
 * supervisor restarts it as a standby). The new holder waits {@link #TAKEOVER_DELAY} after {@code
 * initTransactions} before {@link #acquire} returns, so a previous holder that can reach Kafka has
 * seen its fencing before the new one starts. Work the previous holder had already started still
 * runs, and a holder that was paused for longer than the vacancy may resume mid-work: the lease is
 * for work that tolerates that (notification jobs have deterministic keys).
 *
 * <p>A heartbeat that times out (broker unreachable) does not give up the lease: nobody else can
 * take it without the broker, and the fencing error arrives when the broker is back. Thread-safe.
 */
public final class RoleLease implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RoleLease.class);

  /** How often the holder proves it still holds the lease. */
  public static final Duration HEARTBEAT = Duration.ofSeconds(1);

  /** How long a new holder waits after fencing the old one before it takes commands. */
  public static final Duration TAKEOVER_DELAY = HEARTBEAT.multipliedBy(3);

  /** How long a holder's heartbeats must be missing before a standby takes the lease. */
  public static final Duration VACANCY = HEARTBEAT.multipliedBy(5);

  /** The value of the record a holder writes when it gives the lease up cleanly. */
  static final String RELEASED = "released";

  /** How far back a standby starts reading: a few heartbeats (each a record and a commit marker). */
  private static final int LOOK_BACK_OFFSETS = 64;

  private final ParleyConfig.Role role;
  private final KafkaProducer<String, byte[]> producer;
  private final String topic;
  /** One transaction at a time on the producer: heartbeats and the release take turns. */
  private final Object transactions = new Object();
  private final String nodeId;
  private final Runnable onLost;
  private final Thread heartbeat;
  /** Set once, when the heartbeat notices the fencing. */
  private final AtomicBoolean leaseLost = new AtomicBoolean();
  /**
   * Set when {@link #acquire} hands the lease to its caller. A lease lost before (during the
   * takeover delay: another standby that saw the same silence took it a moment later) was never
   * used, so losing it calls no {@code onLost}: the caller just stands by again.
   */
  private final AtomicBoolean handedOut = new AtomicBoolean();
  private volatile boolean closed;
  private final CountDownLatch stop = new CountDownLatch(1);
  private boolean commitPending;

  private RoleLease(
      ParleyConfig.Role role,
      KafkaProducer<String, byte[]> producer,
      String topic,
      String nodeId,
      Runnable onLost) {
    this.role = role;
    this.producer = producer;
    this.topic = topic;
    this.nodeId = nodeId;
    this.onLost = onLost;
    this.heartbeat = DaemonThreads.thread(this::beat, "parley-" + role.configName() + "-lease");
  }

  /** A role's lease topic and transactional id, {@code <prefix><role>-lease}. */
  public static String leaseName(KafkaSettings settings, ParleyConfig.Role role) {
    return settings.topic(role.configName() + "-lease");
  }

  /**
   * Waits while another process holds the lease of {@code role} (see the type's documentation),
   * then takes it (fencing a holder that is silent but alive), waits {@link #TAKEOVER_DELAY} and
   * starts the heartbeat. Blocks for all that time; fails with {@link IllegalStateException} when
   * Kafka cannot be reached.
   *
   * @param onLost called once, on the heartbeat thread, when another process took the lease
   * @param cancelled checked while waiting: when it turns true, returns empty without taking the
   *     lease
   */
  public static Optional<RoleLease> acquire(
      KafkaSettings settings,
      ParleyConfig.Role role,
      Runnable onLost,
      BooleanSupplier cancelled) {
    Objects.requireNonNull(onLost, "onLost");
    String name = leaseName(settings, role);
    String what = role.configName() + " lease";
    try (Admin admin = Admin.create(KafkaClients.admin(settings))) {
      KafkaClients.ensureTopic(
          admin,
          name,
          1,
          settings.replicationFactor(),
          Map.of("retention.ms", String.valueOf(Duration.ofHours(1).toMillis())));
    }
    if (!awaitVacancy(settings, name, what, cancelled)) {
      return Optional.empty();
    }
    Map<String, Object> props = KafkaClients.producer(settings, role.configName() + "-lease");
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, name);
    // A heartbeat must not hang for the default minute: a slow call is retried on the next tick.
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    try {
      producer.initTransactions();
    } catch (KafkaException e) {
      producer.close(Duration.ZERO);
      throw new IllegalStateException("cannot take the " + what + ": " + e.getMessage(), e);
    }
    RoleLease lease =
        new RoleLease(role, producer, name, settings.nodeId(), onLost);
    lease.heartbeat.start();
    log.info("took the {} {}; waiting {} ms for a previous holder to stop", what, name,
        TAKEOVER_DELAY.toMillis());
    if (!pause(TAKEOVER_DELAY.toMillis(), cancelled)) {
      lease.close();
      return Optional.empty();
    }
    synchronized (lease.leaseLost) {
      if (lease.isHeld()) {
        lease.handedOut.set(true);
        return Optional.of(lease);
      }
    }
    lease.close();
    throw new IllegalStateException("another process took the " + what + " while this one started");
  }

  /**
   * {@link #acquire(KafkaSettings, ParleyConfig.Role, Runnable, BooleanSupplier)} until it takes
   * the lease, retrying every 2 s while Kafka cannot be reached (waiting is a standby's job);
   * empty once {@code cancelled} turned true or the thread was interrupted.
   */
  public static Optional<RoleLease> acquireWhenFree(
      KafkaSettings settings,
      ParleyConfig.Role role,
      Runnable onLost,
      BooleanSupplier cancelled) {
    while (!cancelled.getAsBoolean() && !Thread.currentThread().isInterrupted()) {
      try {
        Optional<RoleLease> taken = acquire(settings, role, onLost, cancelled);
        if (taken.isPresent()) {
          return taken;
        }
      } catch (IllegalStateException e) {
        log.warn("cannot take the {} lease yet (retrying in 2 s): {}", role.configName(),
            e.getMessage());
        pause(2_000, cancelled);
      }
    }
    return Optional.empty();
  }

  /**
   * Sleeps {@code ms} in short steps; false when {@code cancelled} turned true first or the thread
   * was interrupted (the flag is restored).
   */
  private static boolean pause(long ms, BooleanSupplier cancelled) {
    long until = System.currentTimeMillis() + ms;
    while (System.currentTimeMillis() < until) {
      if (cancelled.getAsBoolean()) {
        return false;
      }
      try {
        Thread.sleep(Math.min(50, Math.max(1, until - System.currentTimeMillis())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return !cancelled.getAsBoolean();
  }

  /**
   * Reads the lease topic until it shows no live holder: empty, ending in a {@code released}
   * record, or without a heartbeat for {@link #VACANCY}. Returns false when cancelled first.
   */
  private static boolean awaitVacancy(
      KafkaSettings settings, String topic, String what, BooleanSupplier cancelled) {
    TopicPartition tp = new TopicPartition(topic, 0);
    try (KafkaConsumer<String, String> watch =
        new KafkaConsumer<>(
            KafkaClients.consumer(settings, what.replace(' ', '-') + "-watch", null),
            new StringDeserializer(),
            new StringDeserializer())) {
      watch.assign(List.of(tp));
      // read_committed: the end is the last stable offset, reachable even if a crashed holder
      // left a heartbeat transaction open.
      long end = watch.endOffsets(List.of(tp), settings.requestTimeout()).get(tp);
      watch.seek(tp, Math.max(0, end - LOOK_BACK_OFFSETS));
      long lastBeat = 0;
      String holder = "";
      long nextLog = 0;
      while (!cancelled.getAsBoolean()) {
        for (ConsumerRecord<String, String> r : watch.poll(Duration.ofMillis(200))) {
          if (RELEASED.equals(r.value())) {
            lastBeat = 0;
            log.info("{} released the {}", r.key(), what);
          } else {
            lastBeat = Math.max(lastBeat, Math.min(r.timestamp(), System.currentTimeMillis()));
            holder = r.key();
          }
        }
        long now = System.currentTimeMillis();
        boolean caughtUp = watch.position(tp) >= end;
        if (caughtUp && now - lastBeat > VACANCY.toMillis()) {
          // Judge by everything written until now, not until this watch started: a standby that
          // was itself paused would otherwise take its stale view for a silent holder.
          end = watch.endOffsets(List.of(tp), settings.requestTimeout()).get(tp);
          caughtUp = watch.position(tp) >= end;
        }
        if (caughtUp && now - lastBeat > VACANCY.toMillis()) {
          if (lastBeat > 0) {
            log.warn("{} stopped heartbeating {} ms ago: taking the {}", holder, now - lastBeat,
                what);
          }
          return true;
        }
        if (caughtUp && now >= nextLog) {
          log.info("standing by: {} holds the {}", holder, what);
          nextLog = now + 60_000;
        }
      }
      return false;
    } catch (KafkaException e) {
      throw new IllegalStateException("cannot read the " + what + ": " + e.getMessage(), e);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** False once another process took the lease (never true again). */
  public boolean isHeld() {
    return !leaseLost.get() && !closed;
  }

  private void beat() {
    while (isHeld()) {
      try {
        synchronized (transactions) {
          if (leaseLost.get()) {
            return;
          }
          if (commitPending) {
            producer.commitTransaction(); // retrying a commit that timed out is allowed
          } else {
            producer.beginTransaction();
            producer.send(
                new ProducerRecord<>(topic, nodeId, utf8(String.valueOf(System.currentTimeMillis()))));
            commitPending = true;
            producer.commitTransaction();
          }
          commitPending = false;
        }
      } catch (ProducerFencedException
          | InvalidProducerEpochException
          | AuthorizationException
          | UnsupportedVersionException e) {
        lost(e);
        return;
      } catch (TimeoutException e) {
        log.warn("{} lease heartbeat timed out (Kafka unreachable?); retrying", role.configName());
      } catch (KafkaException e) {
        if (fencing(e)) {
          lost(e);
          return;
        }
        try {
          synchronized (transactions) {
            producer.abortTransaction();
            commitPending = false;
          }
        } catch (KafkaException abort) {
          if (fencing(abort)) {
            lost(abort);
            return;
          }
          log.warn("{} lease heartbeat failed: {}", role.configName(), abort.getMessage());
        }
      }
      try {
        if (stop.await(HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static boolean fencing(Throwable e) {
    return KafkaClients.causedBy(
        e, ProducerFencedException.class, InvalidProducerEpochException.class);
  }


  private void lost(Exception e) {
    synchronized (leaseLost) {
      if (!leaseLost.compareAndSet(false, true)) {
        return;
      }
    }
    producer.close(Duration.ZERO);
    if (!handedOut.get()) {
      log.warn("{} lease {} taken by another process during the takeover delay ({}): standing by"
          + " again", role.configName(), topic, e.getClass().getSimpleName());
      return;
    }
    log.error(
        "{} lease {} lost: another process took over ({}); this process stops its {} work",
        role.configName(), topic, e.getClass().getSimpleName(), role.configName());
    try {
      onLost.run();
    } catch (RuntimeException cb) {
      log.warn("{} lease onLost callback failed", role.configName(), cb);
    }
  }

  /**
   * Stops the heartbeat and gives the lease up: a {@code released} record lets a standby take
   * over at once instead of after {@link #VACANCY}. No one is fenced.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    // Not an interrupt: a Kafka call interrupted midway could leave the producer unable to
    // write the release record.
    stop.countDown();
    try {
      heartbeat.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!leaseLost.get()) {
      release();
      producer.close(Duration.ofSeconds(5));
    }
  }

  private void release() {
    synchronized (transactions) {
      try {
        if (commitPending) {
          producer.abortTransaction();
        }
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, nodeId, utf8(RELEASED)));
        producer.commitTransaction();
        log.info("released the {} lease {}", role.configName(), topic);
      } catch (KafkaException e) {
        log.warn("could not release the {} lease (a standby takes it after {} ms): {}",
            role.configName(), VACANCY.toMillis(), e.getMessage());
      }
    }
  }
}
