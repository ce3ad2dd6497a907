package io.parley.server.cli;

import io.parley.server.bench.BenchCommand;
import io.parley.server.config.ConfigException;
import io.parley.server.config.Durations;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code parley} command line (the shaded jar's main class): {@code server}, {@code token},
 * {@code config init}, {@code version}, {@code bench}, {@code help}.
 *
 * <p>Exit status: 0 success; 2 usage or configuration error (a clear message, no stack trace); 1 any
 * other failure.
 */
@Command(
    name = "parley",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "Parley: a real-time messaging server.",
    subcommands = CommandLine.HelpCommand.class,
    footer = {
      "",
      "Quick start:",
      "  parley server               development mode, demo at http://localhost:8080/",
      "  parley token --user alice   mint a development token",
      "  parley config init > parley.yaml",
      "  parley server --config parley.yaml",
      "  parley bench fanout         load generator (see docs/benchmarks.md)"
    })
public final class ParleyCli implements Callable<Integer> {
  /** Status of a usage or configuration error. */
  public static final int EXIT_USAGE = 2;

  /** Status of any other failure. */
  public static final int EXIT_FAILURE = 1;

  @Spec CommandSpec spec;

  private ParleyCli() {}

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int status = run(args, new CliEnvironment(System.getenv(), new ParleyServerRunner()), out, err);
    out.flush();
    err.flush();
    System.exit(status);
  }

  /** Parses and runs {@code args}; returns the exit status. */
  static int run(String[] args, CliEnvironment environment, PrintWriter out, PrintWriter err) {
    return commandLine(environment, out, err).execute(args);
  }

  static CommandLine commandLine(CliEnvironment environment, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new ParleyCli());
    cli.addSubcommand("server", new ServerCommand(environment));
    cli.addSubcommand("token", new TokenCommand(environment));
    cli.addSubcommand("config", new ConfigCommand());
    cli.addSubcommand("version", new VersionCommand());
    cli.addSubcommand("bench", new BenchCommand());
    cli.registerConverter(Duration.class, Durations::parse);
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          PrintWriter w = commandLine.getErr();
          if (e instanceof ConfigException || e instanceof IllegalArgumentException) {
            w.println("parley: " + e.getMessage());
            w.flush();
            return EXIT_USAGE;
          }
          if (e instanceof UnsupportedOperationException
              || e instanceof IllegalStateException
              || e instanceof UncheckedIOException) {
            w.println("parley: " + e.getMessage());
            w.flush();
            return EXIT_FAILURE;
          }
          w.println("parley: unexpected error: " + e);
          e.printStackTrace(w);
          w.flush();
          return EXIT_FAILURE;
        });
    return cli;
  }

  /** No command given: show the help and fail as a usage error. */
  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return EXIT_USAGE;
  }
}
