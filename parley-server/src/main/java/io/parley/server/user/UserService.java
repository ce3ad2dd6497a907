package io.parley.server.user;

import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.UpdateProfile;
import io.parley.server.core.Caller;
import io.parley.server.store.UserRecord;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Users and their profiles. A user exists from their first authentication (or from creation
 * through the admin API); a deactivated user cannot authenticate and their sessions end.
 * Thread-safe; never blocks the caller.
 */
public interface UserService {
  /**
   * Returns the user, creating it on first sight. Fails with {@code USER_DEACTIVATED} for a
   * deactivated user.
   */
  CompletableFuture<UserRecord> ensureActive(String userId);

  CompletableFuture<Profile> getProfile(Caller caller, GetProfile request);

  CompletableFuture<Profile> updateProfile(Caller caller, UpdateProfile request);

  /** Admin: creates or updates a user. */
  CompletableFuture<Profile> upsert(String userId, String displayName, String avatarUrl);

  /** Admin: deactivates (or reactivates) a user. Deactivation ends the user's sessions. */
  CompletableFuture<Profile> setDeactivated(String userId, boolean deactivated);

  /** Admin: lists users ordered by id. */
  CompletableFuture<List<Profile>> list(String afterUserId, int limit);
}
