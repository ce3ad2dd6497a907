package io.parley.server.bus.kafka;

import io.parley.server.config.ParleyConfig;
import io.parley.server.core.DaemonThreads;
import io.parley.server.store.StoreUnavailableException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
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
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guard that lets exactly one process of a role be active, with any number of others standing
 * by: for the engine role while engines are not yet partitioned (one engine takes commands), and
 * for the notify role (one process delivers the outbox, see {@link NotifyLeader}). The lease is a
 * Kafka transactional producer with {@code transactional.id = <prefix><role>-lease} that commits a
 * heartbeat record to the topic of the same name every {@link #HEARTBEAT}, and a {@code released}
 * record when its process shuts down cleanly. The text below speaks of engines; the notify lease
 * behaves the same way.
 *
 * <p><b>Standing by.</b> {@link #acquire} first reads the lease topic: while another engine's
 * heartbeats are fresh it waits; it goes on once the holder released the lease or has been silent
 * for {@link #VACANCY} (crashed, cut off, or paused). So a second engine process is a hot standby
 * (its routing table and store connection are warm; it reports not ready), and a crashed engine's
 * replacement is already running: failover takes the vacancy plus the takeover delay, no restart.
 * Freshness is judged by the reader's clock (records newer than the reader's clock count as
 * "now"), so clocks must agree to well within {@link #VACANCY} (NTP).
 *
 * <p><b>Fencing.</b> Kafka allows one live producer per transactional id: the new holder's {@code
 * initTransactions} bumps the id's epoch, so a previous holder that is still alive (it was only
 * paused or cut off) fails its next heartbeat with a fencing error; it then marks the lease lost
 * and calls its {@code onLost} callback (its {@link CommandServer} stops dispatching; the
 * composition root exits the process, and its supervisor restarts it as a standby). The new holder
 * waits {@link #TAKEOVER_DELAY} after {@code initTransactions} before {@link #acquire} returns, so
 * a previous holder that can reach Kafka has seen its fencing before the new one polls a single
 * command. Calls the previous holder had already dispatched still run, and a holder that was
 * paused or cut off for longer than the vacancy may resume mid-call; on Cassandra the {@link
 * EngineJournal} closes that window: every store batch is committed through {@link #journal} on
 * this same producer before it is applied, so a fenced holder cannot apply anything new.
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

  /** Largest journal record: a store batch is capped far below (256 KiB of mutations). */
  static final int MAX_JOURNAL_RECORD_BYTES = 8 * 1024 * 1024;

  /** How long a journal commit that times out is retried before the batch is given up. */
  private static final Duration JOURNAL_COMMIT_DEADLINE = Duration.ofSeconds(20);

  private final ParleyConfig.Role role;
  private final KafkaProducer<String, byte[]> producer;
  private final String topic;
  private final String journalTopic;
  /** One transaction at a time on the producer: heartbeats and journal records take turns. */
  private final Object transactions = new Object();
  private final String nodeId;
  private final Runnable onLost;
  private final Thread heartbeat;
  /** Set once, by whichever of the heartbeat and the journal notices the fencing first. */
  private final AtomicBoolean leaseLost = new AtomicBoolean();
  private volatile boolean closed;
  private final CountDownLatch stop = new CountDownLatch(1);
  private boolean commitPending;

  private RoleLease(
      ParleyConfig.Role role,
      KafkaProducer<String, byte[]> producer,
      String topic,
      String journalTopic,
      String nodeId,
      Runnable onLost) {
    this.role = role;
    this.producer = producer;
    this.topic = topic;
    this.journalTopic = journalTopic;
    this.nodeId = nodeId;
    this.onLost = onLost;
    this.heartbeat = DaemonThreads.thread(this::beat, "parley-" + role.configName() + "-lease");
  }

  /** The engine lease's topic and transactional id, {@code <prefix>engine-lease}. */
  public static String leaseName(KafkaSettings settings) {
    return leaseName(settings, ParleyConfig.Role.ENGINE);
  }

  /** A role's lease topic and transactional id, {@code <prefix><role>-lease}. */
  public static String leaseName(KafkaSettings settings, ParleyConfig.Role role) {
    return settings.topic(role.configName() + "-lease");
  }

  /** The journal topic, {@code <prefix>engine-journal}: one record per store group commit. */
  public static String journalName(KafkaSettings settings) {
    return settings.topic("engine-journal");
  }

  /**
   * Waits while another engine holds the lease (see the type's documentation), then takes it
   * (fencing a holder that is silent but alive), waits {@link #TAKEOVER_DELAY} and starts the
   * heartbeat. Blocks for all that time; fails with {@link IllegalStateException} when Kafka cannot
   * be reached.
   *
   * @param onLost called once, on the heartbeat thread, when another engine took the lease
   * @param cancelled checked while waiting: when it turns true, returns empty without taking the
   *     lease
   */
  public static Optional<RoleLease> acquire(
      KafkaSettings settings, Runnable onLost, BooleanSupplier cancelled) {
    return acquire(settings, ParleyConfig.Role.ENGINE, onLost, cancelled);
  }

  /** {@link #acquire(KafkaSettings, Runnable, BooleanSupplier)} for the lease of {@code role}. */
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
      // A successor replays only the last few records; a day is ample for diagnosis.
      if (role == ParleyConfig.Role.ENGINE) {
        KafkaClients.ensureTopic(
            admin,
            journalName(settings),
            1,
            settings.replicationFactor(),
            Map.of(
                "retention.ms", String.valueOf(Duration.ofDays(1).toMillis()),
                "max.message.bytes", String.valueOf(MAX_JOURNAL_RECORD_BYTES)));
      }
    }
    if (!awaitVacancy(settings, name, what, cancelled)) {
      return Optional.empty();
    }
    Map<String, Object> props = KafkaClients.producer(settings, role.configName() + "-lease");
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, name);
    // A heartbeat must not hang for the default minute: a slow call is retried on the next tick.
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_JOURNAL_RECORD_BYTES);
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    try {
      producer.initTransactions();
    } catch (KafkaException e) {
      producer.close(Duration.ZERO);
      throw new IllegalStateException("cannot take the " + what + ": " + e.getMessage(), e);
    }
    RoleLease lease =
        new RoleLease(role, producer, name, journalName(settings), settings.nodeId(), onLost);
    lease.heartbeat.start();
    log.info("took the {} {}; waiting {} ms for a previous holder to stop", what, name,
        TAKEOVER_DELAY.toMillis());
    if (!pause(TAKEOVER_DELAY.toMillis(), cancelled)) {
      lease.close();
      return Optional.empty();
    }
    if (!lease.isHeld()) {
      throw new IllegalStateException("another process took the " + what + " while this one started");
    }
    return Optional.of(lease);
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

  /**
   * Commits one journal record in a transaction of the lease's producer: once this returns, the
   * record is durable in Kafka, and this engine still held the lease when it committed (a
   * successor's {@code initTransactions} makes every later commit fail). A commit that times out
   * is retried for a while: its outcome is unknown until it is confirmed or aborted.
   *
   * @throws StoreUnavailableException when nothing was recorded: the lease is lost (then {@code
   *     onLost} has been called) or Kafka could not take the record
   */
  public void journal(byte[] record) {
    if (role != ParleyConfig.Role.ENGINE) {
      throw new IllegalStateException("only the engine lease keeps the engine journal");
    }
    synchronized (transactions) {
      if (!isHeld()) {
        throw new StoreUnavailableException("this process no longer holds the engine lease");
      }
      try {
        if (commitPending) {
          producer.commitTransaction(); // the heartbeat's, left pending by a timeout
          commitPending = false;
        }
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(journalTopic, nodeId, record));
      } catch (KafkaException e) {
        throw journalFailed(e);
      }
      commitJournal();
    }
  }

  /** Commits the open journal transaction, retrying timeouts until the deadline. */
  private void commitJournal() {
    long deadline = System.nanoTime() + JOURNAL_COMMIT_DEADLINE.toNanos();
    while (true) {
      try {
        producer.commitTransaction();
        return;
      } catch (TimeoutException e) {
        if (System.nanoTime() > deadline) {
          // Past the transaction timeout the coordinator aborts it: nothing was recorded.
          throw journalFailed(e);
        }
        log.warn("engine journal commit timed out (Kafka unreachable?); retrying");
      } catch (KafkaException e) {
        throw journalFailed(e);
      }
    }
  }

  /** Aborts what can be aborted, gives the lease up if fenced, and explains the failure. */
  private StoreUnavailableException journalFailed(KafkaException e) {
    if (fencing(e) || e instanceof AuthorizationException) {
      lost(e);
      return new StoreUnavailableException(
          "another engine took over: this engine may not write any more", e);
    }
    try {
      producer.abortTransaction();
    } catch (KafkaException abort) {
      if (fencing(abort)) {
        lost(abort);
      }
    }
    return new StoreUnavailableException("cannot record the write in the engine journal: "
        + e.getMessage(), e);
  }

  /**
   * The last {@code count} committed records of the journal, oldest first: the batches a new
   * holder applies again before it takes commands (the previous holder applied every record but
   * possibly its last one before it stopped). Call after {@link #acquire}, whose fencing settles
   * any transaction the previous holder left open.
   *
   * @throws IllegalStateException when Kafka cannot be read
   */
  public static List<byte[]> journalTail(KafkaSettings settings, int count) {
    TopicPartition tp = new TopicPartition(journalName(settings), 0);
    try (KafkaConsumer<String, byte[]> reader =
        new KafkaConsumer<>(
            KafkaClients.consumer(settings, "engine-journal-replay", null),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      reader.assign(List.of(tp));
      long end = reader.endOffsets(List.of(tp), settings.requestTimeout()).get(tp);
      // Each transaction takes two offsets (the record and its commit marker); aborted ones too.
      reader.seek(tp, Math.max(0, end - 4L * count));
      ArrayDeque<byte[]> tail = new ArrayDeque<>();
      long deadline = System.nanoTime() + settings.requestTimeout().toNanos() * 3;
      while (reader.position(tp) < end) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("timed out reading the engine journal");
        }
        for (ConsumerRecord<String, byte[]> r : reader.poll(Duration.ofMillis(200))) {
          tail.addLast(r.value());
          if (tail.size() > count) {
            tail.removeFirst();
          }
        }
      }
      return List.copyOf(tail);
    } catch (KafkaException e) {
      throw new IllegalStateException("cannot read the engine journal: " + e.getMessage(), e);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** False once another engine took the lease (never true again). */
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
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
        return true;
      }
    }
    return false;
  }

  private void lost(Exception e) {
    if (!leaseLost.compareAndSet(false, true)) {
      return; // the heartbeat and the journal may both notice
    }
    log.error(
        "{} lease {} lost: another process took over ({}); this process stops its {} work",
        role.configName(), topic, e.getClass().getSimpleName(), role.configName());
    producer.close(Duration.ZERO);
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
