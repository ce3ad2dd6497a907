package io.parley.server.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.server.testing.TestServer;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Smoke test of {@code parley bench}: every scenario runs for about two seconds against an
 * in-process server (fsync and auth on) and must deliver something with nothing lost, duplicated
 * or reordered. Asserts correctness and progress only, never speed.
 */
class BenchScenariosIT {
  private static TestServer server;

  @BeforeAll
  static void start() {
    // Load generation floods on purpose: per-user rate limits would refuse it (their own tests are
    // in limits/).
    server = TestServer.start(java.util.Map.of("PARLEY_RATE_LIMITS_ENABLED", "false"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static BenchSettings settings(String prefix) {
    return settings(prefix, ProcessHandle.current().pid());
  }

  /** With {@code serverPid} 0 the generator reads the server's memory from its /metrics. */
  private static BenchSettings settings(String prefix, long serverPid) {
    return new BenchSettings(
        URI.create("http://127.0.0.1:" + server.port()),
        TestServer.adminKey(),
        prefix,
        2,
        1,
        Duration.ofMillis(300),
        Duration.ofMillis(1500),
        serverPid,
        Duration.ofSeconds(10));
  }

  private static MessagingScenario.Load paced(double rate) {
    return new MessagingScenario.Load(rate, 8, 100, 64, Duration.ofSeconds(5), false, 2, 1);
  }

  private static void assertClean(Map<String, Object> row) {
    assertThat(row.get("lost")).as("lost in %s", row).isEqualTo(0L);
    assertThat(row.get("duplicated")).as("duplicated in %s", row).isEqualTo(0L);
    assertThat(row.get("out_of_order")).as("out of order in %s", row).isEqualTo(0L);
    assertThat(row.get("send_errors")).as("send errors in %s", row).isEqualTo(0L);
    assertThat(row.get("pass")).as("pass in %s", row).isEqualTo(true);
  }

  @Test
  void fanoutDeliversEveryMessageToEveryMemberInOrder() throws Exception {
    BenchReport report =
        MessagingScenario.run(settings("itf-"), new FanoutShape(3, 5, 2), paced(300), row -> {});
    Map<String, Object> row = report.last();
    assertClean(row);
    assertThat((double) row.get("delivered_per_s")).isPositive();
    assertThat(row).containsKeys("e2e_p50_ms", "e2e_p99_ms", "e2e_p99.9_ms", "e2e_max_ms", "server_cpu_cores");
  }

  @Test
  void directMeasuresAckAndReceiveLatency() throws Exception {
    BenchReport report = MessagingScenario.run(settings("itd-"), new DirectShape(3), paced(200), row -> {});
    Map<String, Object> row = report.last();
    assertClean(row);
    assertThat((double) row.get("acked_per_s")).isPositive();
    assertThat(row).containsKeys("ack_p99_ms", "e2e_p99_ms");
  }

  @Test
  void ingestClosedLoopAcknowledgesDurably() throws Exception {
    BenchReport report =
        MessagingScenario.run(
            settings("iti-"),
            new IngestShape(2),
            new MessagingScenario.Load(0, 4, 100, 64, Duration.ofSeconds(5), false, 2, 1),
            row -> {});
    Map<String, Object> row = report.last();
    assertClean(row);
    assertThat((double) row.get("acked_per_s")).isPositive();
  }

  @Test
  void stepModeReportsTheHighestPassingRate() throws Exception {
    BenchReport report =
        MessagingScenario.run(
            settings("its-"),
            new IngestShape(1),
            new MessagingScenario.Load(50, 4, 100, 64, Duration.ofSeconds(5), true, 2, 2),
            row -> {});
    assertThat(report.rows()).hasSize(3);
    report.rows().subList(0, 2).forEach(BenchScenariosIT::assertClean);
    assertThat(report.last()).containsEntry("highest_passing_rate", 100.0);
  }

  @Test
  void connectionsStayOpenAndReportServerMemoryFromMetrics() throws Exception {
    BenchReport report = ConnectionsScenario.run(settings("itc-", 0), 20, row -> {});
    Map<String, Object> row = report.last();
    assertThat(row).containsEntry("open_after_window", 20L).containsEntry("pass", true);
    assertThat(row).containsKeys("connect_p99_ms", "server_rss_per_connection_kib");
  }
}
