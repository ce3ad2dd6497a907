package io.parley.client.it;

import io.parley.server.ParleyServer;
import io.parley.server.auth.TokenMinter;
import io.parley.server.config.ConfigException;
import io.parley.server.config.ConfigLoader;
import io.parley.server.config.ConfigOverrides;
import io.parley.server.config.ParleyConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The real Parley server ({@link ParleyServer}, the production composition root) in-process on a
 * free loopback port with a temporary data directory, configured like production (fsync on, HS256
 * secret), for the SDK's integration tests. Mints client tokens with the same secret. Not
 * thread-safe to start/stop; the server itself is.
 */
final class InProcessParleyServer implements AutoCloseable {
  private static final byte[] SECRET =
      "parley-client-it-secret-0123456789abcdefgh".getBytes(StandardCharsets.UTF_8);
  private static final String ADMIN_KEY = "parley-client-it-admin-key-0123456789abcdef";

  private final Path dataDir;
  private final Map<String, String> env = new HashMap<>();
  private final TokenMinter minter = new TokenMinter(SECRET, null, null, Clock.systemUTC());
  private ParleyServer server;

  InProcessParleyServer(Map<String, String> extraEnv) {
    try {
      dataDir = Files.createTempDirectory("parley-client-it-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    env.put("PARLEY_AUTH_HMAC_SECRET", Base64.getEncoder().encodeToString(SECRET));
    env.put("PARLEY_ADMIN_API_KEY", ADMIN_KEY);
    env.put("PARLEY_SERVER_HOST", "127.0.0.1");
    env.put("PARLEY_SERVER_PORT", "0");
    env.put("PARLEY_SERVER_SHUTDOWN_GRACE", "1s");
    env.putAll(extraEnv);
    start();
  }

  /** Starts the server (again) on the same data directory; the port changes. */
  void start() {
    ParleyConfig config;
    try {
      Path yaml = dataDir.resolveSibling(dataDir.getFileName() + ".yaml");
      Files.writeString(yaml, "storage:\n  data_dir: " + dataDir + "\n");
      config = new ConfigLoader(env).load(new ConfigOverrides(yaml, null, null, dataDir));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (ConfigException e) {
      throw new IllegalStateException("test configuration rejected: " + e.getMessage(), e);
    }
    server = ParleyServer.start(config);
  }

  /** Drains and stops the server, keeping its data. */
  void stop() {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  URI uri() {
    return URI.create("ws://127.0.0.1:" + server.port() + "/v1/ws");
  }

  String token(String userId, Duration ttl) {
    return minter.mint(userId, ttl).token();
  }

  @Override
  public void close() {
    stop();
    try (Stream<Path> files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory; best effort
    }
    dataDir.resolveSibling(dataDir.getFileName() + ".yaml").toFile().delete();
  }
}
