package io.parley.server.store.cassandra;

import static io.parley.server.store.ParleyStoreConformanceTest.conversation;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.server.bus.kafka.EngineJournal;
import io.parley.server.bus.kafka.KafkaSettings;
import io.parley.server.store.ConversationRecord;
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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The shard journal between a real (forked) Kafka broker and a real Cassandra node: an engine
 * writes a shard only while it owns it, an engine whose shard was taken over cannot apply anything
 * new when it wakes up, its successor applies what it had recorded but not applied, and writes
 * that change no conversation do not need a shard.
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
  private EngineJournal journalA;
  private EngineJournal journalB;

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
    journalA = journal();
    journalB = journal();
    journalA.ensureTopic();
  }

  @AfterEach
  void stop() {
    engineA.resume();
    for (AutoCloseable c : new AutoCloseable[] {journalA, journalB, storeA, storeB}) {
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
  void aTakenOverEngineWritesNothingNewAndItsSuccessorAppliesWhatItRecorded() throws Exception {
    storeA = open(journalA, engineA);
    String first = conversationIn(1, "first");
    String second = conversationIn(1, "second");
    String third = conversationIn(1, "third");

    // Before it owns the shard, the store refuses the shard's writes; others go through.
    assertThatThrownBy(() -> storeA.write(create(first)).join())
        .hasCauseInstanceOf(StoreUnavailableException.class);
    storeA.write(new StoreWrite().putUser(user("alice"))).get(10, TimeUnit.SECONDS);

    journalA.acquire(Set.of(1), storeA::replayJournal);
    storeA.write(create(first)).get(10, TimeUnit.SECONDS);
    assertThat(storeA.conversation(first)).isPresent();

    // Engine A records the second write in the journal, then stalls before applying it (a GC
    // pause).
    engineA.pause();
    CompletableFuture<Void> stalled = storeA.write(create(second));
    assertThat(engineA.stalled.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(storeA.conversation(second)).isEmpty();

    // Engine B is given the shard: it fences A and applies the journal's tail before it takes
    // the shard's commands: the stalled write is there.
    storeB = open(journalB, BatchCommitter.CASSANDRA);
    journalB.acquire(Set.of(1), storeB::replayJournal);
    assertThat(storeB.conversation(second)).isPresent();
    assertThat(storeB.conversation(first)).isPresent();

    // A wakes up: the write it had recorded completes (the same cells again) ...
    engineA.resume();
    stalled.get(10, TimeUnit.SECONDS);
    // ... but nothing new of the shard gets through, and A no longer holds its fence.
    CompletableFuture<Void> late = storeA.write(create(third));
    assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StoreUnavailableException.class);
    assertThat(storeB.conversation(third)).isEmpty();
    assertThat(journalA.owned()).doesNotContain(1);
    // B writes the shard.
    storeB.write(create(third)).get(10, TimeUnit.SECONDS);
    assertThat(storeB.conversation(third)).isPresent();
  }

  @Test
  void aShardGivenUpIsWrittenNoMoreAndTheOtherShardsAreUnaffected() throws Exception {
    storeA = open(journalA, BatchCommitter.CASSANDRA);
    journalA.acquire(Set.of(0, 2), storeA::replayJournal);
    storeA.write(create(conversationIn(0, "kept"))).get(10, TimeUnit.SECONDS);
    long epochBefore = storeA.epoch(conversationIn(0, "kept"));

    journalA.release(Set.of(2));
    storeA.invalidateShard(2);
    assertThatThrownBy(() -> storeA.write(create(conversationIn(2, "gone"))).join())
        .hasCauseInstanceOf(StoreUnavailableException.class);
    storeA.write(create(conversationIn(0, "still"))).get(10, TimeUnit.SECONDS);
    assertThat(storeA.epoch(conversationIn(0, "kept"))).isEqualTo(epochBefore);
    assertThat(journalA.owned()).containsExactly(0);

    // One write never spans shards: each shard has its own writer and fence.
    StoreWrite twoShards =
        new StoreWrite()
            .putConversation(conversation(conversationIn(0, "x"), 1))
            .putConversation(conversation(conversationIn(3, "y"), 1));
    assertThatThrownBy(() -> storeA.write(twoShards)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aSuccessorStampsItsWritesAboveEverythingItReplayed() throws Exception {
    String dora = conversationIn(3, "dora");
    storeA = open(journalA, engineA);
    journalA.acquire(Set.of(3), storeA::replayJournal);
    storeA.write(create(dora)).get(10, TimeUnit.SECONDS);
    journalA.release(Set.of(3));
    storeA.close();
    storeA = null;

    // A journal record from an engine whose clock ran an hour ahead: the successor replays it,
    // and its own later change of the same row must still win.
    storeB = open(journalB, BatchCommitter.CASSANDRA);
    long anHourAhead = (System.currentTimeMillis() + 3_600_000L) * 1000;
    ConversationRecord fromTheFuture = conversation(dora, 7);
    List<BatchableStatement<?>> statements = new ArrayList<>();
    new Tables(new Cql(cassandra.adminSession(), KEYSPACE), SHARDS)
        .addTo(
            statements,
            new StoreWrite().putConversation(fromTheFuture),
            anHourAhead,
            new FeedHeads<>(k -> 0L, keys -> Map.of(), 16));
    storeB.replayJournal(3, List.of(JournalCodec.encode(statements, anHourAhead)));
    assertThat(storeB.conversation(dora)).contains(fromTheFuture);
    journalB.acquire(Set.of(3), storeB::replayJournal);
    ConversationRecord later = conversation(dora, 8);
    storeB.write(new StoreWrite().putConversation(later)).get(10, TimeUnit.SECONDS);

    assertThat(storeB.conversation(dora)).contains(later);
  }

  private EngineJournal journal() {
    return new EngineJournal(settings, Timer.builder("journal").register(new SimpleMeterRegistry()));
  }

  /** A conversation id of the given shard. */
  private static String conversationIn(int shard, String name) {
    for (int i = 0; ; i++) {
      String id = "g_" + name + i;
      if (SHARDS.of(id) == shard) {
        return id;
      }
    }
  }

  private static StoreWrite create(String conversationId) {
    return new StoreWrite().putConversation(conversation(conversationId, 1));
  }

  private CassandraStore open(EngineJournal journal, BatchCommitter committer) {
    return CassandraStore.open(
        cassandra.adminSession(), false, cassandra.config(KEYSPACE), SHARDS, 16, journal, committer);
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
