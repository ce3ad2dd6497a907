package io.parley.server.testing;

import io.parley.server.ParleyServer;
import io.parley.server.config.ConfigLoader;
import io.parley.server.config.ConfigOverrides;
import io.parley.server.config.ParleyConfig;
import io.parley.server.store.rocksdb.RocksDbStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The whole Parley server in-process on a free loopback port with a temporary data directory,
 * configured like production (fsync on, HS256 secret and admin key from the environment map).
 * Tokens are minted with the same secret as {@link ForkedServer}. Not thread-safe to start/stop;
 * the server itself is.
 */
public final class TestServer implements AutoCloseable {
  private final Path dataDir;
  private final boolean ownsDir;
  private final Map<String, String> env;
  private final Function<ParleyConfig.Storage, RocksDbStore> storeOpener;
  private final boolean devMode;
  private ParleyServer server;

  private TestServer(Path dataDir, boolean ownsDir, Map<String, String> env, boolean devMode) {
    this(dataDir, ownsDir, env, devMode, null);
  }

  private TestServer(
      Path dataDir,
      boolean ownsDir,
      Map<String, String> env,
      boolean devMode,
      Function<ParleyConfig.Storage, RocksDbStore> storeOpener) {
    this.dataDir = dataDir;
    this.ownsDir = ownsDir;
    this.env = env;
    this.devMode = devMode;
    this.storeOpener = storeOpener;
  }

  /** Starts a server on a new temporary data directory. */
  public static TestServer start() {
    return start(Map.of());
  }

  /** Starts a server with extra environment-style configuration (e.g. PARLEY_LIMITS_...). */
  public static TestServer start(Map<String, String> extraEnv) {
    try {
      TestServer s =
          new TestServer(Files.createTempDirectory("parley-test-"), true, env(extraEnv), false);
      s.restart();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts a server in development mode (no config file), as {@code ./parley server} runs it: the
   * demo web app at {@code /} and the dev token endpoint are on. Keys still come from the
   * environment map, so {@link #token} works too.
   */
  public static TestServer startDevMode() {
    try {
      TestServer s =
          new TestServer(Files.createTempDirectory("parley-test-"), true, env(Map.of()), true);
      s.restart();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts a server whose RocksDB store is opened by {@code storeOpener} (e.g. a real store with
   * injected commit failures, see {@code EngineTestStores}).
   */
  public static TestServer start(
      Map<String, String> extraEnv, Function<ParleyConfig.Storage, RocksDbStore> storeOpener) {
    try {
      TestServer s =
          new TestServer(
              Files.createTempDirectory("parley-test-"), true, env(extraEnv), false, storeOpener);
      s.restart();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a server on the given data directory (kept after close). */
  public static TestServer startOn(Path dataDir) {
    TestServer s = new TestServer(dataDir, false, env(Map.of()), false);
    s.restart();
    return s;
  }

  private static Map<String, String> env(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_AUTH_HMAC_SECRET", Base64.getEncoder().encodeToString(ForkedServer.SECRET));
    env.put("PARLEY_ADMIN_API_KEY", ForkedServer.ADMIN_KEY);
    env.put("PARLEY_SERVER_HOST", "127.0.0.1");
    env.put("PARLEY_SERVER_PORT", "0");
    env.put("PARLEY_SERVER_SHUTDOWN_GRACE", "2s");
    env.putAll(extra);
    return env;
  }

  /** The configuration the server runs with. */
  public ParleyConfig config() {
    try {
      if (devMode) {
        return new ConfigLoader(env).load(new ConfigOverrides(null, null, null, dataDir));
      }
      Path yaml = dataDir.resolveSibling(dataDir.getFileName() + ".yaml");
      Files.writeString(yaml, "storage:\n  data_dir: " + dataDir + "\n");
      return new ConfigLoader(env).load(new ConfigOverrides(yaml, null, null, dataDir));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (io.parley.server.config.ConfigException e) {
      throw new IllegalStateException("test configuration rejected: " + e.getMessage(), e);
    }
  }

  /** Stops the server if running, then starts it again on the same data directory. */
  public void restart() {
    if (server != null) {
      server.close();
    }
    server =
        storeOpener == null
            ? ParleyServer.start(config())
            : ParleyServer.start(config(), storeOpener);
  }

  /** Stops the server (graceful drain) without deleting its data. */
  public void stop() {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  public int port() {
    return server.port();
  }

  /** The port of the separate admin listener, or -1 when admin.port is not configured. */
  public int adminPort() {
    return server.adminPort();
  }

  public Path dataDir() {
    return dataDir;
  }

  /** A valid client token for the user. */
  public String token(String userId) {
    return ForkedServer.token(userId);
  }

  public static String adminKey() {
    return ForkedServer.ADMIN_KEY;
  }

  @Override
  public void close() {
    stop();
    if (ownsDir) {
      try (Stream<Path> files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // temporary directory; best effort
      }
    }
  }
}
