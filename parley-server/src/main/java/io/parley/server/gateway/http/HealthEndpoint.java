package io.parley.server.gateway.http;

import java.util.concurrent.CompletableFuture;

/**
 * {@code /healthz}: liveness. Answers 200 {@code {"status":"ok"}} whenever the process can serve
 * HTTP at all. Stateless and thread-safe.
 */
public final class HealthEndpoint implements HttpEndpoint {
  private static final HttpReply OK = HttpReply.json(200, "{\"status\":\"ok\"}");

  @Override
  public CompletableFuture<HttpReply> handle(HttpCall call) {
    return CompletableFuture.completedFuture(OK);
  }
}
