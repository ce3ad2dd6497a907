package io.parley.chat.it;

import static org.awaitility.Awaitility.await;

import io.parley.chat.ChatMain;
import io.parley.chat.ChatSession;
import io.parley.chat.DevTokenProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code parley chat --user X} session run in-process on its own thread: the test types lines
 * into its stdin (a pipe) and reads its stdout (a buffer), like a person at a terminal.
 */
final class Terminal implements AutoCloseable {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final String user;
  private final PipedOutputStream keyboard = new PipedOutputStream();
  private final ByteArrayOutputStream screen = new ByteArrayOutputStream();
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();

  Terminal(URI server, String user) {
    this(server, user, ChatSession.DEFAULT_PAGE_SIZE);
  }

  Terminal(URI server, String user, int pageSize) {
    this.user = user;
    PipedInputStream stdin;
    try {
      stdin = new PipedInputStream(keyboard, 64 * 1024);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    PrintStream stdout = new PrintStream(screen, true, StandardCharsets.UTF_8);
    ChatSession session =
        new ChatSession(
            ChatMain.webSocketUri(server), new DevTokenProvider(server, user), stdout, pageSize);
    Thread thread =
        new Thread(
            () -> {
              try {
                exit.complete(session.run(stdin));
              } catch (Throwable t) {
                exit.completeExceptionally(t);
              }
            },
            "chat-" + user);
    thread.setDaemon(true);
    thread.start();
  }

  /** Types a line and presses Enter. */
  void type(String line) {
    try {
      keyboard.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      keyboard.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Everything printed so far. */
  String screen() {
    return screen.toString(StandardCharsets.UTF_8);
  }

  /** Waits until the screen shows {@code text}. */
  void awaitShown(String text) {
    await(user + " sees \"" + text + "\"")
        .atMost(WAIT)
        .until(() -> screen().contains(text));
  }

  /** Waits until the screen shows a match of {@code regex}; returns its first group. */
  String awaitMatch(String regex) {
    Pattern pattern = Pattern.compile(regex);
    await(user + " sees /" + regex + "/").atMost(WAIT).until(() -> pattern.matcher(screen()).find());
    Matcher m = pattern.matcher(screen());
    m.find();
    return m.groupCount() > 0 ? m.group(1) : m.group();
  }

  /** Waits for the session to end after {@code /quit}; returns its exit status. */
  int awaitExit() {
    return exit.orTimeout(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).join();
  }

  @Override
  public void close() {
    try {
      keyboard.close(); // end of input: the session quits if it has not already
    } catch (IOException ignored) {
      // already closed
    }
    exit.orTimeout(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .exceptionally(e -> -1)
        .join();
  }
}
