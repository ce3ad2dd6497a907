package io.parley.server.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What every test harness that forks a real server process (Cassandra, Kafka) needs: the
 * server's classpath resolved from its own POM under {@code src/test/<name>-runtime/}, free
 * loopback ports, waiting for a port while watching the process, log tails for failure messages
 * and cleanup. Stateless; thread-safe.
 */
public final class ForkedProcesses {
  private ForkedProcesses() {}

  /**
   * The classpath of {@code src/test/<name>-runtime/pom.xml}, resolved once with {@code mvn
   * dependency:build-classpath} into {@code target/<name>-runtime.classpath} and reused after.
   * Looks in {@link #serverModule()}.
   */
  public static synchronized String classpath(String name) throws IOException {
    Path moduleDir = serverModule();
    Path file = moduleDir.resolve("target/" + name + "-runtime.classpath");
    if (Files.isRegularFile(file) && Files.size(file) > 0) {
      return Files.readString(file).strip();
    }
    Path pom = moduleDir.resolve("src/test/" + name + "-runtime/pom.xml");
    Path mvnw = moduleDir.getParent().resolve("mvnw");
    if (!Files.isRegularFile(pom) || !Files.isRegularFile(mvnw)) {
      throw new IllegalStateException(
          "run the " + name + " tests from the parley-server module (missing " + pom + ")");
    }
    Path out = Files.createTempFile(name + "-build-classpath", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(
                mvnw.toString(),
                "-B",
                "-q",
                "-f",
                pom.toString(),
                "dependency:build-classpath",
                "-Dmdep.outputFile=" + file)
            .redirectErrorStream(true)
            .redirectOutput(out.toFile());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    try {
      Process p = pb.start();
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "resolving " + name + "'s classpath failed:\n" + Files.readString(out));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while resolving " + name + "'s classpath", e);
    } finally {
      Files.deleteIfExists(out);
    }
    return Files.readString(file).strip();
  }

  /**
   * The parley-server module directory: the system property {@code parley.server.module} (set by
   * modules that reuse this harness), else the working directory (the server's own tests).
   */
  public static Path serverModule() {
    return Path.of(System.getProperty("parley.server.module", "")).toAbsolutePath().normalize();
  }

  /** A port nobody listens on right now (the usual small race is acceptable in tests). */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Waits until something accepts connections on {@code 127.0.0.1:port}; fails at once if the
   * process exits and after {@code timeout} otherwise.
   */
  public static void awaitPort(Process process, int port, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(what + " exited with code " + process.exitValue());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        sleep(200);
      }
    }
    throw new IllegalStateException(what + " did not open port " + port + " within " + timeout);
  }

  /** The last lines of each named log file in {@code dir}, for failure messages. */
  public static String logTail(Path dir, List<String> names, int lines) {
    StringBuilder sb = new StringBuilder();
    for (String name : names) {
      Path f = dir.resolve(name);
      try {
        if (Files.isRegularFile(f)) {
          List<String> all = Files.readAllLines(f);
          sb.append("[").append(name).append("]\n");
          all.subList(Math.max(0, all.size() - lines), all.size())
              .forEach(l -> sb.append(l, 0, Math.min(l.length(), 400)).append('\n'));
        }
      } catch (IOException | UncheckedIOException e) {
        sb.append("(cannot read ").append(name).append(": ").append(e).append(")\n");
      }
    }
    return sb.toString();
  }

  /** Stops the process (SIGTERM, then SIGKILL after 20 s) and deletes its directory if given. */
  public static void destroy(Process process, Path dir) {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    if (dir != null) {
      deleteTree(dir);
    }
  }

  /** Deletes a temporary directory tree, best effort. */
  public static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException ignored) {
      // temporary directory; best effort
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a forked process", e);
    }
  }
}
