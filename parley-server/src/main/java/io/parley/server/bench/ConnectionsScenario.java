package io.parley.server.bench;

import io.parley.server.core.ProcessStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * {@code connections}: opens {@code count} authenticated connections that then stay idle for the
 * measurement window. Reports the connect time (TCP connect to {@code Authenticated}), the connect
 * rate, how many connections survived the window, and, for a local server given by pid, its
 * resident memory before and after (the difference per connection is the cost of an idle one):
 * from {@code /proc} for a local server given by pid, else from its {@code /metrics}.
 */
public final class ConnectionsScenario {
  private ConnectionsScenario() {}

  /** Runs the scenario; {@code onRow} sees the result row. */
  public static BenchReport run(BenchSettings settings, int count, Consumer<Map<String, Object>> onRow)
      throws Exception {
    if (count < 1) {
      throw new IllegalArgumentException("--count must be at least 1");
    }
    MessagingScenario.requireOpenFiles(count);
    List<String> users = MessagingScenario.ids(settings.userPrefix() + "c", count);
    List<String> tokens = new TokenSource(settings.server(), settings.adminKey()).tokens(users);
    Histogram connect = new ConcurrentHistogram(3);
    ServerProbe server = new ServerProbe(settings);
    BenchReport report = new BenchReport();
    try (BenchClients clients =
        new BenchClients(settings.webSocket(), settings.sourcesFor(count), settings.threads())) {
      long rssBefore = server.rssBytes();
      long t0 = System.nanoTime();
      List<BenchConnection> connections = new ArrayList<>();
      Traffic idle = new Traffic(Long.BYTES, 1);
      try {
        connections.addAll(clients.open(tokens, idle, nanos -> connect.recordValue(nanos / 1000)));
        long openNanos = System.nanoTime() - t0;
        Thread.sleep(settings.warmup().toMillis());
        long rssAfter = server.rssBytes();
        long serverCpu0 = server.cpuNanos();
        long ownCpu0 = ProcessStats.ownCpuNanos();
        long w0 = System.nanoTime();
        Thread.sleep(settings.duration().toMillis());
        long window = System.nanoTime() - w0;
        long open = connections.stream().filter(BenchConnection::isOpen).count();
        long rssEnd = server.rssBytes();

        Map<String, Object> row = new LinkedHashMap<>();
        row.put("scenario", "connections");
        row.put("connections", (long) count);
        row.put("source_addresses", (long) Math.max(1, clients.sourceAddresses().size()));
        row.put("open_after_window", open);
        row.put("connect_total_s", openNanos / 1e9);
        row.put("connects_per_s", count / (openNanos / 1e9));
        row.put("connect_p50_ms", connect.getValueAtPercentile(50) / 1000.0);
        row.put("connect_p99_ms", connect.getValueAtPercentile(99) / 1000.0);
        row.put("connect_max_ms", connect.getMaxValue() / 1000.0);
        row.put("idle_window_s", window / 1e9);
        if (rssBefore > 0 && rssAfter > 0) {
          row.put("server_rss_before_mib", rssBefore / 1048576.0);
          row.put("server_rss_after_mib", rssAfter / 1048576.0);
          row.put("server_rss_end_mib", rssEnd / 1048576.0);
          row.put("server_rss_per_connection_kib", (rssAfter - rssBefore) / 1024.0 / count);
        }
        if (serverCpu0 >= 0) {
          row.put("server_cpu_idle_cores", (server.cpuNanos() - serverCpu0) / (double) window);
        }
        row.put("generator_cpu_idle_cores", (ProcessStats.ownCpuNanos() - ownCpu0) / (double) window);
        row.put("pass", open == count);
        report.add(row);
        onRow.accept(row);
      } finally {
        BenchClients.closeAll(connections);
      }
    }
    return report;
  }
}
