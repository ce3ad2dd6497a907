package io.parley.server.auth;

import java.util.Objects;

/**
 * The identity a verified token proves.
 *
 * @param userId the token's {@code sub}
 * @param expiresAtMs the token's {@code exp} in ms since the epoch ({@code Long.MAX_VALUE} when the
 *     token has none)
 */
public record VerifiedToken(String userId, long expiresAtMs) {
  public VerifiedToken {
    Objects.requireNonNull(userId, "userId");
  }
}
