package io.parley.server.config;

import java.nio.file.Path;
import java.util.List;

/**
 * What the command line says about configuration: the config file and the flags that override it.
 * Every field may be null (not given). Immutable.
 *
 * @param configFile {@code --config}: a YAML file; without one the server runs in development mode
 * @param host {@code --host}, overrides {@code server.host}
 * @param port {@code --port}, overrides {@code server.port}
 * @param dataDir {@code --data-dir}, overrides {@code storage.data_dir}
 * @param devTls {@code --dev-tls}: true sets {@code tls.self_signed}
 * @param roles {@code --roles gateway,engine,notify}, overrides {@code server.roles}
 */
public record ConfigOverrides(
    Path configFile, String host, Integer port, Path dataDir, boolean devTls, List<String> roles) {

  public ConfigOverrides {
    roles = roles == null ? null : List.copyOf(roles);
  }

  /** Overrides without {@code --roles}. */
  public ConfigOverrides(Path configFile, String host, Integer port, Path dataDir, boolean devTls) {
    this(configFile, host, port, dataDir, devTls, null);
  }

  /** Overrides without {@code --dev-tls}. */
  public ConfigOverrides(Path configFile, String host, Integer port, Path dataDir) {
    this(configFile, host, port, dataDir, false);
  }

  /** Nothing given: development mode with defaults and environment. */
  public static ConfigOverrides none() {
    return new ConfigOverrides(null, null, null, null);
  }
}
