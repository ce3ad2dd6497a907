package io.parley.server.bench;

import java.net.URI;
import java.time.Duration;

/**
 * What every scenario is given: where the server is, how to get tokens, how long to warm up and
 * measure, and the generator's own resources.
 *
 * @param server the server's base URL ({@code http://host:port}); the WebSocket is {@code /v1/ws}
 * @param adminKey admin API key for users and tokens, or null for the development endpoint
 * @param userPrefix prefix of the generated user ids (a fresh one per run keeps runs apart)
 * @param sourceAddresses 127.0.0.x source addresses to connect from (0 = as many as needed)
 * @param threads generator event loop threads
 * @param warmup traffic before the measurement window
 * @param duration the measurement window
 * @param serverPid pid of a local server for its memory and CPU, or 0
 * @param drainTimeout how long to wait at the end of a window for stragglers before counting loss
 */
public record BenchSettings(
    URI server,
    String adminKey,
    String userPrefix,
    int sourceAddresses,
    int threads,
    Duration warmup,
    Duration duration,
    long serverPid,
    Duration drainTimeout) {

  URI webSocket() {
    String scheme = "https".equals(server.getScheme()) ? "wss" : "ws";
    return URI.create(scheme + "://" + server.getHost() + ":" + port() + "/v1/ws");
  }

  int port() {
    return server.getPort() > 0 ? server.getPort() : ("https".equals(server.getScheme()) ? 443 : 80);
  }

  /** The source addresses to use for {@code connections} connections. */
  int sourcesFor(int connections) {
    return sourceAddresses > 0 ? sourceAddresses : BenchClients.sourcesFor(connections);
  }
}
