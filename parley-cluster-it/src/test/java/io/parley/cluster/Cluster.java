package io.parley.cluster;

import io.parley.server.store.ConversationShards;
import io.parley.server.testing.CassandraTestCluster;
import io.parley.server.testing.ForkedServer;
import io.parley.server.testing.KafkaTestBroker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Parley cluster of separate processes for the cluster tests: engine nodes (roles {@code
 * engine,notify}; two by default, which share the conversation shards) and two gateway nodes (role
 * {@code gateway}) of the real server jar, on the
 * shared forked Kafka broker and Cassandra node, behind HAProxy with the repository's
 * configuration; the gateways require its PROXY protocol header ({@code server.proxy_protocol}),
 * so clients reach them only through HAProxy. Every process is recorded when it starts and destroyed by {@link #close()} (and
 * by the harness's shutdown hooks). Not thread-safe.
 */
final class Cluster implements AutoCloseable {

  private final Path dir;
  private final KafkaTestBroker kafka;
  private final CassandraTestCluster cassandra;
  private final String keyspace;
  private final String topicPrefix;
  private final List<AutoCloseable> processes = new ArrayList<>();
  private final ForkedServer[] engines;
  private final ForkedServer[] gateways = new ForkedServer[2];
  private Haproxy lb;
  private final int balancedGateways;
  private int starts;

  /** The command partitions (conversation shards) of the test cluster. */
  static final int SHARDS = 4;

  private Cluster(
      Path dir,
      KafkaTestBroker kafka,
      CassandraTestCluster cassandra,
      String name,
      int balanced,
      int engines) {
    this.balancedGateways = balanced;
    this.engines = new ForkedServer[engines];
    this.dir = dir;
    this.kafka = kafka;
    this.cassandra = cassandra;
    this.keyspace = name;
    this.topicPrefix = name + ".";
  }

  /** Starts two engines, two gateways and HAProxy in a fresh keyspace and topic prefix. */
  static Cluster start(Path dir, KafkaTestBroker kafka, CassandraTestCluster cassandra, String name)
      throws Exception {
    return start(dir, kafka, cassandra, name, 2, 2);
  }

  /**
   * Same as {@link #start(Path, KafkaTestBroker, CassandraTestCluster, String)} with only the first
   * gateway behind HAProxy when {@code balancedGateways} is 1 (benchmarks of one gateway), and
   * {@code engines} engine processes (1 or 2).
   */
  static Cluster start(
      Path dir,
      KafkaTestBroker kafka,
      CassandraTestCluster cassandra,
      String name,
      int balancedGateways,
      int engines)
      throws Exception {
    Cluster c = new Cluster(dir, kafka, cassandra, name, balancedGateways, engines);
    try {
      c.startAll();
      return c;
    } catch (Exception | AssertionError e) {
      c.close();
      throw e;
    }
  }

  /** (Re)starts every process: the engines first, then the gateways, then the load balancer. */
  void startAll() throws Exception {
    for (int i = 0; i < engines.length; i++) {
      engines[i] = startNode("engine" + (i + 1), "engine,notify", 0);
    }
    for (int i = 0; i < gateways.length; i++) {
      gateways[i] = startNode("gateway" + (i + 1), "gateway", 0);
    }
    int second = balancedGateways == 1 ? gateways[0].port() : gateways[1].port();
    lb = Haproxy.start(dir, gateways[0].port(), second, engines[0].port(),
        engines[engines.length - 1].port());
    processes.add(lb);
  }

  /** Stops every process (SIGKILL for servers, like a power cut of the whole cluster). */
  void killAll() throws InterruptedException {
    lb.close();
    for (ForkedServer g : gateways) {
      g.kill();
    }
    for (ForkedServer e : engines) {
      e.kill();
    }
  }

  /** Starts a node with the given roles on this cluster's Kafka topics and keyspace. */
  private ForkedServer startNode(String name, String roles, int port)
      throws IOException, InterruptedException {
    return startNode(name, roles, port, false);
  }

  /**
   * Starts a process with only the notify role: it stands by for the notify lease while an engine
   * process (roles {@code engine,notify}) delivers the outbox.
   */
  ForkedServer startNotifyNode() throws IOException, InterruptedException {
    return startNode("notify", "notify", 0, true);
  }

  private ForkedServer startNode(String name, String roles, int port, boolean standby)
      throws IOException, InterruptedException {
    Path data = Files.createDirectories(dir.resolve(name + "-" + (++starts)));
    Map<String, String> env = new HashMap<>(cassandra.serverEnv(keyspace));
    env.put("PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    env.put("PARLEY_CLUSTER_KAFKA_TOPIC_PREFIX", topicPrefix);
    env.put("PARLEY_CLUSTER_KAFKA_COMMAND_PARTITIONS", String.valueOf(SHARDS));
    env.put("PARLEY_CLUSTER_KAFKA_REPLICATION_FACTOR", "1");
    env.put("PARLEY_CLUSTER_NODE_ID", name + "-" + starts);
    if (roles.equals("gateway")) {
      // HAProxy sends every gateway connection (health checks too) with a PROXY v2 header
      // (deploy/haproxy/haproxy.cfg); the engine's admin traffic comes without one.
      env.put("PARLEY_SERVER_PROXY_PROTOCOL", "true");
    }
    List<String> args = List.of("--roles", roles);
    ForkedServer server =
        standby
            ? ForkedServer.startLive(data, env, args)
            : port == 0
                ? ForkedServer.start(data, env, args)
                : ForkedServer.start(data, env, args, port);
    processes.add(server);
    return server;
  }

  /** The first engine (HAProxy's first admin server). */
  ForkedServer engine() {
    return engines[0];
  }

  ForkedServer engine(int index) {
    return engines[index];
  }

  List<ForkedServer> engines() {
    return List.of(engines);
  }

  /** Starts a new process in place of engine {@code index} (which must be dead by now). */
  void restartEngine(int index) throws IOException, InterruptedException {
    engines[index] = startNode("engine" + (index + 1), "engine,notify", engines[index].port());
  }

  /**
   * The engine that owns the shard of {@code conversationId} now (its {@code
   * parley_cluster_engine_shard_owned} meter), or null while no live engine reports it.
   */
  ForkedServer ownerOf(String conversationId) throws InterruptedException {
    int shard = new ConversationShards(SHARDS).of(conversationId);
    for (ForkedServer e : engines) {
      if (liveMetric(e, "parley_cluster_engine_shard_owned{shard=\"" + shard + "\"}") == 1) {
        return e;
      }
    }
    return null;
  }

  /** A meter of a node, or 0 when the node is dead or does not answer. */
  private static double liveMetric(ForkedServer node, String name) throws InterruptedException {
    if (!node.isAlive()) {
      return 0;
    }
    try {
      return metric(node, name);
    } catch (IOException | IllegalStateException e) {
      return 0;
    }
  }

  /**
   * Shards each engine owns now, by {@code parley_cluster_engine_shards_owned} (0 for an engine
   * that is dead or does not answer).
   */
  List<Integer> shardsOwned() throws InterruptedException {
    List<Integer> owned = new ArrayList<>();
    for (ForkedServer e : engines) {
      owned.add((int) liveMetric(e, "parley_cluster_engine_shards_owned"));
    }
    return owned;
  }

  /** Starts a new gateway process on the old one's port, so HAProxy's server line fits again. */
  void restartGateway(int index) throws IOException, InterruptedException {
    gateways[index] = startNode("gateway" + (index + 1), "gateway", gateways[index].port());
  }

  ForkedServer gateway(int index) {
    return gateways[index];
  }

  Haproxy loadBalancer() {
    return lb;
  }

  /** The WebSocket address clients use: through HAProxy. */
  String uri() {
    return "ws://127.0.0.1:" + lb.port() + "/v1/ws";
  }

  /**
   * The open WebSocket connections of a gateway ({@code parley_connections} of its {@code
   * /metrics}). Clients cannot bypass HAProxy to reach a chosen gateway (gateways require the PROXY
   * header), so tests ask the gateways where their clients landed.
   */
  int gatewayConnections(int index) throws IOException, InterruptedException {
    return (int) metric(gateways[index], "parley_connections");
  }

  /** The value of an unlabelled meter in a node's {@code /metrics}. */
  static double metric(ForkedServer node, String name) throws IOException, InterruptedException {
    ForkedServer.Reply metrics = node.get("/metrics");
    if (metrics.status() != 200) {
      throw new IllegalStateException("/metrics of port " + node.port() + ": " + metrics);
    }
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(metrics.body());
    if (!m.find()) {
      throw new IllegalStateException("no " + name + " in /metrics of port " + node.port());
    }
    return Double.parseDouble(m.group(1));
  }

  /** The logs of every process, for failure messages. */
  String logs() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < engines.length; i++) {
      if (engines[i] != null) {
        sb.append("--- engine ").append(i + 1).append(" ---\n").append(tail(engines[i].output()));
      }
    }
    for (int i = 0; i < gateways.length; i++) {
      if (gateways[i] != null) {
        sb.append("--- gateway ").append(i + 1).append(" ---\n").append(tail(gateways[i].output()));
      }
    }
    if (lb != null) {
      sb.append("--- haproxy ---\n").append(tail(lb.output()));
    }
    return sb.toString();
  }

  private static String tail(String s) {
    return s.length() <= 6000 ? s : s.substring(s.length() - 6000);
  }

  @Override
  public void close() {
    for (int i = processes.size() - 1; i >= 0; i--) {
      try {
        processes.get(i).close();
      } catch (Exception e) {
        // best effort: the others must still be stopped
      }
    }
    processes.clear();
  }
}
