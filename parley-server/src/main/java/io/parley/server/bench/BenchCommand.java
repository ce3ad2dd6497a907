package io.parley.server.bench;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import io.parley.server.bench.peer.PeerDialect;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code parley bench}: the load generator. Each scenario prints a human table per measurement
 * window and, with {@code --jsonl}, one JSON line per window. Exit status 0 when the run passed (no
 * loss, duplicates or reordering; in step mode: at least one step passed), 1 otherwise.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Load generator: measures a running Parley server.",
      "Pin server and generator to separate cores for comparable numbers, e.g.",
      "  taskset -c 0 ./parley server &   taskset -c 1 ./parley bench fanout --server-pid $!"
    },
    subcommands = {
      BenchCommand.Connections.class,
      BenchCommand.Fanout.class,
      BenchCommand.Direct.class,
      BenchCommand.Ingest.class
    })
public final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }

  /** Options every scenario takes. */
  static final class Common {
    @Option(names = "--server", paramLabel = "URL", description = "server base URL (default ${DEFAULT-VALUE})", defaultValue = "http://127.0.0.1:8080")
    URI server;

    @Option(
        names = "--admin-key",
        paramLabel = "KEY",
        description = "admin API key: users and tokens through the admin API (default: the dev-mode endpoint /v1/dev/token)")
    String adminKey;

    @Option(names = "--user-prefix", paramLabel = "PREFIX", description = "prefix of generated user ids (default: bench-<time>-)")
    String userPrefix;

    @Option(
        names = "--source-addresses",
        paramLabel = "N",
        description = "connect from 127.0.0.1..N (loopback servers; 0 = one per 25,000 connections)",
        defaultValue = "0")
    int sourceAddresses;

    @Option(names = "--threads", paramLabel = "N", description = "generator event loop threads (default ${DEFAULT-VALUE})", defaultValue = "1")
    int threads;

    @Option(names = "--warmup", paramLabel = "DURATION", description = "warm-up before each window (default ${DEFAULT-VALUE})", defaultValue = "3s")
    Duration warmup;

    @Option(names = "--duration", paramLabel = "DURATION", description = "measurement window (default ${DEFAULT-VALUE})", defaultValue = "10s")
    Duration duration;

    @Option(
        names = "--drain-timeout",
        paramLabel = "DURATION",
        description = "wait for stragglers after a window before counting loss (default ${DEFAULT-VALUE})",
        defaultValue = "10s")
    Duration drainTimeout;

    @Option(
        names = "--server-pid",
        paramLabel = "PID",
        description = "pid of a local server: report its CPU and resident memory from /proc",
        defaultValue = "0")
    long serverPid;

    @Option(names = "--jsonl", paramLabel = "FILE", description = "append one JSON line per window to FILE (- = stdout)")
    String jsonl;

    BenchSettings settings() {
      String prefix =
          userPrefix != null ? userPrefix : "bench-" + Long.toString(System.currentTimeMillis(), 36) + "-";
      return new BenchSettings(
          server, adminKey, prefix, sourceAddresses, threads, warmup, duration, serverPid, drainTimeout);
    }
  }

  /** Options of the message scenarios. */
  static final class LoadOptions {
    @Option(names = "--rate", paramLabel = "MSGS_PER_S", description = "aggregate send rate (0 = closed loop with --window)", defaultValue = "0")
    double rate;

    @Option(names = "--window", paramLabel = "N", description = "closed loop: unanswered sends per stream (default ${DEFAULT-VALUE})", defaultValue = "16")
    int window;

    @Option(names = "--payload", paramLabel = "BYTES", description = "message body size (default ${DEFAULT-VALUE})", defaultValue = "100")
    int payload;

    @Option(
        names = "--max-inflight",
        paramLabel = "N",
        description = "unanswered sends per connection, at most the server's limits.max_inflight_per_connection (default ${DEFAULT-VALUE})",
        defaultValue = "64")
    int maxInflight;

    @Option(names = "--slo", paramLabel = "DURATION", description = "p99 latency target of step mode (default ${DEFAULT-VALUE})", defaultValue = "50ms")
    Duration slo;

    @Option(names = "--step", description = "raise the rate by --step-factor per window until p99 > --slo or anything is lost")
    boolean step;

    @Option(names = "--step-factor", paramLabel = "X", description = "rate multiplier per step (default ${DEFAULT-VALUE})", defaultValue = "1.5")
    double stepFactor;

    @Option(names = "--max-steps", paramLabel = "N", description = "most steps (default ${DEFAULT-VALUE})", defaultValue = "12")
    int maxSteps;

    MessagingScenario.Load load(double defaultRate) {
      double r = rate > 0 ? rate : defaultRate;
      if (step && r <= 0) {
        throw new IllegalArgumentException("--step needs a starting --rate");
      }
      return new MessagingScenario.Load(r, window, payload, maxInflight, slo, step, stepFactor, maxSteps);
    }
  }

  /** Base of the scenario commands: output handling and the exit status. */
  abstract static class ScenarioCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Common common;

    abstract BenchReport run(BenchSettings settings, Consumer<Map<String, Object>> onRow) throws Exception;

    boolean stepMode() {
      return false;
    }

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter json = null;
      if ("-".equals(common.jsonl)) {
        json = out;
      } else if (common.jsonl != null) {
        try {
          json =
              new PrintWriter(
                  new OutputStreamWriter(new FileOutputStream(common.jsonl, true), StandardCharsets.UTF_8));
        } catch (IOException e) {
          throw new IllegalArgumentException("cannot write " + common.jsonl + ": " + e.getMessage());
        }
      }
      PrintWriter jsonOut = json;
      try {
        BenchReport report =
            run(
                common.settings(),
                row -> {
                  if (jsonOut != out) {
                    BenchReport.printTable(out, row);
                  }
                  if (jsonOut != null) {
                    BenchReport.printJson(jsonOut, row);
                  }
                });
        if (stepMode()) {
          Object best = report.last().get("highest_passing_rate");
          return best instanceof Double d && d > 0 ? 0 : 1;
        }
        return report.rows().stream().allMatch(r -> Boolean.TRUE.equals(r.get("pass"))) ? 0 : 1;
      } finally {
        if (jsonOut != null && jsonOut != out) {
          jsonOut.close();
        }
      }
    }
  }

  @Command(name = "connections", mixinStandardHelpOptions = true, description = "N authenticated idle connections: connect time, server memory per connection.")
  static final class Connections extends ScenarioCommand {
    @Option(names = "--count", paramLabel = "N", description = "connections (default ${DEFAULT-VALUE})", defaultValue = "1000")
    int count;

    @Override
    BenchReport run(BenchSettings settings, Consumer<Map<String, Object>> onRow) throws Exception {
      return ConnectionsScenario.run(settings, count, onRow);
    }
  }

  @Command(name = "fanout", mixinStandardHelpOptions = true, description = "G groups of M members, P publishers at aggregate rate R: delivered events/s, end-to-end latency, loss.")
  static final class Fanout extends ScenarioCommand {
    @Option(names = "--groups", paramLabel = "G", defaultValue = "10", description = "groups (default ${DEFAULT-VALUE})")
    int groups;

    @Option(names = "--members", paramLabel = "M", defaultValue = "100", description = "receiving members per group (default ${DEFAULT-VALUE})")
    int members;

    @Option(names = "--publishers", paramLabel = "P", defaultValue = "10", description = "publishing connections (default ${DEFAULT-VALUE})")
    int publishers;

    @Option(
        names = "--dialect",
        paramLabel = "DIALECT",
        defaultValue = "parley",
        converter = DialectConverter.class,
        description = {
          "server to measure: parley, socketio (a Socket.IO 4 rooms server such as bench/peers/socketio-server.js;",
          "--server is its http://host:port) or nats (nats-server's WebSocket listener) (default ${DEFAULT-VALUE})"
        })
    PeerDialect dialect;

    @Mixin LoadOptions load;

    @Override
    boolean stepMode() {
      return load.step;
    }

    @Override
    BenchReport run(BenchSettings settings, Consumer<Map<String, Object>> onRow) throws Exception {
      FanoutShape shape = new FanoutShape(groups, members, publishers);
      if (dialect != PeerDialect.PARLEY) {
        return PeerFanoutScenario.run(settings, dialect, shape, load.load(100), onRow);
      }
      return MessagingScenario.run(settings, shape, load.load(100), onRow);
    }
  }

  /** Reads {@code --dialect} case-insensitively. */
  static final class DialectConverter implements picocli.CommandLine.ITypeConverter<PeerDialect> {
    @Override
    public PeerDialect convert(String value) {
      try {
        return PeerDialect.valueOf(value.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(
            "unknown dialect '" + value + "' (parley, socketio or nats)");
      }
    }
  }

  @Command(name = "direct", mixinStandardHelpOptions = true, description = "Pairs chatting in direct conversations: send->ack and send->receive latency.")
  static final class Direct extends ScenarioCommand {
    @Option(names = "--pairs", paramLabel = "N", defaultValue = "100", description = "pairs of users (default ${DEFAULT-VALUE})")
    int pairs;

    @Mixin LoadOptions load;

    @Override
    boolean stepMode() {
      return load.step;
    }

    @Override
    BenchReport run(BenchSettings settings, Consumer<Map<String, Object>> onRow) throws Exception {
      return MessagingScenario.run(settings, new DirectShape(pairs), load.load(1000), onRow);
    }
  }

  @Command(name = "ingest", mixinStandardHelpOptions = true, description = "Durable acknowledged sends: closed loop (highest rate) or paced with --rate.")
  static final class Ingest extends ScenarioCommand {
    @Option(names = "--senders", paramLabel = "N", defaultValue = "16", description = "sending connections (default ${DEFAULT-VALUE})")
    int senders;

    @Mixin LoadOptions load;

    @Override
    boolean stepMode() {
      return load.step;
    }

    @Override
    BenchReport run(BenchSettings settings, Consumer<Map<String, Object>> onRow) throws Exception {
      return MessagingScenario.run(settings, new IngestShape(senders), load.load(0), onRow);
    }
  }
}
