package io.parley.server.gateway.session;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Gateway-wide state shared by all sessions: whether the node is draining (no new work, readiness
 * false) and how many client requests are in flight (drain waits for them). Thread-safe.
 */
public final class GatewayState {
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicInteger inFlight = new AtomicInteger();

  public boolean isDraining() {
    return draining.get();
  }

  /** Returns true for the call that switched the state to draining. */
  public boolean startDraining() {
    return draining.compareAndSet(false, true);
  }

  /** Requests dispatched to services and not yet answered, across all sessions. */
  public int inFlight() {
    return inFlight.get();
  }

  void requestStarted() {
    inFlight.incrementAndGet();
  }

  void requestFinished() {
    inFlight.decrementAndGet();
  }
}
