package io.parley.server;

import io.parley.protocol.v1.ErrorCode;
import io.parley.server.admin.UserTokenMinter;
import io.parley.server.auth.TokenMinter;
import io.parley.server.core.ParleyException;

/**
 * Adapts the auth module's {@link TokenMinter} to the admin API's {@link UserTokenMinter}. Without
 * a configured HS256 secret (deployments whose tokens come from an OIDC provider) the admin API
 * cannot mint tokens and says so.
 */
final class AdminTokens {
  private AdminTokens() {}

  static UserTokenMinter minter(TokenMinter minter) {
    if (minter == null) {
      return (userId, ttl) -> {
        throw new ParleyException(
            ErrorCode.UNSUPPORTED,
            "this server verifies tokens from an identity provider and has no signing key to mint"
                + " tokens; configure auth.hmac_secret to enable token minting");
      };
    }
    return minter::mint;
  }
}
