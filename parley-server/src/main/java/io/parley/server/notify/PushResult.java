package io.parley.server.notify;

/** A push provider's answer to one {@link PushMessage}, classified per the provider's docs. */
public sealed interface PushResult {
  /** Accepted by the provider. */
  record Sent() implements PushResult {}

  /** The token is invalid or unregistered: the push target is removed. */
  record InvalidToken(String reason) implements PushResult {}

  /** Temporary failure or throttling; {@code retryAfterMs} is the provider's requested delay. */
  record Retry(String reason, long retryAfterMs) implements PushResult {}

  /** The provider's circuit breaker is open; try again at {@code atMs} without an attempt. */
  record ProviderUnavailable(String reason, long atMs) implements PushResult {}

  /** A request the provider will never accept (e.g. payload too large). */
  record Rejected(String reason) implements PushResult {}
}
