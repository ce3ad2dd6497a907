package io.parley.server.cli;

import java.util.Map;
import java.util.Objects;

/**
 * What the commands take from the outside world, injected so that tests run them in-process.
 *
 * @param env environment variables (the {@code PARLEY_*} configuration overrides)
 * @param serverRunner starts and runs the server for the {@code server} command
 */
record CliEnvironment(Map<String, String> env, ServerRunner serverRunner) {
  CliEnvironment {
    env = Map.copyOf(Objects.requireNonNull(env, "env"));
    Objects.requireNonNull(serverRunner, "serverRunner");
  }
}
