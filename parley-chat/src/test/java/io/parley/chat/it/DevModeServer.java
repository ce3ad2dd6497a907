package io.parley.chat.it;

import io.parley.server.ParleyServer;
import io.parley.server.config.ConfigException;
import io.parley.server.config.ConfigLoader;
import io.parley.server.config.ConfigOverrides;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The real Parley server ({@link ParleyServer}, the production composition root) in-process in
 * <b>development mode</b> — no config file, so it generates its keys in a temporary data directory
 * and serves {@code POST /v1/dev/token} — on a free loopback port, exactly what {@code ./parley
 * server} runs. For the terminal chat's integration tests.
 */
final class DevModeServer implements AutoCloseable {
  private final Path dataDir;
  private final ParleyServer server;

  DevModeServer() {
    try {
      dataDir = Files.createTempDirectory("parley-chat-it-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> env =
        Map.of(
            "PARLEY_SERVER_HOST", "127.0.0.1",
            "PARLEY_SERVER_PORT", "0",
            "PARLEY_SERVER_SHUTDOWN_GRACE", "1s");
    try {
      server =
          ParleyServer.start(
              new ConfigLoader(env).load(new ConfigOverrides(null, null, null, dataDir)));
    } catch (ConfigException e) {
      throw new IllegalStateException("test configuration rejected: " + e.getMessage(), e);
    }
  }

  /** The server's HTTP base URL, as given to {@code parley chat --server}. */
  URI httpBase() {
    return URI.create("http://127.0.0.1:" + server.port());
  }

  @Override
  public void close() {
    server.close();
    try (Stream<Path> files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory; best effort
    }
  }
}
