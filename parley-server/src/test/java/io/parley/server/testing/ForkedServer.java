package io.parley.server.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Parley server as a separate process (the shaded jar from {@code target/}), for tests that
 * kill it with SIGKILL. Each instance records its process and destroys it on close and in a JVM
 * shutdown hook, so no orphan outlives the test run. Not thread-safe.
 */
public final class ForkedServer implements AutoCloseable {
  /** The HS256 secret the forked server verifies tokens with. */
  public static final byte[] SECRET =
      "forked-server-test-secret-0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.UTF_8);

  public static final String ADMIN_KEY = "forked-server-admin-key-0123456789abcdef";

  /** A reply to {@link #get}. */
  public record Reply(int status, String body) {}

  /** What a load balancer's health check sends first: a PROXY protocol v2 LOCAL header. */
  private static final byte[] PROXY_LOCAL_HEADER = proxyLocalHeader();

  private final Process process;
  private final int port;
  private final Thread reaper;
  private final Path log;
  private final boolean proxyProtocol;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private ForkedServer(Process process, int port, Path log, boolean proxyProtocol) {
    this.process = process;
    this.port = port;
    this.log = log;
    this.proxyProtocol = proxyProtocol;
    this.reaper = new Thread(process::destroyForcibly, "forked-server-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** Starts a server on a free port with the given data directory and waits until it is ready. */
  public static ForkedServer start(Path dataDir) throws IOException, InterruptedException {
    return start(dataDir, Map.of(), List.of());
  }

  /**
   * Starts a server on a free port with the given data directory (also where its log goes),
   * extra environment (configuration overrides such as {@code PARLEY_STORAGE_ENGINE}) and extra
   * {@code parley server} arguments (such as {@code --roles gateway}); waits until it is ready.
   */
  public static ForkedServer start(Path dataDir, Map<String, String> env, List<String> args)
      throws IOException, InterruptedException {
    return start(dataDir, env, args, freePort());
  }

  /** Same as {@link #start(Path, Map, List)} on the given port (a restart in the same place). */
  public static ForkedServer start(
      Path dataDir, Map<String, String> env, List<String> args, int port)
      throws IOException, InterruptedException {
    return start(dataDir, env, args, port, "/readyz");
  }

  /**
   * Same as {@link #start(Path, Map, List)}, but waits only until the server is alive ({@code
   * /healthz}), not ready: for a process whose readiness the caller checks itself (a notify-only
   * process that stands by for the notify lease).
   */
  public static ForkedServer startLive(Path dataDir, Map<String, String> env, List<String> args)
      throws IOException, InterruptedException {
    return start(dataDir, env, args, freePort(), "/healthz");
  }

  private static ForkedServer start(
      Path dataDir, Map<String, String> env, List<String> args, int port, String probe)
      throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = dataDir.resolveSibling(dataDir.getFileName() + "-server-" + port + ".log");
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                java,
                "-Xmx256m",
                "-jar",
                shadedJar().toString(),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                Integer.toString(port),
                "--data-dir",
                dataDir.toString()));
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("PARLEY_AUTH_HMAC_SECRET", Base64.getEncoder().encodeToString(SECRET));
    pb.environment().put("PARLEY_ADMIN_API_KEY", ADMIN_KEY);
    // The forked-server tests (crash recovery, drain) send and retry as fast as they can on
    // purpose; rate limits have their own tests (io.parley.server.limits).
    pb.environment().put("PARLEY_RATE_LIMITS_ENABLED", "false");
    pb.environment().putAll(env);
    boolean proxyProtocol = "true".equalsIgnoreCase(env.get("PARLEY_SERVER_PROXY_PROTOCOL"));
    ForkedServer server = new ForkedServer(pb.start(), port, log, proxyProtocol);
    try {
      server.await(probe, Duration.ofSeconds(90));
    } catch (IOException | RuntimeException | InterruptedException e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** Waits until {@code /readyz} answers 200. */
  public void awaitReady(Duration timeout) throws IOException, InterruptedException {
    await("/readyz", timeout);
  }

  private void await(String probe, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "server exited with " + process.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        if (get(probe).status() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        "server not answering " + probe + " in " + timeout + ":\n" + Files.readString(log));
  }

  public int port() {
    return port;
  }

  /**
   * A GET request on the server's port. A server started with {@code
   * PARLEY_SERVER_PROXY_PROTOCOL=true} accepts only connections that start with a PROXY header, so
   * the request is then sent the way a load balancer's health check is: a v2 {@code LOCAL} header,
   * then HTTP/1.1 with {@code Connection: close}.
   */
  public Reply get(String path) throws IOException, InterruptedException {
    if (!proxyProtocol) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
              HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body());
    }
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(PROXY_LOCAL_HEADER);
      out.write(
          ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String[] statusLine = response.split(" ", 3);
      int headEnd = response.indexOf("\r\n\r\n");
      if (statusLine.length < 3 || headEnd < 0) {
        throw new IOException("no complete HTTP response: " + response);
      }
      // Replies to Connection: close are never chunked (the gateway sends Content-Length).
      return new Reply(Integer.parseInt(statusLine[1]), response.substring(headEnd + 4));
    }
  }

  private static byte[] proxyLocalHeader() {
    EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
    encoder.writeOutbound(
        new HAProxyMessage(
            HAProxyProtocolVersion.V2,
            HAProxyCommand.LOCAL,
            HAProxyProxiedProtocol.UNKNOWN,
            null,
            null,
            0,
            0));
    ByteBuf header = encoder.readOutbound();
    try {
      return ByteBufUtil.getBytes(header);
    } finally {
      header.release();
      encoder.finishAndReleaseAll();
    }
  }

  /** The server's process id. */
  public long pid() {
    return process.pid();
  }

  /** True while the server process runs. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Everything the server process printed so far. */
  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A signed token for the user, valid for an hour. */
  public static String token(String userId) {
    try {
      SignedJWT jwt =
          new SignedJWT(
              new JWSHeader(JWSAlgorithm.HS256),
              new JWTClaimsSet.Builder()
                  .subject(userId)
                  .issueTime(new Date())
                  .expirationTime(new Date(System.currentTimeMillis() + 3_600_000))
                  .build());
      jwt.sign(new MACSigner(SECRET));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An authenticated client of this server. */
  public WsTestClient client(String userId, String deviceId) {
    return WsTestClient.authenticated(port, token(userId), deviceId);
  }

  /** SIGKILL: no shutdown hook, no flush — what a power cut or OOM kill does. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGSTOP: the process stays alive but does nothing, like a long GC pause or a frozen VM. */
  public void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** SIGCONT: a paused process carries on where it stopped. */
  public void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("kill " + signal + " " + process.pid() + " failed");
    }
  }

  /** Sends SIGTERM (the server's graceful drain) without waiting. */
  public void sigterm() {
    process.destroy();
  }

  /** SIGTERM: the server's graceful drain. Returns the exit code. */
  public int terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IllegalStateException shuttingDown) {
      // the JVM is already exiting; the hook runs anyway
    }
  }

  private static int freePort() {
    return ForkedProcesses.freePort();
  }

  /** The shaded jar built by this module's package phase (failsafe runs after it). */
  static Path shadedJar() {
    Path target = ForkedProcesses.serverModule().resolve("target");
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(target, "parley-server-*-all.jar")) {
      for (Path p : ds) {
        return p.toAbsolutePath();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException(
        "no shaded jar in " + target.toAbsolutePath() + ": run the package phase first");
  }

  static Map<String, String> env() {
    return Map.of();
  }
}
