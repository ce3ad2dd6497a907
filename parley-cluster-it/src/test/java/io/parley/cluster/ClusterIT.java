package io.parley.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.client.ConnectionState;
import io.parley.client.ParleyClient;
import io.parley.client.ParleyListener;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.PresenceNotice;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.SendResult;
import io.parley.server.bus.kafka.RoleLease;
import io.parley.server.testing.CassandraExtension;
import io.parley.server.testing.CassandraTestCluster;
import io.parley.server.testing.ForkedServer;
import io.parley.server.testing.KafkaExtension;
import io.parley.server.testing.KafkaTestBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster scenarios of the scale-out issue, on separate processes: a real Kafka broker and
 * Cassandra node, HAProxy with the shipped configuration, two gateway processes and two engine
 * processes that share the conversation shards (later also a notify-only process), and Java SDK
 * clients connecting through the load balancer. Every scenario checks the
 * guarantees the single node proves: each client sees every event of its conversations exactly
 * once and in seq order, and every acknowledged message is in the log exactly once.
 *
 * <p>One cluster for the whole class (starting it costs most of the time); scenarios run in order
 * and each leaves the cluster running.
 */
@ExtendWith({KafkaExtension.class, CassandraExtension.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  private Cluster cluster;
  private ForkedServer notifyNode;
  private final List<ParleyClient> clients = new ArrayList<>();

  @BeforeAll
  void startCluster(KafkaTestBroker kafka, CassandraTestCluster cassandra, @TempDir Path dir)
      throws Exception {
    cluster = Cluster.start(dir, kafka, cassandra, "clusterit");
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void closeClients() {
    for (ParleyClient c : clients) {
      c.closeAsync().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
    clients.clear();
  }

  @Test
  @Order(1)
  void clientsOnDifferentGatewaysChatInAGroup() throws Exception {
    Recorder alice = new Recorder();
    Recorder bob = new Recorder();
    Recorder carol = new Recorder();
    // All through HAProxy (the gateways accept only its PROXY-protocol connections); with
    // leastconn and no other clients yet, alice and bob land on different gateways.
    ParleyClient a = connect("g-alice", cluster.uri(), alice);
    ParleyClient b = connect("g-bob", cluster.uri(), bob);
    ParleyClient c = connect("g-carol", cluster.uri(), carol);
    assertThat(cluster.gatewayConnections(0)).as("clients on gateway 1").isPositive();
    assertThat(cluster.gatewayConnections(1)).as("clients on gateway 2").isPositive();

    String conv =
        done(a.createGroup(group("gateways"), List.of("g-bob", "g-carol"), ReceiptVisibility.RECEIPT_VISIBILITY_MEMBERS)).getId();
    done(b.send(conv, "text/plain", utf8("from bob")));
    done(a.send(conv, "text/plain", utf8("from alice")));
    done(c.send(conv, "text/plain", utf8("from carol")));

    for (Recorder r : List.of(alice, bob, carol)) {
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(r.bodies(conv))
                      .containsExactly("from bob", "from alice", "from carol"));
      r.assertExactlyOnceInOrder(conv);
    }
    // The transport's meters show the same path: the two engines share the shards, the owner of
    // the group's shard routed the events, each gateway is linked and read its deliveries.
    awaitEvenShares();
    ForkedServer owner = cluster.ownerOf(conv);
    assertThat(owner).isNotNull();
    assertThat(Cluster.metric(owner, "parley_cluster_routed_records_total")).isPositive();
    for (int g = 0; g < 2; g++) {
      assertThat(Cluster.metric(cluster.gateway(g), "parley_cluster_link_up")).isEqualTo(1);
      assertThat(Cluster.metric(cluster.gateway(g), "parley_cluster_delivery_records_read_total"))
          .isPositive();
    }
  }

  /**
   * A separate notify-only process may run beside the engines' notify role: exactly one of them
   * delivers the outbox (holds the notify lease), the others stand by.
   */
  @Test
  @Order(2)
  void aNotifyOnlyProcessStandsByWhileAnEngineDelivers() throws Exception {
    await().atMost(WAIT).untilAsserted(() -> assertThat(notifyLeaders()).isEqualTo(1));
    notifyNode = cluster.startNotifyNode();
    // Longer than a vacancy and a takeover: the notify-only process only watches.
    sleep(RoleLease.VACANCY.plus(RoleLease.TAKEOVER_DELAY).plusSeconds(1).toMillis());
    assertThat(Cluster.metric(notifyNode, "parley_cluster_notify_lease_held")).isZero();
    assertThat(notifyLeaders()).isEqualTo(1);
  }

  /** Waits until the two engines own half of the shards each (after a start or a rebalance). */
  private void awaitEvenShares() {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(cluster.shardsOwned())
                    .as("shards owned by each engine")
                    .containsExactly(Cluster.SHARDS / 2, Cluster.SHARDS / 2));
  }

  /** Live processes that deliver notifications now (hold the notify lease). */
  private double notifyLeaders() throws Exception {
    double leaders = 0;
    List<ForkedServer> nodes = new ArrayList<>(cluster.engines());
    if (notifyNode != null) {
      nodes.add(notifyNode);
    }
    for (ForkedServer n : nodes) {
      if (n.isAlive()) {
        leaders += Cluster.metric(n, "parley_cluster_notify_lease_held");
      }
    }
    return leaders;
  }

  @Test
  @Order(3)
  void killingAGatewayUnderLoadMovesItsClientsWithNothingLostDuplicatedOrReordered()
      throws Exception {
    underLoad("kill", true, conv -> cluster.gateway(0).kill());
  }

  @Test
  @Order(4)
  void drainingAGatewayWithSigtermMovesItsClientsWithoutLoss() throws Exception {
    // Gateway 1 was killed by the previous scenario; a fresh one takes its place first.
    if (!cluster.gateway(0).isAlive()) {
      cluster.restartGateway(0);
      awaitUp("gw1");
    }
    underLoad("drain", true, conv -> cluster.gateway(1).terminate(Duration.ofSeconds(40)));
    cluster.restartGateway(1);
    awaitUp("gw2");
  }

  @Test
  @Order(5)
  void killingAnEngineUnderLoadMovesItsShardsAndLosesNothingAcknowledged() throws Exception {
    AtomicReference<ForkedServer> killed = new AtomicReference<>();
    underLoad(
        "engine",
        false,
        conv -> {
          // The engine that sequences the group right now: no restart yet, the other engine
          // takes its shards once its session times out.
          ForkedServer owner = cluster.ownerOf(conv);
          assertThat(owner).as("an engine owns the group's shard").isNotNull();
          killed.set(owner);
          owner.kill();
          await()
              .atMost(WAIT)
              .untilAsserted(
                  () -> assertThat(cluster.shardsOwned()).contains(Cluster.SHARDS));
        });
    // The survivor took every shard over; the restarted engine gets its share back.
    int index = cluster.engines().indexOf(killed.get());
    cluster.restartEngine(index);
    awaitEvenShares();

    // Presence survives the change of owner: the members are still connected, and the engines,
    // which never saw them connect, report them online to a new follower.
    Recorder watcher = new Recorder();
    done(connect("engine-watcher", cluster.uri(), watcher).subscribePresence(List.of("engine-u0")));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(watcher.presence)
                    .anySatisfy(
                        n -> {
                          assertThat(n.getUserId()).isEqualTo("engine-u0");
                          assertThat(n.getStatus()).isEqualTo(PresenceStatus.PRESENCE_STATUS_ONLINE);
                        }));
  }

  /**
   * The case the shard journal exists for: the engine that sequences the group freezes (SIGSTOP,
   * like a long GC pause) with calls in flight, the other engine is given its shards, fences it and
   * takes over, and then the frozen engine wakes up in the middle of its calls. It must not write
   * anything of those shards (its journal commits fail), and the clients must see every
   * acknowledged message exactly once. Afterwards the woken engine rejoins the group and gets its
   * share of the shards again (had it held the notify lease, it only stops delivering).
   */
  @Test
  @Order(6)
  void anEnginePausedUnderLoadIsReplacedAndWritesNothingWhenItWakes() throws Exception {
    AtomicReference<ForkedServer> frozen = new AtomicReference<>();
    underLoad(
        "pause",
        false,
        conv -> {
          ForkedServer owner = cluster.ownerOf(conv);
          assertThat(owner).isNotNull();
          frozen.set(owner);
          owner.pause();
          ForkedServer other =
              cluster.engines().stream().filter(e -> e != owner).findFirst().orElseThrow();
          await()
              .atMost(WAIT)
              .untilAsserted(
                  () ->
                      assertThat(Cluster.metric(other, "parley_cluster_engine_shards_owned"))
                          .isEqualTo(Cluster.SHARDS));
          owner.resume();
        });
    ForkedServer woken = frozen.get();
    await()
        .atMost(WAIT)
        .alias("the woken engine learns that it lost its shards")
        .until(() -> woken.output().contains("gave up shards"));
    assertThat(woken.isAlive()).as("the woken engine keeps running").isTrue();
    awaitEvenShares();
    // Exactly one process delivers notifications.
    await().atMost(WAIT).untilAsserted(() -> assertThat(notifyLeaders()).isEqualTo(1));
  }

  @Test
  @Order(7)
  void restartingEveryProcessKeepsTheHistory() throws Exception {
    Recorder alice = new Recorder();
    ParleyClient a = connect("r-alice", cluster.uri(), alice);
    // Users exist once they have connected (or were created through the admin API).
    connect("r-bob", cluster.uri(), new Recorder());
    String conv = done(a.createGroup(group("restart"), List.of("r-bob"), ReceiptVisibility.RECEIPT_VISIBILITY_MEMBERS)).getId();
    List<Long> acked = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      acked.add(done(a.send(conv, "text/plain", utf8("before restart " + i))).getSeq());
    }
    closeClients();

    cluster.killAll();
    cluster.startAll();

    ParleyClient b = connect("r-bob", cluster.uri(), new Recorder());
    HistoryPage page = done(b.history(conv, 0, Direction.DIRECTION_FORWARD, 100));
    List<Long> seqs = page.getEventsList().stream().map(Event::getSeq).sorted().toList();
    assertThat(seqs).containsAll(acked);
    assertGapless(seqs);
  }

  // ---- the load scenario shared by the failure tests ----

  /** Something that happens to the cluster while clients send to the group {@code conv}. */
  interface Disruption {
    void run(String conv) throws Exception;
  }

  /**
   * Six clients through the load balancer in one group each send messages steadily; midway the
   * disruption happens. Every send must be acknowledged in the end (the SDK retries with the same
   * client_msg_id), every acknowledged message must be in the log exactly once, and every client
   * must have received the conversation's events exactly once and in order.
   */
  private void underLoad(String name, boolean movesClients, Disruption disruption)
      throws Exception {
    int users = 6;
    int perUser = 40;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      ids.add(name + "-u" + i);
    }
    List<Recorder> recorders = new ArrayList<>();
    List<ParleyClient> members = new ArrayList<>();
    for (String id : ids) {
      Recorder r = new Recorder();
      recorders.add(r);
      members.add(connect(id, cluster.uri(), r));
    }
    String conv = done(members.get(0).createGroup(group(name), ids.subList(1, users), ReceiptVisibility.RECEIPT_VISIBILITY_MEMBERS)).getId();
    for (Recorder r : recorders) {
      await().atMost(WAIT).until(() -> !r.events(conv).isEmpty());
    }

    Map<String, Long> acked = new ConcurrentHashMap<>();
    AtomicInteger sent = new AtomicInteger();
    List<CompletableFuture<SendResult>> sends = new CopyOnWriteArrayList<>();
    Thread load =
        new Thread(
            () -> {
              for (int round = 0; round < perUser; round++) {
                for (int u = 0; u < users; u++) {
                  String body = name + " " + u + "/" + round;
                  CompletableFuture<SendResult> f =
                      members.get(u).send(conv, "text/plain", utf8(body));
                  f.thenAccept(r -> acked.put(body, r.getSeq()));
                  sends.add(f);
                  sent.incrementAndGet();
                }
                sleep(25);
              }
            },
            "cluster-load");
    load.start();
    await().atMost(WAIT).until(() -> acked.size() >= users * perUser / 3);
    disruption.run(conv);
    load.join(TimeUnit.SECONDS.toMillis(120));

    for (CompletableFuture<SendResult> f : sends) {
      f.get(120, TimeUnit.SECONDS);
    }
    assertThat(acked).as("every send acknowledged in the end").hasSize(users * perUser);
    if (movesClients) {
      assertThat(recorders.stream().filter(Recorder::reconnected).count())
          .as("clients of the stopped gateway reconnected through the load balancer")
          .isPositive();
    }
    long head = acked.values().stream().mapToLong(Long::longValue).max().orElseThrow();
    for (Recorder r : recorders) {
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(r.maxSeq(conv))
                      .as("a client caught up to the head\n%s", cluster.logs())
                      .isGreaterThanOrEqualTo(head));
      r.assertExactlyOnceInOrder(conv);
      assertThat(r.bodies(conv)).containsAll(acked.keySet());
    }
  }

  // ---- helpers ----

  /** Waits until HAProxy's health checks see the gateway ready again. */
  private void awaitUp(String server) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(cluster.loadBalancer().serverStatus("gateways"))
                    .containsEntry(server, "UP"));
  }

  private ParleyClient connect(String userId, String uri, Recorder recorder) {
    ParleyClient c =
        ParleyClient.builder()
            .uri(uri)
            .tokenProvider(reason -> CompletableFuture.completedFuture(ForkedServer.token(userId)))
            .listener(recorder)
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
            .requestTimeout(Duration.ofSeconds(15))
            .build();
    clients.add(c);
    c.connect().orTimeout(30, TimeUnit.SECONDS).join();
    await().atMost(WAIT).until(() -> recorder.syncs.get() >= 1);
    return c;
  }

  private static ConversationMetadata group(String title) {
    return ConversationMetadata.newBuilder().setTitle(title).build();
  }

  private static <T> T done(CompletableFuture<T> f) {
    return f.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void assertGapless(List<Long> seqs) {
    for (int i = 1; i < seqs.size(); i++) {
      assertThat(seqs.get(i)).as("seq after %s", seqs.get(i - 1)).isEqualTo(seqs.get(i - 1) + 1);
    }
  }

  /** Records what the SDK delivers to the application. Thread-safe. */
  static final class Recorder implements ParleyListener {
    final List<Event> events = new CopyOnWriteArrayList<>();
    final List<PresenceNotice> presence = new CopyOnWriteArrayList<>();
    final AtomicInteger syncs = new AtomicInteger();
    final List<ConnectionState> states = new CopyOnWriteArrayList<>();

    @Override
    public void onConnectionStateChanged(ConnectionState state) {
      states.add(state);
    }

    @Override
    public void onPresence(PresenceNotice notice) {
      presence.add(notice);
    }

    boolean reconnected() {
      return states.contains(ConnectionState.RECONNECTING);
    }

    @Override
    public void onEvent(Event event) {
      events.add(event);
    }

    @Override
    public void onSynced() {
      syncs.incrementAndGet();
    }

    List<Event> events(String conv) {
      return events.stream().filter(e -> e.getConversationId().equals(conv)).toList();
    }

    long maxSeq(String conv) {
      return events(conv).stream().mapToLong(Event::getSeq).max().orElse(0);
    }

    List<String> bodies(String conv) {
      return events(conv).stream()
          .filter(Event::hasMessagePosted)
          .map(e -> e.getMessagePosted().getBody().toStringUtf8())
          .toList();
    }

    /** The application saw this conversation's events as one gapless run, each once. */
    void assertExactlyOnceInOrder(String conv) {
      assertGapless(events(conv).stream().map(Event::getSeq).toList());
    }
  }
}
