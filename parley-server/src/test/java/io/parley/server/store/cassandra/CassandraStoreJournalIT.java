package io.parley.server.store.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.server.bus.kafka.EngineJournal;
import io.parley.server.bus.kafka.RoleLease;
import io.parley.server.bus.kafka.KafkaClients;
import io.parley.server.bus.kafka.KafkaSettings;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.UserRecord;
import io.parley.server.testing.CassandraExtension;
import io.parley.server.testing.CassandraTestCluster;
import io.parley.server.testing.KafkaExtension;
import io.parley.server.testing.KafkaTestBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The engine journal between a real (forked) Kafka broker and a real Cassandra node: an engine
 * writes only while it holds the engine lease, a replaced engine that wakes up cannot apply
 * anything new, and its successor applies what it had recorded but not applied.
 */
@ExtendWith({KafkaExtension.class, CassandraExtension.class})
class CassandraStoreJournalIT {
  private static final String KEYSPACE = "journal_it";
  private static final ConversationShards SHARDS = new ConversationShards(4);
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final CassandraTestCluster cassandra;
  private KafkaSettings settings;
  private final PausableCommitter engineA = new PausableCommitter();
  private CassandraStore storeA;
  private CassandraStore storeB;
  private RoleLease leaseA;

  CassandraStoreJournalIT(CassandraTestCluster cassandra) {
    this.cassandra = cassandra;
  }

  @BeforeEach
  void start(KafkaTestBroker kafka) {
    String prefix = "jr" + UUID.randomUUID().toString().substring(0, 8) + ".";
    settings = new KafkaSettings(kafka.bootstrapServers(), prefix, 4, (short) 1, "engine-a", TIMEOUT);
    CqlSession session = cassandra.adminSession();
    CassandraStore.open(session, false, cassandra.config(KEYSPACE), SHARDS, 16, null, engineA)
        .close();
    cassandra.truncateAll(KEYSPACE);
  }

  @AfterEach
  void stop() {
    engineA.resume();
    for (AutoCloseable c : new AutoCloseable[] {storeA, storeB, leaseA}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception ignored) {
          // best effort
        }
      }
    }
  }

  @Test
  void aReplacedEngineWritesNothingNewAndItsSuccessorAppliesWhatItRecorded() throws Exception {
    EngineJournal journalA = new EngineJournal(settings, Timer.builder("journal").register(new SimpleMeterRegistry()));
    storeA = open(journalA, engineA);

    // Standing by: the store refuses every write.
    assertThatThrownBy(() -> storeA.write(new StoreWrite().putUser(user("early"))).join())
        .hasCauseInstanceOf(StoreUnavailableException.class);

    AtomicBoolean lostA = new AtomicBoolean();
    leaseA = RoleLease.acquire(settings, () -> lostA.set(true), () -> false).orElseThrow();
    journalA.activate(leaseA, storeA::replayJournal);
    storeA.write(new StoreWrite().putUser(user("alice"))).get(10, TimeUnit.SECONDS);
    assertThat(storeA.user("alice")).isPresent();

    // Engine A records bob's write in the journal, then stalls before applying it (a GC pause).
    engineA.pause();
    CompletableFuture<Void> bob = storeA.write(new StoreWrite().putUser(user("bob")));
    assertThat(engineA.stalled.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(storeA.user("bob")).isEmpty();

    // Its successor fences it (what RoleLease.acquire does once A's heartbeats stop) ...
    fenceLikeASuccessor();
    // ... and applies the journal's tail before taking commands: bob's write is there.
    storeB = open(null, BatchCommitter.CASSANDRA);
    storeB.replayJournal(RoleLease.journalTail(settings, 16));
    assertThat(storeB.user("bob")).contains(user("bob"));
    assertThat(storeB.user("alice")).contains(user("alice"));

    // A wakes up: the write it had recorded completes (the same cells again) ...
    engineA.resume();
    bob.get(10, TimeUnit.SECONDS);
    // ... but nothing new gets through, and A learns it lost the lease.
    CompletableFuture<Void> carol = storeA.write(new StoreWrite().putUser(user("carol")));
    assertThatThrownBy(() -> carol.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StoreUnavailableException.class);
    assertThat(storeB.user("carol")).isEmpty();
    await().atMost(TIMEOUT).untilTrue(lostA);
    assertThat(leaseA.isHeld()).isFalse();
  }

  @Test
  void aSuccessorStampsItsWritesAboveEverythingItReplayed() throws Exception {
    EngineJournal journalA = new EngineJournal(settings, Timer.builder("journal").register(new SimpleMeterRegistry()));
    storeA = open(journalA, engineA);
    leaseA = RoleLease.acquire(settings, () -> {}, () -> false).orElseThrow();
    journalA.activate(leaseA, storeA::replayJournal);
    storeA.write(new StoreWrite().putUser(user("dora"))).get(10, TimeUnit.SECONDS);
    leaseA.close();
    storeA.close();
    storeA = null;

    // A journal record from an engine whose clock ran an hour ahead: the successor replays it,
    // and its own later change of the same row must still win.
    storeB = open(null, BatchCommitter.CASSANDRA);
    long anHourAhead = (System.currentTimeMillis() + 3_600_000L) * 1000;
    UserRecord fromTheFuture =
        new UserRecord("dora", "Dora from the future", "https://avatars/dora", false, 1_000, 2_500);
    List<BatchableStatement<?>> statements = new ArrayList<>();
    new Tables(new Cql(cassandra.adminSession(), KEYSPACE), SHARDS)
        .addTo(
            statements,
            new StoreWrite().putUser(fromTheFuture),
            anHourAhead,
            new FeedHeads<>(k -> 0L, keys -> Map.of(), 16));
    storeB.replayJournal(List.of(JournalCodec.encode(statements, anHourAhead)));
    assertThat(storeB.user("dora")).contains(fromTheFuture);
    UserRecord renamed =
        new UserRecord("dora", "Dora renamed", "https://avatars/dora", false, 1_000, 3_000);
    storeB.write(new StoreWrite().putUser(renamed)).get(10, TimeUnit.SECONDS);

    assertThat(storeB.user("dora")).contains(renamed);
  }

  private CassandraStore open(EngineJournal journal, BatchCommitter committer) {
    return CassandraStore.open(
        cassandra.adminSession(), false, cassandra.config(KEYSPACE), SHARDS, 16, journal, committer);
  }

  /** Takes the lease's transactional id, as a successor does: A's producer is fenced. */
  private void fenceLikeASuccessor() {
    Map<String, Object> props = KafkaClients.producer(settings, "successor");
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, RoleLease.leaseName(settings));
    try (KafkaProducer<String, byte[]> successor =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      successor.initTransactions();
    }
  }

  private static UserRecord user(String id) {
    return new UserRecord(id, "Name of " + id, "https://avatars/" + id, false, 1_000, 2_000);
  }

  /** Applies batches, or holds the writer inside the apply while paused (a stalled process). */
  private static final class PausableCommitter implements BatchCommitter {
    private volatile CountDownLatch gate = new CountDownLatch(0);
    final CountDownLatch stalled = new CountDownLatch(1);

    void pause() {
      gate = new CountDownLatch(1);
    }

    void resume() {
      gate.countDown();
    }

    @Override
    public void commit(CqlSession session, BatchStatement batch) {
      CountDownLatch g = gate;
      if (g.getCount() > 0) {
        stalled.countDown();
        try {
          g.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      session.execute(batch);
    }
  }
}
