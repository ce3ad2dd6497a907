package io.parley.server.config;

import java.nio.file.Path;

/**
 * What the command line says about configuration: the config file and the flags that override it.
 * Every field may be null (not given). Immutable.
 *
 * @param configFile {@code --config}: a YAML file; without one the server runs in development mode
 * @param host {@code --host}, overrides {@code server.host}
 * @param port {@code --port}, overrides {@code server.port}
 * @param dataDir {@code --data-dir}, overrides {@code storage.data_dir}
 */
public record ConfigOverrides(Path configFile, String host, Integer port, Path dataDir) {
  /** Nothing given: development mode with defaults and environment. */
  public static ConfigOverrides none() {
    return new ConfigOverrides(null, null, null, null);
  }
}
