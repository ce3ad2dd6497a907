package io.parley.server.cli;

import io.parley.server.config.ParleyConfig;
import java.io.PrintWriter;

/** Runs the server until it stops; a seam so that the {@code server} command is testable. */
interface ServerRunner {
  /**
   * Starts the server with {@code config}, blocks until it has shut down, and returns the exit
   * status.
   */
  int run(ParleyConfig config, PrintWriter out);
}
