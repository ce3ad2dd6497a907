package io.parley.server.messaging;

import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.ParleyException;
import io.parley.server.store.ParleyStore;
import java.util.Collection;

/**
 * Enforces {@code limits.max_conversations_per_user} (channels included) wherever users become
 * members: creating a group or channel, opening a direct conversation, joining a channel, being
 * added. A user at the limit is refused with {@code LIMIT_EXCEEDED} until they leave a
 * conversation.
 *
 * <p>The count is read from the store's membership index before the change is sequenced: a user's
 * conversations live on many lanes, so no single lane could count them atomically. Concurrent joins
 * of one user can therefore overshoot the limit by the number of joins in flight at that moment,
 * which the per-user join rate limit keeps small. Blocking reads; thread-safe.
 */
final class MembershipLimits {
  private MembershipLimits() {}

  /**
   * Fails with {@code LIMIT_EXCEEDED} when any of the users, who are about to join a conversation
   * they are not in yet, already belongs to {@code max} conversations.
   *
   * @param caller the acting user, named "you" in the message ("" for admin callers)
   */
  static void requireRoom(
      ParleyStore store, Collection<String> joiningUserIds, String caller, int max) {
    for (String user : joiningUserIds) {
      if (store.countUserConversations(user, max) >= max) {
        String who = user.equals(caller) ? "you belong" : "user " + user + " belongs";
        throw new ParleyException(
            ErrorCode.LIMIT_EXCEEDED,
            who
                + " to the maximum of "
                + max
                + " conversations (limits.max_conversations_per_user); leave one first");
      }
    }
  }
}
