package io.parley.server.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A real Apache Kafka broker for integration tests: one combined KRaft broker and controller,
 * forked as its own process (the broker's Scala and server libraries must stay off the test
 * classpath) on free loopback ports and a temporary log directory. Started once per test run
 * through {@link KafkaExtension}; destroyed when the run ends or, failing that, by a shutdown hook.
 * A broker that dies or does not answer an admin request within {@link #READY_TIMEOUT} fails the
 * start with the tail of its log.
 *
 * <p>Its classpath comes from {@code src/test/kafka-runtime/pom.xml} ({@code kafka_2.13}),
 * resolved once into {@code target/kafka-runtime.classpath}. It runs on the JDK running the tests.
 *
 * <p>Thread-safe.
 */
public final class KafkaTestBroker implements AutoCloseable {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

  private final Process process;
  private final Path dir;
  private final int port;
  private final Thread shutdownHook;
  private final long startMillis;

  private KafkaTestBroker(Process process, Path dir, int port, Thread hook, long ms) {
    this.process = process;
    this.dir = dir;
    this.port = port;
    this.shutdownHook = hook;
    this.startMillis = ms;
  }

  /** Formats a fresh log directory, forks the broker and waits until it serves admin requests. */
  public static KafkaTestBroker start() {
    long started = System.nanoTime();
    Path dir;
    try {
      dir = Files.createTempDirectory("parley-kafka-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Process process = null;
    Thread hook = null;
    try {
      String classpath = ForkedProcesses.classpath("kafka");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      int port = ForkedProcesses.freePort();
      int controllerPort = ForkedProcesses.freePort();
      Path props = dir.resolve("server.properties");
      Files.writeString(props, serverProperties(dir, port, controllerPort));
      Path log4j = dir.resolve("log4j2.properties");
      Files.writeString(
          log4j,
          "appender.f.type=File\nappender.f.name=F\nappender.f.fileName="
              + dir.resolve("server.log")
              + "\nappender.f.layout.type=PatternLayout\n"
              + "appender.f.layout.pattern=%d %p [%t] %c{1} %m%n\n"
              + "rootLogger.level=INFO\nrootLogger.appenderRef.f.ref=F\n");
      List<String> jvm =
          List.of(
              java,
              "-Xms64m",
              "-Xmx256m",
              "-XX:+UseSerialGC",
              "-XX:TieredStopAtLevel=1",
              "-XX:+ExitOnOutOfMemoryError",
              "-Dlog4j2.configurationFile=" + log4j,
              "-cp",
              classpath);
      List<String> format = new ArrayList<>(jvm);
      format.addAll(
          List.of(
              "kafka.tools.StorageTool",
              "format",
              "-t",
              UUID.randomUUID().toString().replace("-", "").substring(0, 22),
              "-c",
              props.toString(),
              "--standalone"));
      Process formatter =
          new ProcessBuilder(format)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("format.log").toFile())
              .start();
      if (!formatter.waitFor(60, TimeUnit.SECONDS) || formatter.exitValue() != 0) {
        formatter.destroyForcibly();
        throw new IllegalStateException("formatting the Kafka log directory failed");
      }
      List<String> run = new ArrayList<>(jvm);
      run.addAll(List.of("kafka.Kafka", props.toString()));
      process =
          new ProcessBuilder(run)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("stdout.log").toFile())
              .start();
      Process forked = process;
      hook = new Thread(() -> ForkedProcesses.destroy(forked, dir), "kafka-test-cleanup");
      Runtime.getRuntime().addShutdownHook(hook);
      ForkedProcesses.awaitPort(process, port, READY_TIMEOUT, "Kafka");
      awaitAdmin(process, "127.0.0.1:" + port);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      System.out.printf("Kafka test broker ready on 127.0.0.1:%d after %d ms%n", port, ms);
      return new KafkaTestBroker(process, dir, port, hook, ms);
    } catch (IOException | RuntimeException | InterruptedException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (process != null) {
        ForkedProcesses.destroy(process, null);
      }
      String log =
          ForkedProcesses.logTail(dir, List.of("format.log", "stdout.log", "server.log"), 60);
      if (hook != null) {
        Runtime.getRuntime().removeShutdownHook(hook);
      }
      ForkedProcesses.deleteTree(dir);
      throw new IllegalStateException(
          "cannot start the Kafka test broker: " + e.getMessage() + "\n--- broker log ---\n" + log,
          e);
    }
  }

  private static String serverProperties(Path dir, int port, int controllerPort) {
    Properties p = new Properties();
    p.putAll(
        Map.ofEntries(
            Map.entry("process.roles", "broker,controller"),
            Map.entry("node.id", "1"),
            Map.entry("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort),
            Map.entry(
                "listeners",
                "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort),
            Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port),
            Map.entry("controller.listener.names", "CONTROLLER"),
            Map.entry("inter.broker.listener.name", "PLAINTEXT"),
            Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
            Map.entry("log.dirs", dir.resolve("logs").toString()),
            Map.entry("num.partitions", "1"),
            Map.entry("offsets.topic.replication.factor", "1"),
            Map.entry("offsets.topic.num.partitions", "4"),
            Map.entry("transaction.state.log.replication.factor", "1"),
            Map.entry("transaction.state.log.min.isr", "1"),
            Map.entry("transaction.state.log.num.partitions", "4"),
            Map.entry("share.coordinator.state.topic.replication.factor", "1"),
            Map.entry("share.coordinator.state.topic.min.isr", "1"),
            Map.entry("group.initial.rebalance.delay.ms", "0"),
            // The default 128 MiB dedupe buffer does not fit the small test heap.
            Map.entry("log.cleaner.dedupe.buffer.size", "2097152"),
            Map.entry("auto.create.topics.enable", "false")));
    StringBuilder sb = new StringBuilder();
    p.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
    return sb.toString();
  }

  private static void awaitAdmin(Process process, String bootstrap) throws InterruptedException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("Kafka exited with code " + process.exitValue());
      }
      try (Admin admin =
          Admin.create(
              Map.of(
                  AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                  AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000,
                  AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000))) {
        if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
          return;
        }
      } catch (java.util.concurrent.ExecutionException
          | java.util.concurrent.TimeoutException
          | RuntimeException e) {
        last = new IllegalStateException(e.toString(), e);
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("Kafka did not answer admin requests within " + READY_TIMEOUT, last);
  }

  /** The bootstrap address, {@code 127.0.0.1:<port>}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** How long the broker took to serve admin requests. */
  public long startMillis() {
    return startMillis;
  }

  /** True while the broker process runs. */
  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    ForkedProcesses.destroy(process, dir);
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down; the hook does the same work
    }
  }
}
