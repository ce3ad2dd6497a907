package io.parley.server.gateway.live;

import java.util.Collection;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Tells the engines what this gateway's sessions want to receive, so that a cluster routes each
 * bus message only to the gateways interested in it (docs/architecture.md, "Cluster: routing").
 * The {@code SessionRegistry} calls {@link #declare} when the first session of a user, the first
 * subscriber of a channel or the first follower of a user's presence appears on this gateway, and
 * {@link #withdraw} when the last one goes; these calls are made in order, under the registry's
 * lock, and must not block.
 *
 * <p>The sync/live seam needs a session's interest to be <em>in force</em> (every engine routes by
 * it) before the session's sync reads the store: {@link #inForce} says when. In a single process
 * ({@link LocalInterestRegistry}) every message reaches the gateway anyway and interest is in
 * force at once. Implementations are thread-safe.
 */
public interface InterestRegistry {

  /** What a gateway can be interested in. */
  enum Kind {
    /** Messages for a user: direct and group events, typing, receipts, deactivation. */
    USER,
    /** Events of a channel (they carry no recipient list). */
    CHANNEL,
    /** A user's presence changes. */
    PRESENCE
  }

  /** One interest: a kind and the user or channel id it concerns. */
  record Interest(Kind kind, String id) {
    public Interest {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(id, "id");
    }
  }

  /** This gateway now has at least one session with this interest. */
  void declare(Interest interest);

  /** This gateway no longer has any session with this interest. */
  void withdraw(Interest interest);

  /**
   * Completes when every one of these interests that is declared is in force at the engines;
   * fails (with a retryable {@code UNAVAILABLE}) if the engines do not confirm in time.
   */
  CompletableFuture<Void> inForce(Collection<Interest> interests);

  /**
   * Runs {@code listener} when interest that was in force was lost (engines stopped routing to this
   * gateway for a while, e.g. after a long pause), so that sessions may have missed live events
   * and must reconnect and sync. Never happens in a single process, hence the default.
   */
  default void addLossListener(Runnable listener) {}
}
