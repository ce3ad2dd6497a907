package io.parley.server.gateway.live;

import java.util.Collection;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link InterestRegistry} of a single-process server: the in-process bus hands every message
 * to this gateway's {@link LiveDispatcher}, which finds the interested sessions itself, so there is
 * nothing to tell and interest is in force as soon as the session registry holds it. Stateless.
 */
public final class LocalInterestRegistry implements InterestRegistry {
  /** The one instance (it has no state). */
  public static final LocalInterestRegistry INSTANCE = new LocalInterestRegistry();

  private LocalInterestRegistry() {}

  @Override
  public void declare(Interest interest) {
    // The local bus delivers every message here; see the class comment.
  }

  @Override
  public void withdraw(Interest interest) {
    // As for declare.
  }

  @Override
  public CompletableFuture<Void> inForce(Collection<Interest> interests) {
    return CompletableFuture.completedFuture(null);
  }
}
