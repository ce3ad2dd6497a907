package io.parley.server.bus.kafka;

import io.micrometer.core.instrument.Timer;
import io.parley.server.core.DaemonThreads;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.WriteJournal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link WriteJournal} of a cluster engine on Cassandra, and the fence of each conversation
 * shard it owns.
 *
 * <p><b>Layout.</b> {@code <prefix>shard-journal} has one partition per shard (as many as the
 * command topic). A shard's store batches are committed to its partition, each in a Kafka
 * transaction of the shard's own transactional producer, {@code transactional.id =
 * <prefix>engine-shard-<n>}, before they are applied to Cassandra.
 *
 * <p><b>Taking a shard over</b> ({@link #acquire}, when the consumer group assigns the shard's
 * command partition): the new owner creates the shard's producer and calls {@code
 * initTransactions}, which bumps the transactional id's epoch: the previous owner's open
 * transaction is aborted and every later commit of its producer fails (it is <i>fenced</i>), even
 * if that process is alive and still believes it owns the shard (paused, cut off, slow to see the
 * rebalance). Only then does the new owner read the partition's last {@value #REPLAY_RECORDS}
 * committed records and apply them again: the previous owner applied each record before it
 * recorded the next, so at most the last one may be unapplied, and applying a record twice is
 * harmless (every cell carries the timestamp it was recorded with). After that the shard's
 * batches are recorded through the new fence.
 *
 * <p><b>Giving a shard up</b> ({@link #release}, on revocation): the fence is closed after any
 * record in progress, so nothing of the shard is recorded (and so applied) by this process again.
 *
 * <p>Thread-safe.
 */
public final class EngineJournal implements WriteJournal, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EngineJournal.class);

  /**
   * Records a new owner applies again: a writer applies each record before it records the next,
   * so only the very last can be unapplied; the rest is margin.
   */
  static final int REPLAY_RECORDS = 16;

  /** Largest journal record: a store batch is capped far below (256 KiB of mutations). */
  static final int MAX_JOURNAL_RECORD_BYTES = 8 * 1024 * 1024;

  /** How long a journal commit that times out is retried before the batch is given up. */
  private static final Duration COMMIT_DEADLINE = Duration.ofSeconds(20);

  /** Applies a previous owner's last records of one shard to the store. */
  @FunctionalInterface
  public interface Replay {
    void apply(int shard, List<byte[]> records);
  }

  private final KafkaSettings settings;
  private final Timer commits;
  private final Map<Integer, ShardFence> fences = new ConcurrentHashMap<>();

  /** @param commits records how long each journal commit takes (the fence's cost per batch) */
  public EngineJournal(KafkaSettings settings, Timer commits) {
    this.settings = settings;
    this.commits = commits;
  }

  /** The journal topic, {@code <prefix>shard-journal}: one partition per shard. */
  public static String topic(KafkaSettings settings) {
    return settings.topic("shard-journal");
  }

  /** The transactional id that fences a shard's writers, {@code <prefix>engine-shard-<n>}. */
  public static String transactionalId(KafkaSettings settings, int shard) {
    return settings.topic("engine-shard-" + shard);
  }

  /** Creates the journal topic if needed; fails if it exists with another partition count. */
  public void ensureTopic() {
    try (Admin admin = Admin.create(KafkaClients.admin(settings))) {
      // A new owner replays only the last few records; a day is ample for diagnosis.
      KafkaClients.ensureShardTopic(
          admin,
          topic(settings),
          settings.commandPartitions(),
          settings.replicationFactor(),
          Map.of(
              "retention.ms", String.valueOf(Duration.ofDays(1).toMillis()),
              "max.message.bytes", String.valueOf(MAX_JOURNAL_RECORD_BYTES)));
    }
  }

  /**
   * Takes the shards over (see the type's documentation): fences their previous owners, hands each
   * shard's last records to {@code replay}, and from then on records this engine's batches of
   * them. Blocks while it talks to Kafka.
   *
   * @throws IllegalStateException when Kafka cannot be reached (no shard of the call is taken)
   * @throws RuntimeException what {@code replay} throws (no shard of the call is taken)
   */
  public void acquire(Collection<Integer> shards, Replay replay) {
    Map<Integer, KafkaProducer<String, byte[]>> producers = new HashMap<>();
    try {
      fenceAll(shards, producers);
      Map<Integer, List<byte[]>> tails = tails(producers.keySet());
      for (int shard : new TreeSet<>(producers.keySet())) {
        replay.apply(shard, tails.getOrDefault(shard, List.of()));
      }
    } catch (RuntimeException e) {
      producers.values().forEach(p -> p.close(Duration.ZERO));
      throw e;
    }
    producers.forEach(
        (shard, producer) -> {
          ShardFence previous = fences.put(shard, new ShardFence(shard, producer));
          if (previous != null) {
            previous.close();
          }
        });
    log.info("took over shards {} (previous owners fenced, journal replayed)", new TreeSet<>(shards));
  }

  /** Gives the shards up: nothing of them is recorded by this process any more. */
  public void release(Collection<Integer> shards) {
    for (int shard : shards) {
      ShardFence fence = fences.remove(shard);
      if (fence != null) {
        fence.close();
      }
    }
  }

  /** The shards whose fences this engine holds now. */
  public Set<Integer> owned() {
    return Set.copyOf(fences.keySet());
  }

  @Override
  public Fence fence(int shard) {
    ShardFence fence = fences.get(shard);
    if (fence == null) {
      throw new StoreUnavailableException(
          "this engine does not own shard " + shard + " (another engine sequences it)");
    }
    return fence;
  }

  /** Gives every shard up. */
  @Override
  public void close() {
    release(List.copyOf(fences.keySet()));
  }

  /**
   * Takes the fences of all the shards, in parallel (each {@code initTransactions} is a round trip
   * to the transaction coordinator, which also settles the previous owner's open transaction), and
   * puts the producers of those that succeeded into {@code producers}.
   *
   * @throws IllegalStateException when any shard's fence could not be taken
   */
  private void fenceAll(
      Collection<Integer> shards, Map<Integer, KafkaProducer<String, byte[]>> producers) {
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.max(1, Math.min(8, shards.size())), DaemonThreads.named("parley-shard-fence"));
    try {
      Map<Integer, Future<KafkaProducer<String, byte[]>>> pending = new HashMap<>();
      for (int shard : shards) {
        pending.put(shard, pool.submit(() -> fencingProducer(shard)));
      }
      IllegalStateException failure = null;
      for (Map.Entry<Integer, Future<KafkaProducer<String, byte[]>>> e : pending.entrySet()) {
        try {
          producers.put(e.getKey(), e.getValue().get());
        } catch (ExecutionException ex) {
          failure =
              ex.getCause() instanceof IllegalStateException ise
                  ? ise
                  : new IllegalStateException(
                      "cannot take the fence of shard " + e.getKey(), ex.getCause());
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          failure = new IllegalStateException("interrupted while taking shard fences", ex);
        }
      }
      if (failure != null) {
        throw failure;
      }
    } finally {
      pool.shutdown();
    }
  }

  private KafkaProducer<String, byte[]> fencingProducer(int shard) {
    Map<String, Object> props = KafkaClients.producer(settings, "journal-" + shard);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(settings, shard));
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_JOURNAL_RECORD_BYTES);
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    try {
      producer.initTransactions();
      return producer;
    } catch (KafkaException e) {
      producer.close(Duration.ZERO);
      throw new IllegalStateException(
          "cannot take the fence of shard " + shard + ": " + e.getMessage(), e);
    }
  }

  /**
   * The last {@value #REPLAY_RECORDS} committed records of each shard's partition, oldest first.
   * Read after the fencing, which settled any transaction a previous owner left open.
   */
  private Map<Integer, List<byte[]>> tails(Collection<Integer> shards) {
    if (shards.isEmpty()) {
      return Map.of();
    }
    List<TopicPartition> parts = new ArrayList<>();
    shards.forEach(s -> parts.add(new TopicPartition(topic(settings), s)));
    try (KafkaConsumer<byte[], byte[]> reader =
        new KafkaConsumer<>(
            KafkaClients.consumer(settings, "shard-journal-replay", null),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      reader.assign(parts);
      Map<TopicPartition, Long> ends = reader.endOffsets(parts, settings.requestTimeout());
      Map<Integer, ArrayDeque<byte[]>> tails = new HashMap<>();
      for (TopicPartition tp : parts) {
        // Each transaction takes two offsets (the record and its commit marker); aborted ones too.
        reader.seek(tp, Math.max(0, ends.get(tp) - 4L * REPLAY_RECORDS));
        tails.put(tp.partition(), new ArrayDeque<>());
      }
      long deadline = System.nanoTime() + settings.requestTimeout().toNanos() * 3;
      while (!caughtUp(reader, ends)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("timed out reading the shard journal");
        }
        for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
          ArrayDeque<byte[]> tail = tails.get(r.partition());
          tail.addLast(r.value());
          if (tail.size() > REPLAY_RECORDS) {
            tail.removeFirst();
          }
        }
      }
      Map<Integer, List<byte[]>> result = new HashMap<>();
      tails.forEach((shard, tail) -> result.put(shard, List.copyOf(tail)));
      return result;
    } catch (KafkaException e) {
      throw new IllegalStateException("cannot read the shard journal: " + e.getMessage(), e);
    }
  }

  private static boolean caughtUp(KafkaConsumer<?, ?> reader, Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      if (reader.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static boolean fencing(Throwable e) {
    return KafkaClients.causedBy(
        e,
        ProducerFencedException.class,
        InvalidProducerEpochException.class,
        AuthorizationException.class);
  }


  /** This engine's period of ownership of one shard: its transactional producer. */
  private final class ShardFence implements Fence {
    private final int shard;
    private final KafkaProducer<String, byte[]> producer;
    private boolean closed;

    ShardFence(int shard, KafkaProducer<String, byte[]> producer) {
      this.shard = shard;
      this.producer = producer;
    }

    /**
     * Commits one record to the shard's partition in its own transaction: once this returns, the
     * record is durable in Kafka, and no other engine had taken the shard when it committed (a
     * successor's {@code initTransactions} makes every later commit fail). A commit that times out
     * is retried for a while: its outcome is unknown until it is confirmed or aborted.
     */
    @Override
    public synchronized void record(byte[] batch) {
      if (closed) {
        throw new StoreUnavailableException("this engine gave shard " + shard + " up");
      }
      long started = System.nanoTime();
      try {
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic(settings), shard, settings.nodeId(), batch));
      } catch (KafkaException e) {
        throw failed(e);
      }
      commit();
      commits.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    }

    private void commit() {
      long deadline = System.nanoTime() + COMMIT_DEADLINE.toNanos();
      while (true) {
        try {
          producer.commitTransaction();
          return;
        } catch (TimeoutException e) {
          if (System.nanoTime() > deadline) {
            // Past the transaction timeout the coordinator aborts it: nothing was recorded.
            throw failed(e);
          }
          log.warn("shard {} journal commit timed out (Kafka unreachable?); retrying", shard);
        } catch (KafkaException e) {
          throw failed(e);
        }
      }
    }

    /** Aborts what can be aborted, closes the fence if fenced, and explains the failure. */
    private StoreUnavailableException failed(KafkaException e) {
      if (fencing(e)) {
        log.error("shard {} was taken over by another engine: this engine writes it no more", shard);
        closeNow();
        fences.remove(shard, this);
        return new StoreUnavailableException(
            "another engine took shard " + shard + " over: this engine may not write it", e);
      }
      try {
        producer.abortTransaction();
      } catch (KafkaException abort) {
        if (fencing(abort)) {
          closeNow();
          fences.remove(shard, this);
        }
      }
      return new StoreUnavailableException(
          "cannot record the write in the shard journal: " + e.getMessage(), e);
    }

    /** Waits for a record in progress, then closes the producer. */
    synchronized void close() {
      if (!closed) {
        closed = true;
        producer.close(Duration.ofSeconds(5));
      }
    }

    private void closeNow() {
      closed = true;
      producer.close(Duration.ZERO);
    }
  }
}
