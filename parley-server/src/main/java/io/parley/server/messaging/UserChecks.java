package io.parley.server.messaging;

import io.parley.server.core.ParleyException;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.UserRecord;
import java.util.Collection;
import java.util.Optional;

/**
 * Users that a conversation operation adds (direct peer, group members, invited channel members)
 * must already exist (created on first authentication or through the admin API) and be active:
 * unknown ids are {@code NOT_FOUND}, deactivated users {@code FORBIDDEN}. Ids are not created
 * implicitly, so a typo never creates a phantom user. Blocking reads; thread-safe.
 */
final class UserChecks {
  private UserChecks() {}

  static void requireActive(ParleyStore store, Collection<String> userIds) {
    for (String id : userIds) {
      Optional<UserRecord> u = store.user(id);
      if (u.isEmpty()) {
        throw ParleyException.notFound("user not found: " + id);
      }
      if (u.get().deactivated()) {
        throw ParleyException.forbidden("user is deactivated: " + id);
      }
    }
  }
}
