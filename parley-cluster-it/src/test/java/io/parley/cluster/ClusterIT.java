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
 * Cassandra node, HAProxy with the shipped configuration, two gateway processes and an engine
 * process (later also a standby engine and a notify-only process), and Java SDK clients connecting
 * through the load balancer. Every scenario checks the
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
    // The transport's meters show the same path: the engine holds the lease and routed the
    // events, each gateway is linked and read its deliveries.
    assertThat(Cluster.metric(cluster.engine(), "parley_cluster_engine_lease_held")).isEqualTo(1);
    assertThat(Cluster.metric(cluster.engine(), "parley_cluster_routed_records_total")).isPositive();
    for (int g = 0; g < 2; g++) {
      assertThat(Cluster.metric(cluster.gateway(g), "parley_cluster_link_up")).isEqualTo(1);
      assertThat(Cluster.metric(cluster.gateway(g), "parley_cluster_delivery_records_read_total"))
          .isPositive();
    }
  }

  /**
   * A separate notify-only process may run beside the engine's notify role: exactly one of them
   * delivers the outbox (holds the notify lease), the other stands by.
   */
  @Test
  @Order(2)
  void aNotifyOnlyProcessStandsByWhileTheEngineDelivers() throws Exception {
    notifyNode = cluster.startNotifyNode();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(Cluster.metric(cluster.engine(), "parley_cluster_notify_lease_held"))
                    .isEqualTo(1));
    // Longer than a vacancy and a takeover: the notify-only process only watches.
    sleep(RoleLease.VACANCY.plus(RoleLease.TAKEOVER_DELAY).plusSeconds(1).toMillis());
    assertThat(Cluster.metric(notifyNode, "parley_cluster_notify_lease_held")).isZero();
    assertThat(Cluster.metric(cluster.engine(), "parley_cluster_notify_lease_held")).isEqualTo(1);
  }

  @Test
  @Order(3)
  void killingAGatewayUnderLoadMovesItsClientsWithNothingLostDuplicatedOrReordered()
      throws Exception {
    underLoad("kill", true, () -> cluster.gateway(0).kill());
  }

  @Test
  @Order(4)
  void drainingAGatewayWithSigtermMovesItsClientsWithoutLoss() throws Exception {
    // Gateway 1 was killed by the previous scenario; a fresh one takes its place first.
    if (!cluster.gateway(0).isAlive()) {
      cluster.restartGateway(0);
      awaitUp("gw1");
    }
    underLoad("drain", true, () -> cluster.gateway(1).terminate(Duration.ofSeconds(40)));
    cluster.restartGateway(1);
    awaitUp("gw2");
  }

  @Test
  @Order(5)
  void killingTheEngineUnderLoadLetsTheStandbyTakeOverAndLosesNothingAcknowledged()
      throws Exception {
    ForkedServer standby = cluster.startStandbyEngine();
    assertThat(standby.get("/readyz").status()).as("a standby is not ready").isEqualTo(503);
    assertThat(standby.get("/v1/admin/users").status())
        .as("nor does its admin API run while another engine holds the lease")
        .isEqualTo(503);
    assertThat(Cluster.metric(standby, "parley_cluster_engine_lease_held")).isZero();
    underLoad(
        "engine",
        false,
        () -> {
          cluster.engine().kill(); // no restart: the standby notices the silence and takes over
          standby.awaitReady(Duration.ofSeconds(60));
          cluster.promote(standby);
        });
    assertThat(Cluster.metric(standby, "parley_cluster_engine_lease_held")).isEqualTo(1);

    // Presence survives the change of engine: the members are still connected, and the new
    // engine, which never saw them connect, reports them online to a new follower.
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
   * The case the engine journal exists for: the active engine freezes (SIGSTOP, like a long GC
   * pause) with calls in flight, a standby fences it and takes over, and then the frozen engine
   * wakes up in the middle of its calls. It must not write anything (its journal commits fail), it
   * must notice and exit, and the clients must see every acknowledged message exactly once.
   */
  @Test
  @Order(6)
  void anEnginePausedUnderLoadIsReplacedAndWritesNothingWhenItWakes() throws Exception {
    ForkedServer standby = cluster.startStandbyEngine();
    ForkedServer frozen = cluster.engine();
    underLoad(
        "pause",
        false,
        () -> {
          frozen.pause();
          standby.awaitReady(Duration.ofSeconds(60));
          cluster.promote(standby);
          frozen.resume();
        });
    await()
        .atMost(Duration.ofSeconds(60))
        .alias("the replaced engine exits once it wakes up")
        .until(() -> !frozen.isAlive());
    // Its heartbeat, its journal or its fenced group membership tells it first, whichever runs.
    assertThat(frozen.output())
        .containsAnyOf("lost: another process took over", "giving up the engine lease");
    assertThat(Cluster.metric(standby, "parley_cluster_engine_lease_held")).isEqualTo(1);
    // The frozen engine also held the notify lease: exactly one process delivers now.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        Cluster.metric(standby, "parley_cluster_notify_lease_held")
                            + Cluster.metric(notifyNode, "parley_cluster_notify_lease_held"))
                    .isEqualTo(1));
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

  /** Something that happens to the cluster while clients send. */
  interface Disruption {
    void run() throws Exception;
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
    disruption.run();
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
