package io.parley.server.cli;

import io.parley.server.auth.TokenMinter;
import io.parley.server.config.ConfigException;
import io.parley.server.config.ConfigLoader;
import io.parley.server.config.ConfigOverrides;
import io.parley.server.config.ParleyConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code parley token --user alice}: prints an HS256 token for a user. In development mode it signs
 * with the key the server generated in the data directory; with {@code --config} it signs with the
 * configured {@code auth.hmac_secret}. Prints only the token, so that {@code
 * TOKEN=$(./parley token --user alice)} works.
 */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    description = {
      "Mint a user token (HS256) and print it.",
      "Development mode: signs with the key in the data directory (start './parley server' once"
          + " first). With --config: signs with auth.hmac_secret."
    })
final class TokenCommand implements Callable<Integer> {
  @Option(names = "--user", required = true, paramLabel = "USER_ID", description = "the token's subject")
  String user;

  @Option(
      names = "--ttl",
      paramLabel = "DURATION",
      description = "lifetime, e.g. 1h, 24h, 7d (default: auth.dev_token_ttl, 24h)")
  Duration ttl;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "data directory (default ./parley-data)")
  Path dataDir;

  @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file")
  Path config;

  @Spec CommandSpec spec;

  private final CliEnvironment environment;

  TokenCommand(CliEnvironment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws ConfigException {
    ParleyConfig loaded =
        new ConfigLoader(environment.env())
            .load(
                new ConfigOverrides(config, null, null, dataDir),
                ConfigLoader.DevKeyPolicy.REQUIRE_EXISTING);
    if (loaded.auth().hmacSecret() == null) {
      throw new ConfigException(
          "auth.hmac_secret is not set: ./parley token mints HS256 tokens only; with public keys"
              + " or JWKS, tokens come from your identity provider");
    }
    Duration lifetime = ttl == null ? loaded.auth().devTokenTtl() : ttl;
    spec.commandLine().getOut().println(TokenMinter.fromConfig(loaded.auth()).mint(user, lifetime).token());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
