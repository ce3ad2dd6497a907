package io.parley.server.bench;

import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.core.ProcessStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * Runs a message scenario ({@code fanout}, {@code direct}, {@code ingest}): opens and authenticates
 * the connections its {@link Shape} asks for, lets the shape create the conversations, then runs
 * measurement windows (warm-up, measure, drain, check integrity), one at a fixed load or, in step
 * mode, one per rate until the SLO is missed or anything is lost.
 */
public final class MessagingScenario {
  /** The part that differs between scenarios: who connects and who posts where. */
  public interface Shape {
    String name();

    /** Users to connect, one connection each (ids without the run prefix). */
    List<String> users();

    /**
     * Creates the conversations and registers members and streams with the traffic; {@code
     * userIds} are the connections' users (with the run's prefix), in order.
     */
    void setup(Traffic traffic, List<BenchConnection> connections, List<String> userIds)
        throws Exception;

    /** True when the SLO applies to the send→ack latency (ingest) instead of end-to-end. */
    default boolean sloOnAck() {
      return false;
    }

    /** Parameters of the shape, for the report. */
    Map<String, Object> describe();
  }

  /**
   * How hard to push.
   *
   * @param rate aggregate sends per second; 0 = closed loop with {@code window} unanswered sends per
   *     stream
   * @param window closed-loop sends in flight per stream
   * @param payloadBytes message body size (at least 8: the send timestamp)
   * @param maxInflight unanswered sends per connection (keep at or below the server's {@code
   *     limits.max_inflight_per_connection})
   * @param slo p99 latency a step must stay under
   * @param step raise the rate by {@code stepFactor} per window until a window fails
   * @param maxSteps most windows in step mode
   */
  public record Load(
      double rate,
      int window,
      int payloadBytes,
      int maxInflight,
      Duration slo,
      boolean step,
      double stepFactor,
      int maxSteps) {}

  private MessagingScenario() {}

  /** Runs the scenario; {@code onRow} sees each row as it is measured. */
  public static BenchReport run(
      BenchSettings settings, Shape shape, Load load, Consumer<Map<String, Object>> onRow)
      throws Exception {
    BenchReport report = new BenchReport();
    List<String> users = shape.users().stream().map(u -> settings.userPrefix() + u).toList();
    requireOpenFiles(users.size());
    List<String> tokens = new TokenSource(settings.server(), settings.adminKey()).tokens(users);
    Traffic traffic = new Traffic(load.payloadBytes(), load.maxInflight());
    try (BenchClients clients =
        new BenchClients(settings.webSocket(), settings.sourcesFor(users.size()), settings.threads())) {
      List<BenchConnection> connections = clients.open(tokens, traffic, nanos -> {});
      try {
        shape.setup(traffic, connections, users);
        double rate = load.rate();
        double bestPassing = -1;
        int steps = load.step() ? load.maxSteps() : 1;
        for (int i = 0; i < steps; i++) {
          Map<String, Object> row = window(settings, shape, load, traffic, connections, rate, i);
          report.add(row);
          onRow.accept(row);
          if (!Boolean.TRUE.equals(row.get("pass"))) {
            break;
          }
          bestPassing = rate;
          rate *= load.stepFactor();
        }
        if (load.step()) {
          Map<String, Object> summary = new LinkedHashMap<>();
          summary.put("scenario", shape.name() + "-step-summary");
          summary.putAll(shape.describe());
          summary.put("slo_p99_ms", (double) load.slo().toMillis());
          summary.put("highest_passing_rate", bestPassing < 0 ? 0.0 : bestPassing);
          report.add(summary);
          onRow.accept(summary);
        }
      } finally {
        BenchClients.closeAll(connections);
      }
    }
    return report;
  }

