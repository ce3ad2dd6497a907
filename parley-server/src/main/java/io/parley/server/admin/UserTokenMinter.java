package io.parley.server.admin;

import io.parley.server.auth.MintedToken;
import java.time.Duration;

/**
 * Issues client tokens (JWTs) for a user, so that an application backend can hand its users a token
 * through the admin API. The composition root adapts the auth module's signer to this interface.
 * Implementations must be thread-safe and fast (signing only, no I/O): the admin API calls them on
 * the thread that completed the user lookup.
 */
@FunctionalInterface
public interface UserTokenMinter {
  /**
   * Mints a token for {@code userId} valid for {@code ttl}.
   *
   * @throws io.parley.server.core.ParleyException if no token can be issued (e.g. the server has no
   *     signing key: {@code UNSUPPORTED})
   */
  MintedToken mint(String userId, Duration ttl);
}
