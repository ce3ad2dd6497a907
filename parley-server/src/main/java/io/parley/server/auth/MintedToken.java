package io.parley.server.auth;

import java.util.Objects;

/**
 * A freshly signed token and when it expires.
 *
 * @param token the compact JWT
 * @param expiresAtMs its {@code exp} in ms since the epoch (a whole second)
 */
public record MintedToken(String token, long expiresAtMs) {
  public MintedToken {
    Objects.requireNonNull(token, "token");
  }

  /** Hides the token: it is a credential. */
  @Override
  public String toString() {
    return "MintedToken[token=<redacted>, expiresAtMs=" + expiresAtMs + "]";
  }
}
