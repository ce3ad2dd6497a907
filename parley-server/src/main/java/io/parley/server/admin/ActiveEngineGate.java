package io.parley.server.admin;

import io.parley.protocol.v1.ErrorCode;
import io.parley.server.gateway.http.HttpCall;
import io.parley.server.gateway.http.HttpEndpoint;
import io.parley.server.gateway.http.HttpReply;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * Keeps the admin API of a standby engine closed: the admin API calls the engine's services
 * directly, and only the engine holding the engine lease may sequence. While {@code active} is
 * false every request is answered {@code UNAVAILABLE} (503 with {@code Retry-After}), which also
 * tells an operator who bypassed the load balancer where to go. Thread-safe.
 */
public final class ActiveEngineGate implements HttpEndpoint {
  static final String STANDING_BY =
      "this engine is standing by (another engine holds the engine lease): send admin requests"
          + " to the ready engine";

  private final HttpEndpoint delegate;
  private final BooleanSupplier active;

  public ActiveEngineGate(HttpEndpoint delegate, BooleanSupplier active) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.active = Objects.requireNonNull(active, "active");
  }

  @Override
  public CompletableFuture<HttpReply> handle(HttpCall call) {
    if (!active.getAsBoolean()) {
      return CompletableFuture.completedFuture(HttpErrors.reply(ErrorCode.UNAVAILABLE, STANDING_BY));
    }
    return delegate.handle(call);
  }
}
