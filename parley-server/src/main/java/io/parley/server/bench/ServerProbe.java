package io.parley.server.bench;

import io.parley.server.core.ProcessStats;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The server's resident memory and CPU time as the generator sees them: from {@code /proc/<pid>}
 * when the server is local and its pid was given, otherwise its resident memory from the
 * Prometheus gauge {@code process_resident_memory_bytes} at {@code /metrics} (CPU time is then
 * unknown).
 */
final class ServerProbe {
  private static final String RSS_GAUGE = "process_resident_memory_bytes";

  private final long pid;
  private final URI metrics;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  ServerProbe(BenchSettings settings) {
    this.pid = settings.serverPid();
    this.metrics = settings.server().resolve("/metrics");
  }

  /** Resident memory in bytes, or -1 if unknown. */
  long rssBytes() {
    if (pid > 0) {
      return ProcessStats.rssBytes(pid);
    }
    try {
      String body =
          http.send(
                  HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).GET().build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      for (String line : body.split("\n")) {
        if (line.startsWith(RSS_GAUGE + " ") || line.startsWith(RSS_GAUGE + "{")) {
          return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return -1;
    } catch (java.io.IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** CPU time in nanoseconds, or -1 if unknown (remote server). */
  long cpuNanos() {
    return pid > 0 ? ProcessStats.cpuNanos(pid) : -1;
  }
}
