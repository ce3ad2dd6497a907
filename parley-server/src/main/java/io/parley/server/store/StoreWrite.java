package io.parley.server.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A set of mutations that the store applies atomically and durably in one commit. The messaging
 * engine builds one per sequenced command; the store groups concurrent writes into one durable
 * commit (one fsync). Not thread-safe: build it on one thread, then hand it to {@link
 * ParleyStore#write}.
 */
public final class StoreWrite {
  private final List<UserRecord> users = new ArrayList<>();
  private final List<ConversationRecord> conversations = new ArrayList<>();
  private final List<StoredEvent> events = new ArrayList<>();
  private final List<MemberRecord> memberUpserts = new ArrayList<>();
  private final List<MemberRecord> memberRemovals = new ArrayList<>();
  private final List<IdempotencyEntry> idempotency = new ArrayList<>();
  private final List<ReceiptRecord> receipts = new ArrayList<>();
  private final List<FeedAppend> feedAppends = new ArrayList<>();
  private long epoch = -1;

  /**
   * A request to append one feed entry per listed user for one event. The store assigns each
   * user's next feed seq when it commits, in commit order.
   */
  public record FeedAppend(List<String> userIds, String conversationId, long seq) {
    public FeedAppend {
      userIds = List.copyOf(userIds);
      Objects.requireNonNull(conversationId, "conversationId");
    }
  }

  public StoreWrite putUser(UserRecord u) {
    users.add(Objects.requireNonNull(u, "u"));
    return this;
  }

  public StoreWrite putConversation(ConversationRecord c) {
    conversations.add(Objects.requireNonNull(c, "c"));
    return this;
  }

  /** Appends an event; events of one conversation must be added in seq order. */
  public StoreWrite appendEvent(StoredEvent e) {
    events.add(Objects.requireNonNull(e, "e"));
    return this;
  }

  /** Adds or replaces a membership; also maintains the user's conversation index. */
  public StoreWrite putMember(MemberRecord m) {
    memberUpserts.add(Objects.requireNonNull(m, "m"));
    return this;
  }

  /** Removes a membership and the user's conversation index entry. */
  public StoreWrite removeMember(MemberRecord m) {
    memberRemovals.add(Objects.requireNonNull(m, "m"));
    return this;
  }

  public StoreWrite putIdempotency(IdempotencyEntry e) {
    idempotency.add(Objects.requireNonNull(e, "e"));
    return this;
  }

  public StoreWrite putReceipt(ReceiptRecord r) {
    receipts.add(Objects.requireNonNull(r, "r"));
    return this;
  }

  public StoreWrite appendFeed(List<String> userIds, String conversationId, long seq) {
    if (!userIds.isEmpty()) {
      feedAppends.add(new FeedAppend(userIds, conversationId, seq));
    }
    return this;
  }

  /**
   * Tags this write with the sequencer epoch its in-memory state was loaded in. A store that has
   * failed a commit since then rejects it, so a write built on state that never reached disk can
   * never create a gap. -1 (the default) means "not built from cached state".
   */
  public StoreWrite epoch(long epoch) {
    this.epoch = epoch;
    return this;
  }

  public long epoch() {
    return epoch;
  }

  public List<UserRecord> users() {
    return users;
  }

  public List<ConversationRecord> conversations() {
    return conversations;
  }

  public List<StoredEvent> events() {
    return events;
  }

  public List<MemberRecord> memberUpserts() {
    return memberUpserts;
  }

  public List<MemberRecord> memberRemovals() {
    return memberRemovals;
  }

  public List<IdempotencyEntry> idempotency() {
    return idempotency;
  }

  public List<ReceiptRecord> receipts() {
    return receipts;
  }

  public List<FeedAppend> feedAppends() {
    return feedAppends;
  }

  public boolean isEmpty() {
    return users.isEmpty()
        && conversations.isEmpty()
        && events.isEmpty()
        && memberUpserts.isEmpty()
        && memberRemovals.isEmpty()
        && idempotency.isEmpty()
        && receipts.isEmpty()
        && feedAppends.isEmpty();
  }
}
