package io.parley.client;

import java.util.concurrent.CompletableFuture;

/**
 * Supplies the bearer token (a JWT issued by the application's backend) the client authenticates
 * with. Called again whenever the client needs a fresh token: before the current one expires, and
 * after the server rejected or expired it. The client never caches a token across those calls, so
 * an implementation may cache itself and decide when to fetch a new one from {@code reason}.
 *
 * <p>Called on the client's callback thread (see {@link ParleyListener}); it must not block: return
 * a future that completes when the token is available (e.g. from an HTTP call to the application's
 * backend). A failed future makes the client retry later with backoff.
 */
@FunctionalInterface
public interface TokenProvider {

  /** Why the client asks for a token. */
  enum Reason {
    /** Opening a connection with no reason to doubt the last token. */
    CONNECT,
    /** The current token expires soon ({@code SessionExpiring} or the client's own timer). */
    REFRESH,
    /** The server rejected or expired the last token (error or close code 4001): fetch a new one. */
    REJECTED
  }

  /** Returns a future completed with a token for the client's user. */
  CompletableFuture<String> token(Reason reason);
}
