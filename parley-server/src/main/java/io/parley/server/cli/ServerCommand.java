package io.parley.server.cli;

import io.parley.server.config.ConfigException;
import io.parley.server.config.ConfigLoader;
import io.parley.server.config.ConfigOverrides;
import io.parley.server.config.ParleyConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code parley server}: loads the configuration and runs the server until it is stopped. */
@Command(
    name = "server",
    mixinStandardHelpOptions = true,
    description = {
      "Run the Parley server.",
      "Without --config it starts in DEVELOPMENT MODE: data in ./parley-data, generated keys,"
          + " demo at http://localhost:8080/."
    })
final class ServerCommand implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file (production mode)")
  Path config;

  @Option(names = "--port", paramLabel = "PORT", description = "listen port (overrides server.port)")
  Integer port;

  @Option(names = "--host", paramLabel = "ADDRESS", description = "listen address (overrides server.host)")
  String host;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "data directory (overrides storage.data_dir)")
  Path dataDir;

  @Option(
      names = "--dev-tls",
      description =
          "serve wss:// and https:// with a self-signed development certificate kept in the data"
              + " directory (sets tls.self_signed; its SHA-256 fingerprint is printed)")
  boolean devTls;

  @Option(
      names = "--roles",
      split = ",",
      paramLabel = "ROLE",
      description =
          "roles of this process, comma-separated: gateway, engine, notify (overrides"
              + " server.roles; default all three)")
  List<String> roles;

  @Spec CommandSpec spec;

  private final CliEnvironment environment;

  ServerCommand(CliEnvironment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws ConfigException {
    ParleyConfig loaded =
        new ConfigLoader(environment.env()).load(new ConfigOverrides(config, host, port, dataDir, devTls, roles));
    return environment.serverRunner().run(loaded, spec.commandLine().getOut());
  }
}
