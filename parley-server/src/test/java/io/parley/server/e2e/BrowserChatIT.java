package io.parley.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.parley.server.testing.TestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The demo chat app and the browser SDK in real headless Chromium: starts the whole server in
 * development mode (as {@code ./parley server} runs it, app at {@code /}), then runs the
 * Playwright scenarios of {@code clients/web/test/e2e/chat.mjs} against it with Node.js — alice
 * and bob chatting both ways, a group of three, bob offline while alice sends 20, a send made
 * offline delivered exactly once, a page reload keeping the history.
 *
 * <p>Needs {@code node} (the build of module parley-web installed {@code clients/web/node_modules})
 * and Debian's {@code chromium} ({@code ./parley test} installs it). Missing tools fail the test
 * with the command that fixes it: a browser test that silently skips would prove nothing.
 * Screenshots of the main screens land in {@code target/browser-screenshots}.
 */
class BrowserChatIT {
  private static final long TIMEOUT_SECONDS = 240;

  @Test
  void chatScenariosPassInHeadlessChromium() throws Exception {
    Path webDir = Path.of("..", "clients", "web").toAbsolutePath().normalize();
    Path script = webDir.resolve("test/e2e/chat.mjs");
    assertThat(script).as("the browser scenarios").exists();
    if (!Files.isDirectory(webDir.resolve("node_modules/playwright-core"))) {
      fail("clients/web/node_modules is missing: build module parley-web first (./mvnw -pl parley-server -am verify runs its npm ci)");
    }
    String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
    if (!Files.isExecutable(Path.of(chromium))) {
      fail("no Chromium at " + chromium + ": install it with 'apt-get install chromium' (./parley test does) or set CHROMIUM");
    }
    Path screenshots = Path.of("target", "browser-screenshots").toAbsolutePath();
    Path log = Path.of("target", "browser-chat-it.log").toAbsolutePath();

    try (TestServer server = TestServer.startDevMode()) {
      ProcessBuilder pb =
          new ProcessBuilder(
                  "node",
                  script.toString(),
                  "--url",
                  "http://127.0.0.1:" + server.port(),
                  "--screenshots",
                  screenshots.toString())
              .directory(webDir.toFile())
              .redirectErrorStream(true);
      pb.environment().put("CHROMIUM", chromium);
      Process process;
      try {
        process = pb.start();
      } catch (IOException e) {
        throw new AssertionError("cannot run 'node' (install Node.js 20 or newer): " + e.getMessage(), e);
      }
      List<String> output = new ArrayList<>();
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    System.out.println("[browser] " + line);
                    synchronized (output) {
                      output.add(line);
                    }
                  }
                } catch (IOException ignored) {
                  // the process ended
                }
              },
              "browser-output");
      reader.start();
      boolean finished = process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (!finished) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
      reader.join(10_000);
      String transcript;
      synchronized (output) {
        transcript = String.join("\n", output);
      }
      Files.createDirectories(log.getParent());
      Files.writeString(log, transcript + "\n");
      assertThat(finished).as("browser scenarios finished within %d s:\n%s", TIMEOUT_SECONDS, transcript).isTrue();
      assertThat(process.exitValue()).as("browser scenarios:\n%s", transcript).isZero();
      assertThat(transcript).contains("6 passed, 0 failed");
      assertThat(screenshots.resolve("03-direct-chat-desktop.png")).exists();
    }
  }
}