  private static Map<String, Object> window(
      BenchSettings settings,
      Shape shape,
      Load load,
      Traffic traffic,
      List<BenchConnection> connections,
      double rate,
      int step)
      throws InterruptedException {
    traffic.start(rate, load.window());
    Thread.sleep(settings.warmup().toMillis());
    long serverCpu0 = settings.serverPid() > 0 ? ProcessStats.cpuNanos(settings.serverPid()) : -1;
    long ownCpu0 = ProcessStats.ownCpuNanos();
    long t0 = System.nanoTime();
    traffic.beginWindow();
    Thread.sleep(settings.duration().toMillis());
    Traffic.Window w = traffic.endWindow();
    long elapsed = System.nanoTime() - t0;
    long ownCpu = ProcessStats.ownCpuNanos() - ownCpu0;
    long serverCpu = serverCpu0 < 0 ? -1 : ProcessStats.cpuNanos(settings.serverPid()) - serverCpu0;
    traffic.stop();
    Traffic.Integrity integrity = traffic.drain(connections, settings.drainTimeout().toMillis());
    double seconds = elapsed / 1e9;

    Map<String, Object> row = new LinkedHashMap<>();
    row.put("scenario", shape.name());
    if (load.step()) {
      row.put("step", (long) step + 1);
    }
    row.putAll(shape.describe());
    row.put("connections", (long) connections.size());
    row.put("open_connections", connections.stream().filter(BenchConnection::isOpen).count());
    row.put("streams", (long) traffic.streamCount());
    row.put("target_rate", rate > 0 ? rate : 0.0);
    if (rate <= 0) {
      row.put("window_per_stream", (long) load.window());
    }
    row.put("payload_bytes", (long) load.payloadBytes());
    row.put("measured_s", seconds);
    row.put("sent_per_s", w.sent() / seconds);
    row.put("acked_per_s", w.acked() / seconds);
    row.put("delivered_per_s", w.delivered() / seconds);
    putLatency(row, "e2e", w.endToEnd());
    putLatency(row, "ack", w.ack());
    row.put("lost", integrity.lost());
    row.put("duplicated", integrity.duplicates());
    row.put("out_of_order", integrity.outOfOrder());
    row.put("send_errors", w.sendErrors());
    if (w.firstError() != null) {
      row.put("first_error", w.firstError());
    }
    row.put("generator_cpu_cores", ownCpu / (double) elapsed);
    if (serverCpu >= 0) {
      row.put("server_cpu_cores", serverCpu / (double) elapsed);
    }
    Histogram slo = shape.sloOnAck() ? w.ack() : w.endToEnd();
    boolean withinSlo =
        slo.getTotalCount() > 0
            && slo.getValueAtPercentile(99) <= TimeUnit.MILLISECONDS.toMicros(load.slo().toMillis());
    row.put("p99_within_slo", withinSlo);
    boolean progress = shape.sloOnAck() ? w.acked() > 0 : w.delivered() > 0;
    boolean pass =
        integrity.clean()
            && w.sendErrors() == 0
            && progress
            && (!load.step() || withinSlo);
    row.put("pass", pass);
    return row;
  }

  static void putLatency(Map<String, Object> row, String name, Histogram h) {
    if (h.getTotalCount() == 0) {
      return;
    }
    row.put(name + "_p50_ms", h.getValueAtPercentile(50) / 1000.0);
    row.put(name + "_p90_ms", h.getValueAtPercentile(90) / 1000.0);
    row.put(name + "_p99_ms", h.getValueAtPercentile(99) / 1000.0);
    row.put(name + "_p99.9_ms", h.getValueAtPercentile(99.9) / 1000.0);
    row.put(name + "_max_ms", h.getMaxValue() / 1000.0);
  }

  /** Fails early, with the fix, when the process may not open enough sockets. */
  static void requireOpenFiles(int connections) {
    long limit = ProcessStats.openFileLimit();
    if (limit > 0 && limit < connections + 64L) {
      throw new IllegalArgumentException(
          connections
              + " connections need about "
              + (connections + 64)
              + " open files but this process may open "
              + limit
              + "; raise the limit with `ulimit -n <n>` (up to the hard limit, `ulimit -Hn`)");
    }
  }

  /** Sends a set-up request and returns the answer, failing on an error answer. */
  static ServerFrame call(BenchConnection c, ClientFrame.Builder request) throws Exception {
    ServerFrame answer = c.request(request).get(30, TimeUnit.SECONDS);
    if (answer.hasError()) {
      throw new IllegalStateException(
          "set-up request refused: " + answer.getError().getCode() + " " + answer.getError().getMessage());
    }
    return answer;
  }

  /** Ids {@code prefix0 .. prefix(n-1)}. */
  static List<String> ids(String prefix, int n) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(prefix + i);
    }
    return out;
  }
}
