package io.parley.server.cli;

import io.parley.server.ParleyServer;
import io.parley.server.config.ParleyConfig;
import java.io.PrintWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the real {@link ParleyServer}: starts it, registers a JVM shutdown hook that closes it (so
 * SIGTERM and Ctrl-C drain gracefully), prints the development-mode banner, and waits for the
 * shutdown.
 */
final class ParleyServerRunner implements ServerRunner {
  private static final Logger log = LoggerFactory.getLogger(ParleyServerRunner.class);

  @Override
  public int run(ParleyConfig config, PrintWriter out) {
    ParleyServer server = ParleyServer.start(config);
    Thread hook = new Thread(server::close, "parley-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    if (config.devMode()) {
      out.print(DevModeBanner.render(config, server.port(), server.adminPort()));
      out.flush();
    }
    log.info(
        "Parley listening on {}:{}{}",
        config.server().host(),
        server.port(),
        config.devMode() ? " (development mode)" : "");
    server.awaitShutdown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the JVM is already running the hook: nothing to undo
    }
    return 0;
  }
}
