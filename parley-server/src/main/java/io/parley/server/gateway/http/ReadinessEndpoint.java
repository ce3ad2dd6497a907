package io.parley.server.gateway.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * {@code /readyz}: readiness for load balancers. Evaluates named checks (for example {@code
 * gateway} = not draining, {@code store} = store healthy) and answers 200 when all pass, 503
 * otherwise, with a body listing each check:
 * {@code {"status":"ready","checks":{"gateway":"up","store":"up"}}}. A check that throws counts as
 * down. Checks must be quick and non-blocking. Thread-safe.
 */
public final class ReadinessEndpoint implements HttpEndpoint {
  private final Map<String, BooleanSupplier> checks;

  /** @param checks named checks, reported in iteration order */
  public ReadinessEndpoint(Map<String, BooleanSupplier> checks) {
    Objects.requireNonNull(checks, "checks");
    this.checks = new LinkedHashMap<>(checks);
  }

  @Override
  public CompletableFuture<HttpReply> handle(HttpCall call) {
    StringBuilder body = new StringBuilder("{\"checks\":{");
    boolean ready = true;
    boolean first = true;
    for (Map.Entry<String, BooleanSupplier> c : checks.entrySet()) {
      boolean up;
      try {
        up = c.getValue().getAsBoolean();
      } catch (RuntimeException e) {
        up = false;
      }
      ready &= up;
      if (!first) {
        body.append(',');
      }
      first = false;
      body.append(HttpResponses.jsonString(c.getKey())).append(':').append(up ? "\"up\"" : "\"down\"");
    }
    body.append("},\"status\":").append(ready ? "\"ready\"" : "\"not_ready\"").append('}');
    return CompletableFuture.completedFuture(HttpReply.json(ready ? 200 : 503, body.toString()));
  }
}
