package io.parley.server.store;

import java.util.Objects;

/**
 * A user as stored: the id is the JWT {@code sub}. Users are created on first authentication or
 * through the admin API.
 */
public record UserRecord(
    String userId,
    String displayName,
    String avatarUrl,
    boolean deactivated,
    long createdAtMs,
    long updatedAtMs) {
  public UserRecord {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(displayName, "displayName");
    Objects.requireNonNull(avatarUrl, "avatarUrl");
  }
}
