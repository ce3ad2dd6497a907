package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;
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
import io.parley.server.testing.KafkaExtension;
import io.parley.server.testing.KafkaTestBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway's {@link RemoteEngine} against a real {@link EngineModule} on RocksDB behind a {@link
 * CommandServer}, through a real (forked) Kafka broker: the same answers as local calls, typed
 * errors, timeouts, shutdown and the single-engine lease.
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
    server = CommandServer.start(settings("engine-1"), services, () -> firstLost.set(true));
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
  void aSecondEngineFencesTheFirst() {
    CommandServer first = server;
    assertThat(first.isReady()).isTrue();
    AtomicBoolean secondLost = new AtomicBoolean();

    CommandServer second =
        CommandServer.start(
            settings("engine-2"),
            LocalServices.of(engine.engine(), notifications),
            () -> secondLost.set(true));
    try {
      // Lease acquisition waits out the heartbeat, so the first has noticed by now.
      await().atMost(Duration.ofSeconds(30)).untilTrue(firstLost);
      assertThat(first.isReady()).isFalse();
      assertThat(second.isReady()).isTrue();
      assertThat(secondLost).isFalse();
      assertThat(get(rpc.users().upsert("gina", "Gina", "")).getDisplayName()).isEqualTo("Gina");
    } finally {
      second.close();
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
