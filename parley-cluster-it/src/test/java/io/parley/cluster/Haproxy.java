package io.parley.cluster;

import io.parley.server.testing.ForkedProcesses;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * HAProxy (Debian package {@code haproxy}) running the configuration the repository ships,
 * {@code deploy/haproxy/haproxy.cfg}, with the addresses of this test's gateways and engine in
 * its environment. Runs in the foreground as a child process; {@link #close()} stops it.
 */
final class Haproxy implements AutoCloseable {
  private static final Path BINARY = Path.of("/usr/sbin/haproxy");

  private final Process process;
  private final int port;
  private final int statsPort;
  private final Path log;

  private Haproxy(Process process, int port, int statsPort, Path log) {
    this.process = process;
    this.port = port;
    this.statsPort = statsPort;
    this.log = log;
  }

  /** Starts HAProxy in front of two gateways and two engine nodes (admin API). */
  static Haproxy start(Path dir, int gateway1, int gateway2, int engine1, int engine2)
      throws IOException {
    if (!Files.isExecutable(BINARY)) {
      throw new IllegalStateException(
          "HAProxy is missing at " + BINARY + ": `./parley test` installs the Debian package haproxy");
    }
    Path config = ForkedProcesses.serverModule().getParent().resolve("deploy/haproxy/haproxy.cfg");
    int port = ForkedProcesses.freePort();
    int statsPort = ForkedProcesses.freePort();
    Path log = dir.resolve("haproxy.log");
    List<String> command = new ArrayList<>(List.of(BINARY.toString(), "-db", "-f", config.toString()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment()
        .putAll(
            Map.of(
                "PARLEY_LB_BIND", "127.0.0.1:" + port,
                "PARLEY_LB_STATS", "127.0.0.1:" + statsPort,
                "PARLEY_GATEWAY_1", "127.0.0.1:" + gateway1,
                "PARLEY_GATEWAY_2", "127.0.0.1:" + gateway2,
                "PARLEY_ENGINE_1", "127.0.0.1:" + engine1,
                "PARLEY_ENGINE_2", "127.0.0.1:" + engine2,
                // The tests' open-file limit is far below what the production default needs.
                "PARLEY_LB_MAXCONN", "4000"));
    Process process = pb.start();
    Haproxy h = new Haproxy(process, port, statsPort, log);
    try {
      ForkedProcesses.awaitPort(process, port, Duration.ofSeconds(30), "HAProxy");
    } catch (RuntimeException e) {
      h.close();
      throw new IllegalStateException(e.getMessage() + "\n" + h.output(), e);
    }
    return h;
  }

  /** Where clients connect. */
  int port() {
    return port;
  }

  /**
   * The status HAProxy's health checks give each server of a backend right now ({@code UP},
   * {@code DOWN}, {@code MAINT}, ...), read from the stats page's CSV export.
   */
  Map<String, String> serverStatus(String backend) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    String csv =
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort + "/;csv")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Map<String, String> status = new java.util.TreeMap<>();
    for (String line : csv.split("\n")) {
      String[] f = line.split(",", -1);
      // pxname,svname,...,status is the 18th column (index 17)
      if (f.length > 17 && f[0].equals(backend) && !f[1].equals("BACKEND") && !f[1].equals("FRONTEND")) {
        status.put(f[1], f[17]);
      }
    }
    return status;
  }

  /** Everything HAProxy logged (one line per request or tunnel). */
  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  @Override
  public void close() {
    ForkedProcesses.destroy(process, null);
  }
}
