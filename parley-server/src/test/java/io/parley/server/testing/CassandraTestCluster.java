package io.parley.server.testing;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import io.parley.server.config.ParleyConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real single-node Apache Cassandra 5.0 for integration tests, forked as its own Java 17 process
 * (Cassandra does not run on newer JDKs and must stay off the test classpath) on free loopback
 * ports and a temporary directory. Started once per test run through {@link CassandraExtension};
 * destroyed when the run ends or, failing that, by a shutdown hook. A node that dies or does not
 * open its CQL port within {@link #READY_TIMEOUT} fails the start with the tail of its log.
 *
 * <p>Its classpath comes from {@code src/test/cassandra-runtime/pom.xml}, resolved once with {@code
 * mvn dependency:build-classpath} into {@code target/cassandra-runtime.classpath}. The Java 17
 * binary is {@value #DEFAULT_JAVA} unless the system property {@code parley.test.cassandra.java}
 * names another.
 *
 * <p>Thread-safe.
 */
public final class CassandraTestCluster implements AutoCloseable {
  /** The datacenter name of the SimpleSnitch. */
  public static final String DATACENTER = "datacenter1";

  static final String DEFAULT_JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

  /** Cassandra's own JPMS options for Java 17 (conf/jvm17-server.options), plus a small heap. */
  private static final List<String> JVM_OPTIONS =
      List.of(
          "-Xms64m",
          "-Xmx320m",
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-XX:+ExitOnOutOfMemoryError",
          "-Djdk.attach.allowAttachSelf=true",
          "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
          "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
          "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
          "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
          "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
          "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens", "java.base/java.io=ALL-UNNAMED",
          "--add-opens", "java.base/java.nio=ALL-UNNAMED",
          "--add-opens", "java.base/java.util.concurrent=ALL-UNNAMED",
          "--add-opens", "java.base/java.util=ALL-UNNAMED",
          "--add-opens", "java.base/java.util.concurrent.atomic=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang=ALL-UNNAMED",
          "--add-opens", "java.base/java.math=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens", "java.base/java.net=ALL-UNNAMED",
          "-Dcassandra-foreground=yes",
          "-Dcassandra.skip_wait_for_gossip_to_settle=0",
          "-Dcassandra.superuser_setup_delay_ms=0");

  private final Process process;
  private final Path dir;
  private final int nativePort;
  private final Thread shutdownHook;
  private final long startMillis;
  private CqlSession adminSession;

  private CassandraTestCluster(Process process, Path dir, int nativePort, Thread hook, long ms) {
    this.process = process;
    this.dir = dir;
    this.nativePort = nativePort;
    this.shutdownHook = hook;
    this.startMillis = ms;
  }

  /** Forks the node and waits until it accepts CQL connections. */
  public static CassandraTestCluster start() {
    long started = System.nanoTime();
    Path dir;
    try {
      dir = Files.createTempDirectory("parley-cassandra-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Process process = null;
    Thread hook = null;
    try {
      String classpath = ForkedProcesses.classpath("cassandra");
      Path java = Path.of(System.getProperty("parley.test.cassandra.java", DEFAULT_JAVA));
      if (!Files.isExecutable(java)) {
        throw new IllegalStateException(
            "Cassandra needs a Java 17 runtime at "
                + java
                + " (set -Dparley.test.cassandra.java=/path/to/jdk17/bin/java)");
      }
      int storagePort = ForkedProcesses.freePort();
      int nativePort = ForkedProcesses.freePort();
      Path yaml = dir.resolve("cassandra.yaml");
      Files.writeString(
          yaml,
          resource("/cassandra/cassandra-test.yaml")
              .replace("${dir}", dir.toString())
              .replace("${storage_port}", Integer.toString(storagePort))
              .replace("${native_port}", Integer.toString(nativePort)));
      Path logback = dir.resolve("logback.xml");
      Files.writeString(
          logback,
          "<configuration><appender name=\"F\" class=\"ch.qos.logback.core.FileAppender\">"
              + "<file>" + dir.resolve("system.log") + "</file><encoder><pattern>"
              + "%d %-5level [%thread] %logger{20} %msg%n</pattern></encoder></appender>"
              + "<root level=\"INFO\"><appender-ref ref=\"F\"/></root></configuration>");
      List<String> command = new ArrayList<>();
      command.add(java.toString());
      command.addAll(JVM_OPTIONS);
      command.add("-Dcassandra.config=" + yaml.toUri());
      command.add("-Dcassandra.storagedir=" + dir);
      command.add("-Dcassandra.logdir=" + dir);
      command.add("-Dlogback.configurationFile=" + logback);
      command.add("-cp");
      command.add(classpath);
      command.add("org.apache.cassandra.service.CassandraDaemon");
      process =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("stdout.log").toFile())
              .start();
      Process forked = process;
      hook = new Thread(() -> destroy(forked, dir), "cassandra-test-cleanup");
      Runtime.getRuntime().addShutdownHook(hook);
      ForkedProcesses.awaitPort(process, nativePort, READY_TIMEOUT, "Cassandra");
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      System.out.printf("Cassandra test node ready on 127.0.0.1:%d after %d ms%n", nativePort, ms);
      return new CassandraTestCluster(process, dir, nativePort, hook, ms);
    } catch (IOException | RuntimeException e) {
      if (process != null) {
        destroy(process, null);
      }
      String log = logTail(dir);
      if (hook != null) {
        Runtime.getRuntime().removeShutdownHook(hook);
      }
      ForkedProcesses.deleteTree(dir);
      throw new IllegalStateException(
          "cannot start the Cassandra test node: " + e.getMessage() + "\n--- node log ---\n" + log, e);
    }
  }

  /** The contact point, {@code 127.0.0.1:<port>}. */
  public String contactPoint() {
    return "127.0.0.1:" + nativePort;
  }

  /** Store settings for a keyspace of this node (replication factor 1). */
  public ParleyConfig.Cassandra config(String keyspace) {
    return new ParleyConfig.Cassandra(
        List.of(contactPoint()),
        DATACENTER,
        keyspace,
        Map.of("class", "SimpleStrategy", "replication_factor", "1"));
  }

  /** Environment settings that run a server on this node, in the given keyspace. */
  public Map<String, String> serverEnv(String keyspace) {
    return Map.of(
        "PARLEY_STORAGE_ENGINE", "cassandra",
        "PARLEY_CASSANDRA_CONTACT_POINTS", contactPoint(),
        "PARLEY_CASSANDRA_LOCAL_DATACENTER", DATACENTER,
        "PARLEY_CASSANDRA_KEYSPACE", keyspace,
        "PARLEY_CASSANDRA_REPLICATION", "SimpleStrategy:1");
  }

  /** A session for test setup (truncating tables); shared, closed with the node. */
  public synchronized CqlSession adminSession() {
    if (adminSession == null) {
      adminSession =
          CqlSession.builder()
              .addContactPoint(new InetSocketAddress("127.0.0.1", nativePort))
              .withLocalDatacenter(DATACENTER)
              // TRUNCATE and schema changes are slow on a busy machine; the default is 2 s.
              .withConfigLoader(
                  DriverConfigLoader.programmaticBuilder()
                      .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(60))
                      .withDuration(
                          DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT,
                          Duration.ofSeconds(60))
                      .build())
              .build();
    }
    return adminSession;
  }

  /** Empties every table of the keyspace except its schema version (fast test isolation). */
  public void truncateAll(String keyspace) {
    CqlSession s = adminSession();
    List<java.util.concurrent.CompletableFuture<?>> truncates = new ArrayList<>();
    for (var row :
        s.execute(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace)) {
      String table = row.getString("table_name");
      if (!"schema_version".equals(table)) {
        truncates.add(
            s.executeAsync("TRUNCATE " + keyspace + "." + table).toCompletableFuture());
      }
    }
    truncates.forEach(java.util.concurrent.CompletableFuture::join);
  }

  /** How long the node took to accept CQL connections. */
  public long startMillis() {
    return startMillis;
  }

  @Override
  public synchronized void close() {
    if (adminSession != null) {
      adminSession.close();
      adminSession = null;
    }
    destroy(process, dir);
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down; the hook does the same work
    }
  }

  // ---- internals ----

  private static String logTail(Path dir) {
    return ForkedProcesses.logTail(dir, List.of("stdout.log", "system.log"), 60);
  }

  private static void destroy(Process process, Path dir) {
    ForkedProcesses.destroy(process, dir);
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = CassandraTestCluster.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
