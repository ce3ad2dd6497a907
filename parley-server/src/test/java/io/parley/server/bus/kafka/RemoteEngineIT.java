package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.ConversationResult;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.ListMembers;
import io.parley.protocol.v1.MarkRead;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.SendResult;
import io.parley.protocol.v1.SetConversationMuted;
import io.parley.protocol.v1.Sync;
import io.parley.server.bus.local.LocalEventBus;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.GatewayServices;
import io.parley.server.messaging.EngineFixture;
import io.parley.server.notify.NotificationService;
import io.parley.server.notify.NotifyModule;
import io.parley.server.store.ConversationShards;
import io.parley.server.testing.KafkaExtension;
import io.parley.server.testing.KafkaTestBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;

/**
 * A gateway's {@link RemoteEngine} against a real {@link EngineModule} on RocksDB behind a {@link
 * CommandServer}, through a real (forked) Kafka broker: the same answers as local calls, typed
 * errors, timeouts, shutdown, and two engines sharing the partitions.
 */
@ExtendWith(KafkaExtension.class)
class RemoteEngineIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  @TempDir Path dir;
  private KafkaTestBroker kafka;
  private String prefix;
  private EngineFixture engine;
  private NotificationService notifications;
  private CommandServer server;
  private final RecordingShards firstShards = new RecordingShards();

  /** The shards the group gave a command server, as it reports them. */
  private static final class RecordingShards implements ShardAssignment {
    final Set<Integer> owned = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public void assigned(Set<Integer> shards) {
      owned.addAll(shards);
    }

    @Override
    public void revoked(Set<Integer> shards) {
      owned.removeAll(shards);
    }
  }
  private RemoteEngine remote;
  private GatewayServices local;
  private GatewayServices rpc;
  private final AtomicBoolean firstLost = new AtomicBoolean();

  @BeforeEach
  void start(KafkaTestBroker kafka) {
    this.kafka = kafka;
    prefix = "it" + UUID.randomUUID().toString().substring(0, 8) + ".";
    engine = new EngineFixture(dir);
    notifications =
        NotifyModule.start(
            ParleyConfig.Notify.DEFAULTS,
            engine.store(),
            new LocalEventBus(),
            new SimpleMeterRegistry(),
            Clock.systemUTC());
    LocalServices services = LocalServices.of(engine.engine(), notifications);
    local =
        new GatewayServices(
            services.conversations(),
            services.messages(),
            services.delivery(),
            services.presence(),
            services.users(),
            token -> CompletableFuture.failedFuture(new IllegalStateException("unused")),
            services.notifications());
    server =
        CommandServer.start(
            settings("engine-1"), services, firstShards, () -> firstLost.set(true));
    awaitReady(server);
    remote = RemoteEngine.start(settings("gateway-1"));
    rpc = remote.services(local.tokens());
  }

  @AfterEach
  void stop() {
    if (remote != null) {
      remote.close();
    }
    if (server != null) {
      server.close();
    }
    if (notifications != null) {
      notifications.close();
    }
    if (engine != null) {
      engine.close();
    }
  }

  private static void awaitReady(CommandServer engine) {
    await().atMost(Duration.ofSeconds(30)).until(engine::isReady);
  }

  private KafkaSettings settings(String nodeId) {
    return new KafkaSettings(kafka.bootstrapServers(), prefix, 4, (short) 1, nodeId, TIMEOUT);
  }

  @Test
  void remoteCallsGetTheSameAnswersAsLocalCalls() {
    for (String u : List.of("alice", "bob")) {
      assertThat(get(rpc.users().upsert(u, u.toUpperCase(), "")).getUserId()).isEqualTo(u);
    }
    Caller alice = Caller.user("alice", "phone");
    Caller bob = Caller.user("bob", "laptop");
    ConversationResult group =
        get(
            rpc.conversations()
                .createGroup(
                    alice,
                    CreateGroup.newBuilder()
                        .setMetadata(ConversationMetadata.newBuilder().setTitle("team"))
                        .addMemberIds("bob")
                        .build()));
    String conv = group.getConversation().getId();
    GetConversation getConv = GetConversation.newBuilder().setConversationId(conv).build();
    assertThat(get(rpc.conversations().getConversation(bob, getConv)))
        .isEqualTo(get(local.conversations().getConversation(bob, getConv)));

    SendResult first = get(rpc.messages().send(alice, EngineFixture.message(conv, "m1", "hi")));
    SendResult second = get(rpc.messages().send(bob, EngineFixture.message(conv, "m2", "yo")));
    SendResult again = get(rpc.messages().send(alice, EngineFixture.message(conv, "m1", "hi")));
    assertThat(second.getSeq()).isGreaterThan(first.getSeq());
    assertThat(again.getDuplicate()).isTrue();
    assertThat(again.getSeq()).isEqualTo(first.getSeq());

    GetHistory history = GetHistory.newBuilder().setConversationId(conv).setLimit(10).build();
    assertThat(get(rpc.messages().history(bob, history)).getEventsList())
        .isEqualTo(get(local.messages().history(bob, history)).getEventsList())
        .extracting(e -> e.getMessagePosted().getBody().toString(StandardCharsets.UTF_8))
        .contains("hi", "yo");

    Sync sync = Sync.getDefaultInstance();
    assertThat(get(rpc.delivery().sync(bob, sync))).isEqualTo(get(local.delivery().sync(bob, sync)));
    get(rpc.delivery().markRead(bob, MarkRead.newBuilder().setConversationId(conv).setSeq(second.getSeq()).build()));
    ListMembers members = ListMembers.newBuilder().setConversationId(conv).build();
    assertThat(get(rpc.conversations().listMembers(alice, members)))
        .isEqualTo(get(local.conversations().listMembers(alice, members)));

    assertThat(get(rpc.users().ensureActive("alice")))
        .isEqualTo(get(local.users().ensureActive("alice")));
    assertThat(get(rpc.users().list("", 10))).isEqualTo(get(local.users().list("", 10)));
    get(rpc.presence().setStatus(alice, PresenceStatus.PRESENCE_STATUS_AWAY));
    assertThat(get(rpc.presence().current(List.of("alice", "bob"))))
        .isEqualTo(get(local.presence().current(List.of("alice", "bob"))));
    get(
        rpc.notifications()
            .setConversationMuted(
                bob, SetConversationMuted.newBuilder().setConversationId(conv).setMuted(true).build()));
    assertThat(remote.pendingCalls()).isZero();
  }

  @Test
  void typedErrorsPassThroughUnchanged() {
    get(rpc.users().upsert("carol", "", ""));
    Caller carol = Caller.user("carol", "d");
    var request = EngineFixture.message("no-such-conversation", "x1", "hello");

    ParleyException viaKafka = failure(rpc.messages().send(carol, request));
    ParleyException direct = failure(local.messages().send(carol, request));

    assertThat(viaKafka.code()).isEqualTo(ErrorCode.NOT_FOUND).isEqualTo(direct.code());
    assertThat(viaKafka.getMessage()).isEqualTo(direct.getMessage());
  }

  @Test
  void malformedCommandsAreSkippedAndTheServerKeepsServing() throws Exception {
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            KafkaClients.producer(settings("vandal"), "test"),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < 20; i++) {
        byte[] junk = UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8);
        producer.send(new ProducerRecord<>(RemoteEngine.commandTopic(settings("x")), "k" + i, junk))
            .get(30, TimeUnit.SECONDS);
      }
      producer.send(new ProducerRecord<>(RemoteEngine.commandTopic(settings("x")), "k", null))
          .get(30, TimeUnit.SECONDS);
    }
    assertThat(get(rpc.users().upsert("dave", "Dave", "")).getDisplayName()).isEqualTo("Dave");
    assertThat(server.isReady()).isTrue();
  }

  /**
   * The command topic's partitions are the conversation shards the store lays feeds out by, so a
   * process configured with another count must not start against an existing topic.
   */
  @Test
  void aProcessWithAnotherShardCountRefusesTheExistingCommandTopic() {
    KafkaSettings other =
        new KafkaSettings(kafka.bootstrapServers(), prefix, 6, (short) 1, "gateway-6", TIMEOUT);

    assertThatThrownBy(() -> RemoteEngine.start(other))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has 4 partitions, but cluster.kafka.command_partitions is 6");
  }

  /** Each call goes to the partition of its key's shard (the engine that owns its feeds). */
  @Test
  void callsGoToThePartitionOfTheirKeysShard() throws Exception {
    ConversationShards shards = new ConversationShards(4);
    rpc.users().upsert("frank", "", "").get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    try (KafkaConsumer<String, byte[]> reader =
        new KafkaConsumer<>(
            KafkaClients.consumer(settings("probe"), "probe", null),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int p = 0; p < 4; p++) {
        partitions.add(new TopicPartition(RemoteEngine.commandTopic(settings("x")), p));
      }
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      Map<String, Integer> partitionOfKey = new HashMap<>();
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                for (ConsumerRecord<String, byte[]> r : reader.poll(Duration.ofMillis(200))) {
                  partitionOfKey.put(r.key(), r.partition());
                }
                return partitionOfKey.containsKey("frank");
              });
      assertThat(partitionOfKey.get("frank")).isEqualTo(shards.of("frank"));
    }
  }

  @Test
  void aStoppedEngineMeansUnavailableWithinTheTimeout() {
    server.close();
    server = null;

    ParleyException e = failure(rpc.users().upsert("erin", "", ""));

    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(e.retryAfterMs()).isPositive();
    assertThat(remote.pendingCalls()).isZero();
  }

  @Test
  void closingTheClientFailsPendingCallsWithShuttingDown() {
    server.close();
    server = null;
    CompletableFuture<?> pending = rpc.users().upsert("frank", "", "");

    remote.close();

    assertThat(failure(pending).code()).isEqualTo(ErrorCode.SHUTTING_DOWN);
    assertThat(failure(rpc.users().upsert("frank", "", "")).code())
        .isEqualTo(ErrorCode.SHUTTING_DOWN);
  }

  @Test
  void twoEnginesShareTheShardsAndOneTakesThemAllWhenTheOtherLeaves() {
    CommandServer first = server;
    AtomicBoolean secondFailed = new AtomicBoolean();
    RecordingShards secondShards = new RecordingShards();
    CommandServer second =
        CommandServer.start(
            settings("engine-2"),
            LocalServices.of(engine.engine(), notifications),
            secondShards,
            () -> secondFailed.set(true));
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> firstShards.owned.size() == 2 && secondShards.owned.size() == 2);
      Set<Integer> all = new HashSet<>(firstShards.owned);
      all.addAll(secondShards.owned);
      assertThat(all).containsExactlyInAnyOrder(0, 1, 2, 3);
      // Users of every shard: each call reaches whichever engine owns its shard.
      for (int i = 0; i < 12; i++) {
        assertThat(get(rpc.users().upsert("gina" + i, "Gina", "")).getDisplayName())
            .isEqualTo("Gina");
      }

      first.close(); // leaves the group: its shards move at once, no session timeout
      server = null;
      await().atMost(Duration.ofSeconds(60)).until(() -> secondShards.owned.size() == 4);
      for (int i = 0; i < 12; i++) {
        assertThat(get(rpc.users().upsert("gina" + i, "Gina 2", "")).getDisplayName())
            .isEqualTo("Gina 2");
      }
      assertThat(firstLost).as("a clean stop is no failure").isFalse();
      assertThat(secondFailed).isFalse();
    } finally {
      second.close();
    }
  }

  @Test
  void offsetsAreCommittedOnlyUpToTheLowestUnansweredCall() throws Exception {
    server.close();
    CompletableFuture<io.parley.protocol.v1.Profile> held = new CompletableFuture<>();
    LocalServices real = LocalServices.of(engine.engine(), notifications);
    LocalServices holding =
        new LocalServices(
            real.conversations(),
            real.messages(),
            real.delivery(),
            real.presence(),
            new HoldingUsers(real.users(), held),
            real.notifications());
    server = CommandServer.start(settings("engine-hold"), holding, ShardAssignment.NONE, () -> {});
    awaitReady(server);

    // Same user id, so both calls share one partition, in this order.
    CompletableFuture<?> slow = rpc.users().upsert("hal", "hold", "");
    assertThat(get(rpc.users().upsert("hal", "Hal", "")).getDisplayName()).isEqualTo("Hal");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(committedOffsets()).containsValue(0L));
    assertThat(committedOffsets().values())
        .as("nothing is committed past the unanswered call at offset 0")
        .allMatch(o -> o == 0L);

    held.complete(io.parley.protocol.v1.Profile.newBuilder().setUserId("hal").build());
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(committedOffsets()).containsValue(2L));
    // Answered or timed out at the gateway, depending on how quickly this ran: either way it ends.
    slow.handle((r, e) -> null).get(60, TimeUnit.SECONDS);
  }

  private Map<Integer, Long> committedOffsets() throws Exception {
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(KafkaClients.admin(settings("probe")))) {
      Map<Integer, Long> out = new java.util.HashMap<>();
      admin
          .listConsumerGroupOffsets(CommandServer.groupId(settings("probe")))
          .partitionsToOffsetAndMetadata()
          .get(30, TimeUnit.SECONDS)
          .forEach((tp, o) -> {
            if (o != null) {
              out.put(tp.partition(), o.offset());
            }
          });
      return out;
    }
  }

  /** Users whose upsert with display name "hold" completes only when the test says so. */
  private record HoldingUsers(
      io.parley.server.user.UserService real, CompletableFuture<io.parley.protocol.v1.Profile> held)
      implements io.parley.server.user.UserService {
    @Override
    public CompletableFuture<io.parley.server.store.UserRecord> ensureActive(String userId) {
      return real.ensureActive(userId);
    }

    @Override
    public CompletableFuture<io.parley.protocol.v1.Profile> getProfile(
        Caller caller, io.parley.protocol.v1.GetProfile request) {
      return real.getProfile(caller, request);
    }

    @Override
    public CompletableFuture<io.parley.protocol.v1.Profile> updateProfile(
        Caller caller, io.parley.protocol.v1.UpdateProfile request) {
      return real.updateProfile(caller, request);
    }

    @Override
    public CompletableFuture<io.parley.protocol.v1.Profile> upsert(
        String userId, String displayName, String avatarUrl) {
      return "hold".equals(displayName) ? held : real.upsert(userId, displayName, avatarUrl);
    }

    @Override
    public CompletableFuture<io.parley.protocol.v1.Profile> setDeactivated(
        String userId, boolean deactivated) {
      return real.setDeactivated(userId, deactivated);
    }

    @Override
    public CompletableFuture<List<io.parley.protocol.v1.Profile>> list(String after, int limit) {
      return real.list(after, limit);
    }
  }

  private static <T> T get(CompletableFuture<T> f) {
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("call failed: " + e.getCause(), e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static ParleyException failure(CompletableFuture<?> f) {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return ParleyException.from(e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected the call to fail");
  }
}
