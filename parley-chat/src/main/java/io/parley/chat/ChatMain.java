package io.parley.chat;

import io.parley.client.TokenProvider;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code parley chat}: the terminal chat client (the shaded jar's main class; the {@code ./parley}
 * launcher runs it for {@code ./parley chat ...}). Reads commands from stdin, prints to stdout.
 *
 * <p>Exit status: 0 after {@code /quit} or end of input; 1 if it cannot connect; 2 usage error.
 */
@Command(
    name = "parley chat",
    mixinStandardHelpOptions = true,
    version = "parley-chat 0.1",
    description = "Terminal chat on the Parley Java SDK. Type /help once connected.",
    footer = {
      "",
      "Examples:",
      "  parley chat --user alice                 development mode: mints its own token",
      "  parley chat --token \"$JWT\" --server https://chat.example.com"
    })
public final class ChatMain implements Callable<Integer> {

  /** Who the session acts as: a development user or a real token. */
  static final class Identity {
    @Option(
        names = "--user",
        required = true,
        description = "user id; the token comes from the server's development endpoint POST /v1/dev/token")
    String user;

    @Option(names = "--token", required = true, description = "a JWT for the user (production servers)")
    String token;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Identity identity;

  @Option(
      names = "--server",
      defaultValue = "http://localhost:8080",
      description = "the server's base URL (http or https; default: ${DEFAULT-VALUE})")
  URI server;

  @Option(
      names = "--page-size",
      defaultValue = "" + ChatSession.DEFAULT_PAGE_SIZE,
      description = "events shown by /open and each /history (default: ${DEFAULT-VALUE})")
  int pageSize;

  private ChatMain() {}

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new ChatMain());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof IllegalArgumentException) {
            commandLine.getErr().println("parley chat: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    System.exit(cli.execute(args));
  }

  @Override
  public Integer call() {
    // UTF-8 bytes through System.out's raw stream, so "✓✓" and "…" survive any default charset.
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    TokenProvider tokens =
        identity.token != null
            ? reason -> CompletableFuture.completedFuture(identity.token)
            : new DevTokenProvider(server, identity.user);
    return new ChatSession(webSocketUri(server), tokens, out, pageSize).run(System.in);
  }

  /** {@code http://host:port} → {@code ws://host:port/v1/ws}; {@code https} → {@code wss}. */
  public static URI webSocketUri(URI server) {
    String scheme = server.getScheme();
    String ws;
    if ("http".equalsIgnoreCase(scheme)) {
      ws = "ws";
    } else if ("https".equalsIgnoreCase(scheme)) {
      ws = "wss";
    } else {
      throw new IllegalArgumentException("--server must be an http:// or https:// URL, got " + server);
    }
    try {
      return new URI(ws, null, server.getHost(), server.getPort(), "/v1/ws", null, null);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("--server is not a valid URL: " + server, e);
    }
  }
}
