package io.parley.cluster;

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
 * A Parley cluster of separate processes for the cluster tests: one engine node (roles {@code
 * engine,notify}) and two gateway nodes (role {@code gateway}) of the real server jar, on the
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
  private ForkedServer engine;
  private final ForkedServer[] gateways = new ForkedServer[2];
  private Haproxy lb;
  private final int balancedGateways;
  private int starts;

  private Cluster(
      Path dir, KafkaTestBroker kafka, CassandraTestCluster cassandra, String name, int balanced) {
    this.balancedGateways = balanced;
    this.dir = dir;
    this.kafka = kafka;
    this.cassandra = cassandra;
    this.keyspace = name;
    this.topicPrefix = name + ".";
  }

  /** Starts engine, two gateways and HAProxy in a fresh keyspace and topic prefix. */
  static Cluster start(Path dir, KafkaTestBroker kafka, CassandraTestCluster cassandra, String name)
      throws Exception {
    return start(dir, kafka, cassandra, name, 2);
  }

  /**
   * Same as {@link #start(Path, KafkaTestBroker, CassandraTestCluster, String)} with only the first
   * gateway behind HAProxy when {@code balancedGateways} is 1 (benchmarks of one gateway).
   */
  static Cluster start(
      Path dir, KafkaTestBroker kafka, CassandraTestCluster cassandra, String name, int balancedGateways)
      throws Exception {
    Cluster c = new Cluster(dir, kafka, cassandra, name, balancedGateways);
    try {
      c.startAll();
      return c;
    } catch (Exception | AssertionError e) {
      c.close();
      throw e;
    }
  }

  /** (Re)starts every process: engine first, then the gateways, then the load balancer. */
  void startAll() throws Exception {
    engine = startNode("engine", "engine,notify", 0);
    for (int i = 0; i < gateways.length; i++) {
      gateways[i] = startNode("gateway" + (i + 1), "gateway", 0);
    }
    int second = balancedGateways == 1 ? gateways[0].port() : gateways[1].port();
    lb = Haproxy.start(dir, gateways[0].port(), second, engine.port());
    processes.add(lb);
  }

  /** Stops every process (SIGKILL for servers, like a power cut of the whole cluster). */
  void killAll() throws InterruptedException {
    lb.close();
    for (ForkedServer g : gateways) {
      g.kill();
    }
    engine.kill();
  }

  /** Starts a node with the given roles on this cluster's Kafka topics and keyspace. */
  private ForkedServer startNode(String name, String roles, int port)
      throws IOException, InterruptedException {
    return startNode(name, roles, port, false);
  }

  /**
   * Starts a second engine, which stands by (alive, not ready) while the engine holds the lease.
   * It is not behind HAProxy's admin backend.
   */
  ForkedServer startStandbyEngine() throws IOException, InterruptedException {
    return startNode("standby", "engine,notify", 0, true);
  }

  /**
   * Starts a process with only the notify role: it stands by for the notify lease while the engine
   * process (roles {@code engine,notify}) delivers the outbox.
   */
  ForkedServer startNotifyNode() throws IOException, InterruptedException {
    return startNode("notify", "notify", 0, true);
  }

  /** Makes {@code standby} the cluster's engine (after the engine died and it took over). */
  void promote(ForkedServer standby) {
    engine = standby;
  }

  private ForkedServer startNode(String name, String roles, int port, boolean standby)
      throws IOException, InterruptedException {
    Path data = Files.createDirectories(dir.resolve(name + "-" + (++starts)));
    Map<String, String> env = new HashMap<>(cassandra.serverEnv(keyspace));
    env.put("PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    env.put("PARLEY_CLUSTER_KAFKA_TOPIC_PREFIX", topicPrefix);
    env.put("PARLEY_CLUSTER_KAFKA_COMMAND_PARTITIONS", "4");
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

  ForkedServer engine() {
    return engine;
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
    if (engine != null) {
      sb.append("--- engine ---\n").append(tail(engine.output()));
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
