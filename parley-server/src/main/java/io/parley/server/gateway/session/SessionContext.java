package io.parley.server.gateway.session;

import io.parley.server.auth.TokenVerifier;
import io.parley.server.auth.VerifiedToken;
import io.parley.server.config.ParleyConfig;
import io.parley.server.limits.ConnectionLimiter;
import io.parley.server.limits.RateLimiter;
import io.parley.server.presence.PresenceService;
import io.parley.server.user.UserService;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Everything a {@link Session} needs besides its channel, shared by all sessions of a gateway.
 * Immutable; the referenced services are thread-safe.
 *
 * @param channelIdsOfUser the ids of the channels a user belongs to (loaded from the store when a
 *     session authenticates, to fill the channel-subscription index)
 * @param rateLimiter the request-rate policy ({@code rate_limits.*})
 * @param connections the per-address connection count ({@code limits.max_connections_per_ip})
 */
public record SessionContext(
    TokenVerifier tokens,
    UserService users,
    PresenceService presence,
    RequestDispatcher dispatcher,
    SessionRegistry registry,
    GatewayMetrics metrics,
    GatewayState state,
    Function<String, CompletableFuture<List<String>>> channelIdsOfUser,
    ParleyConfig.Limits limits,
    ParleyConfig.Timeouts timeouts,
    RateLimiter rateLimiter,
    ConnectionLimiter connections) {

  public SessionContext {
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(users, "users");
    Objects.requireNonNull(presence, "presence");
    Objects.requireNonNull(dispatcher, "dispatcher");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(channelIdsOfUser, "channelIdsOfUser");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(timeouts, "timeouts");
    Objects.requireNonNull(rateLimiter, "rateLimiter");
    Objects.requireNonNull(connections, "connections");
  }

  /**
   * Verifies a token and makes sure its user exists and is active. Fails with the verifier's
   * {@code UNAUTHENTICATED}/{@code TOKEN_EXPIRED} or the user service's {@code USER_DEACTIVATED}.
   */
  public CompletableFuture<VerifiedToken> authenticate(String token) {
    try {
      return tokens
          .verify(token)
          .thenCompose(vt -> users.ensureActive(vt.userId()).thenApply(u -> vt));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Loads the user's channel ids, turning a synchronous throw into a failed future. */
  CompletableFuture<List<String>> loadChannels(String userId) {
    try {
      CompletableFuture<List<String>> f = channelIdsOfUser.apply(userId);
      return f == null ? CompletableFuture.completedFuture(List.of()) : f;
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
