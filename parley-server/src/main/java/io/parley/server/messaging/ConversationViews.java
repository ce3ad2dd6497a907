package io.parley.server.messaging;

import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.Role;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoredEvent;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Builds the {@link Conversation} a given user sees (role, read position, unread count, peer of a
 * direct conversation, newest message) from committed store state. Unread count = the
 * conversation's message count minus the message ordinal at the user's read position; a user's
 * own messages move their read position, so they never count. Uses blocking store reads: call it
 * on a read executor. Thread-safe.
 */
public final class ConversationViews {
  private final ParleyStore store;

  public ConversationViews(ParleyStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  /** The view of a conversation for {@code userId} ("" = no user: no personal fields). */
  public Conversation view(ConversationRecord c, String userId) {
    Conversation.Builder b = base(c);
    MemberRecord me =
        userId.isEmpty() ? null : store.member(c.conversationId(), userId).orElse(null);
    if (me != null) {
      b.setMyRole(me.role());
      Optional<ReceiptRecord> r = store.receipt(c.conversationId(), userId);
      long readSeq = r.map(ReceiptRecord::readSeq).orElse(0L);
      long readOrdinal = r.map(ReceiptRecord::readMessageOrdinal).orElse(0L);
      b.setReadSeq(readSeq).setUnreadCount(Math.max(0L, c.messageCount() - readOrdinal));
    }
    if (Access.isDirect(c)) {
      List<MemberRecord> two = store.members(c.conversationId(), "", 3);
      for (MemberRecord m : two) {
        if (!m.userId().equals(userId)) {
          b.setPeerUserId(m.userId());
          break;
        }
      }
    }
    if (c.lastMessageSeq() > 0) {
      store
          .event(c.conversationId(), c.lastMessageSeq())
          .map(StoredEvent::event)
          .ifPresent(b::setLastMessage);
    }
    return b.build();
  }

  /** The view of a conversation by id; {@code NOT_FOUND} when it does not exist. */
  public Conversation view(String conversationId, String userId) {
    ConversationRecord c =
        store.conversation(conversationId).orElseThrow(Access::conversationNotFound);
    return view(c, userId);
  }

  /** What a former member still sees: the shared fields, no role, position or last message. */
  public Conversation removedView(ConversationRecord c) {
    return base(c).setMyRole(Role.ROLE_UNSPECIFIED).build();
  }

  private static Conversation.Builder base(ConversationRecord c) {
    return Conversation.newBuilder()
        .setId(c.conversationId())
        .setKind(c.kind())
        .setMetadata(c.metadata())
        .setPublic(c.isPublic())
        .setReceiptVisibility(c.receiptVisibility())
        .setLastSeq(c.lastSeq())
        .setCreatedAtMs(c.createdAtMs())
        .setMemberCount(c.memberCount());
  }
}
