package io.parley.server.auth;

import java.util.concurrent.CompletableFuture;

/**
 * Verifies a client's bearer token (a JWT) and returns who it identifies. Thread-safe; never
 * blocks the caller (fetching a JWKS happens on its own executor).
 */
public interface TokenVerifier {
  /**
   * Completes with the verified identity, or fails with a {@link
   * io.parley.server.core.ParleyException} whose code is {@code UNAUTHENTICATED} (bad signature,
   * algorithm, issuer, audience, key, format, size) or {@code TOKEN_EXPIRED}.
   */
  CompletableFuture<VerifiedToken> verify(String token);
}
