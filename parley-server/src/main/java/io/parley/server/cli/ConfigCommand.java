package io.parley.server.cli;

import io.parley.server.config.ConfigTemplate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code parley config init}: configuration helpers. */
@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    description = "Configuration helpers.",
    subcommands = ConfigCommand.Init.class)
final class ConfigCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }

  /** Prints the commented default configuration. */
  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description = {
        "Print the commented default configuration (YAML) to stdout:",
        "  ./parley config init > parley.yaml"
      })
  static final class Init implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().getOut().print(ConfigTemplate.render());
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
