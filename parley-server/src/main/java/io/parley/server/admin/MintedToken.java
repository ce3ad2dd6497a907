package io.parley.server.admin;

import java.util.Objects;

/**
 * A token issued by a {@link UserTokenMinter}. Immutable.
 *
 * @param token the compact serialized token
 * @param expiresAtMs its expiry, ms since the epoch
 */
public record MintedToken(String token, long expiresAtMs) {
  public MintedToken {
    Objects.requireNonNull(token, "token");
  }
}
