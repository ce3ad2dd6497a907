package io.parley.server.messaging;

import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.Role;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ParleyStore;
import java.util.Optional;

/**
 * Authorization rules shared by every service. A caller who may not see a conversation gets
 * {@code NOT_FOUND} with exactly {@link #CONVERSATION_NOT_FOUND}, whether or not it exists, so
 * conversation ids cannot be probed. Unchecked callers (admin API, system) skip membership and
 * role checks, but the conversation must exist. Stateless; thread-safe.
 */
public final class Access {
  /** The one message for a conversation the caller may not see or that does not exist. */
  public static final String CONVERSATION_NOT_FOUND = "conversation not found";

  private Access() {}

  public static ParleyException conversationNotFound() {
    return ParleyException.notFound(CONVERSATION_NOT_FOUND);
  }

  /**
   * Checks on the lane that the caller may see the conversation. Returns the caller's
   * membership: never null for checked callers; null for an unchecked caller that is not a member.
   */
  public static MemberRecord requireVisible(ConversationState state, Caller caller) {
    if (!state.exists()) {
      throw conversationNotFound();
    }
    MemberRecord me = caller.userId().isEmpty() ? null : state.member(caller.userId());
    if (me == null && caller.isChecked()) {
      throw conversationNotFound();
    }
    return me;
  }

  /**
   * Checks on the lane that the caller's user is a member, also for unchecked callers (for
   * operations on the caller's own membership: leave, receipts).
   */
  public static MemberRecord requireMember(ConversationState state, Caller caller) {
    if (!state.exists()) {
      throw conversationNotFound();
    }
    MemberRecord me = caller.userId().isEmpty() ? null : state.member(caller.userId());
    if (me == null) {
      throw conversationNotFound();
    }
    return me;
  }

  /** What a reader off the lane sees: the committed head and the caller's membership or null. */
  public record Visible(ConversationRecord conversation, MemberRecord member) {}

  /** The off-lane (committed state) variant of {@link #requireVisible}; blocking reads. */
  public static Visible requireVisible(ParleyStore store, String conversationId, Caller caller) {
    Optional<ConversationRecord> c = store.conversation(conversationId);
    if (c.isEmpty()) {
      throw conversationNotFound();
    }
    MemberRecord me =
        caller.userId().isEmpty() ? null : store.member(conversationId, caller.userId()).orElse(null);
    if (me == null && caller.isChecked()) {
      throw conversationNotFound();
    }
    return new Visible(c.get(), me);
  }

  /** Throws {@code FORBIDDEN} unless the caller is unchecked or an owner or admin. */
  public static void requireManager(Caller caller, MemberRecord me, String what) {
    if (caller.isChecked() && (me == null || !isManager(me.role()))) {
      throw ParleyException.forbidden("only owners and admins can " + what);
    }
  }

  /** Throws {@code FORBIDDEN} unless the caller is unchecked or an owner. */
  public static void requireOwner(Caller caller, MemberRecord me, String what) {
    if (caller.isChecked() && (me == null || me.role() != Role.ROLE_OWNER)) {
      throw ParleyException.forbidden("only owners can " + what);
    }
  }

  public static boolean isManager(Role role) {
    return role == Role.ROLE_OWNER || role == Role.ROLE_ADMIN;
  }

  /** Throws {@code BAD_REQUEST} for a caller without a user (the system). */
  public static String requireUser(Caller caller) {
    if (caller.userId().isEmpty()) {
      throw ParleyException.badRequest("this operation needs a user");
    }
    return caller.userId();
  }

  public static boolean isDirect(ConversationRecord c) {
    return c.kind() == ConversationKind.CONVERSATION_KIND_DIRECT;
  }

  public static boolean isChannel(ConversationRecord c) {
    return c.kind() == ConversationKind.CONVERSATION_KIND_CHANNEL;
  }
}
