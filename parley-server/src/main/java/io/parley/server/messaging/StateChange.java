package io.parley.server.messaging;

import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.Event;
import io.parley.server.bus.BusMessage;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.IdempotencyEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One sequenced command's mutation of a {@link ConversationState}. Every method updates the
 * in-memory state and the {@link StoreWrite} together, so the two cannot diverge: appended events
 * get the next seqs, the head's counters advance, memberships and receipts change, and when the
 * change is committed the head record and the per-user feed entries are added to the write.
 *
 * <p>Feed entries: in direct and group conversations every event goes to the feed of every member
 * after the change plus every member it removed; in channels only the user an event is about
 * (the creator for {@code ConversationCreated}, the subject of membership events) gets an entry.
 *
 * <p>Lane-confined; not thread-safe.
 */
public final class StateChange {
  private final ConversationState state;
  private final long writeNo;
  private final long timestampMs;
  private final StoreWrite write = new StoreWrite();
  private final List<Event> events = new ArrayList<>();
  private final Set<String> removed = new LinkedHashSet<>();
  private boolean headChanged;
  private Set<String> committedRecipients;

  StateChange(ConversationState state, long writeNo, long timestampMs) {
    this.state = state;
    this.writeNo = writeNo;
    this.timestampMs = timestampMs;
  }

  /** The state being changed. */
  public ConversationState state() {
    return state;
  }

  /** The timestamp every event of this change carries. */
  public long timestampMs() {
    return timestampMs;
  }

  /** Creates the conversation with {@code initial} as its head (counters must be zero). */
  public void create(ConversationRecord initial) {
    if (state.exists()) {
      throw new IllegalStateException(state.conversationId() + " already exists");
    }
    if (initial.lastSeq() != 0 || initial.messageCount() != 0 || initial.memberCount() != 0) {
      throw new IllegalArgumentException("a new conversation starts with zero counters");
    }
    state.setHead(initial);
    headChanged = true;
  }

  /**
   * Appends an event: sets its conversation, the next seq and this change's timestamp, advances
   * the head's counters, and returns the built event.
   */
  public Event append(Event.Builder builder) {
    ConversationRecord h = requireHead();
    long seq = h.lastSeq() + 1;
    boolean message = builder.hasMessagePosted();
    long count = h.messageCount() + (message ? 1 : 0);
    Event e =
        builder
            .setConversationId(state.conversationId())
            .setSeq(seq)
            .setTimestampMs(timestampMs)
            .build();
    StoredEvent stored = new StoredEvent(e, count);
    state.setHead(
        new ConversationRecord(
            h.conversationId(),
            h.kind(),
            h.metadata(),
            h.isPublic(),
            h.receiptVisibility(),
            h.createdAtMs(),
            seq,
            count,
            message ? seq : h.lastMessageSeq(),
            h.memberCount()));
    state.setLastTimestamp(timestampMs);
    state.putEvent(stored, writeNo);
    write.appendEvent(stored);
    events.add(e);
    headChanged = true;
    return e;
  }

  /**
   * Rewrites an already stored event in place (used to strip a deleted message's content). Must
   * be called before {@link #append} in the same change, because the store takes one
   * conversation's events in seq order.
   */
  public void rewrite(StoredEvent replacement) {
    if (!events.isEmpty()) {
      throw new IllegalStateException("rewrite older events before appending new ones");
    }
    if (replacement.seq() <= 0 || replacement.seq() > requireHead().lastSeq()) {
      throw new IllegalArgumentException("no event " + replacement.seq() + " to rewrite");
    }
    state.putEvent(replacement, writeNo);
    write.appendEvent(replacement);
  }

  /** Adds or updates a membership, adjusting the member count for a new member. */
  public void putMember(MemberRecord m) {
    ConversationRecord h = requireHead();
    boolean isNew = state.member(m.userId()) == null;
    state.putMember(m, writeNo);
    write.putMember(m);
    removed.remove(m.userId());
    if (isNew) {
      setMemberCount(h.memberCount() + 1);
    }
  }

  /** Removes a membership; the removed user still receives this change's events. */
  public void removeMember(MemberRecord m) {
    ConversationRecord h = requireHead();
    if (state.member(m.userId()) == null) {
      throw new IllegalStateException(m.userId() + " is not a member");
    }
    state.removeMember(m.userId(), writeNo);
    write.removeMember(m);
    removed.add(m.userId());
    setMemberCount(h.memberCount() - 1);
  }

  /** Replaces the conversation's metadata. */
  public void setMetadata(ConversationMetadata metadata) {
    ConversationRecord h = requireHead();
    state.setHead(
        new ConversationRecord(
            h.conversationId(),
            h.kind(),
            Objects.requireNonNull(metadata, "metadata"),
            h.isPublic(),
            h.receiptVisibility(),
            h.createdAtMs(),
            h.lastSeq(),
            h.messageCount(),
            h.lastMessageSeq(),
            h.memberCount()));
    headChanged = true;
  }

  public void putReceipt(ReceiptRecord r) {
    state.putReceipt(r, writeNo);
    write.putReceipt(r);
  }

  /** Records an idempotency key durably and remembers the send for resends while it commits. */
  public void putSend(IdempotencyEntry entry, ConversationState.RecentSend send) {
    write.putIdempotency(entry);
    state.putSend(entry.userId(), entry.clientMsgId(), send, writeNo);
  }

  /** Events appended by this change, in seq order. */
  public List<Event> events() {
    return Collections.unmodifiableList(events);
  }

  /** Users whose membership this change removed. */
  public Set<String> removedMembers() {
    return Collections.unmodifiableSet(removed);
  }

  /**
   * Who must receive this change's events live: for direct and group conversations every member
   * after the change plus every removed member; for channels nobody (gateways route channel
   * events by subscription).
   */
  public Set<String> recipients() {
    if (committedRecipients != null) {
      return committedRecipients;
    }
    if (!state.keepsAllMembers()) {
      return Set.of();
    }
    Set<String> r = new LinkedHashSet<>(state.memberIds());
    r.addAll(removed);
    return r;
  }

  /**
   * The bus message announcing this change's events once committed, empty when it appended none.
   * Recipients are fixed when the change is handed to the store, so later pipelined changes do
   * not alter them.
   */
  public Optional<BusMessage.CommittedEvents> committedEvents() {
    if (events.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new BusMessage.CommittedEvents(
            state.conversationId(), state.kind(), events, recipients()));
  }

  public boolean isEmpty() {
    return write.isEmpty() && !headChanged;
  }

  long writeNo() {
    return writeNo;
  }

  /** Completes the store write: head record, feed entries and the state's epoch. */
  StoreWrite finish() {
    if (headChanged) {
      write.putConversation(state.head());
    }
    committedRecipients = Set.copyOf(recipients());
    for (Event e : events) {
      // In the event's own commit, so no committed event can miss its notifications.
      write.markNotifyPending(e.getConversationId(), e.getSeq());
    }
    if (!events.isEmpty()) {
      if (state.keepsAllMembers()) {
        List<String> feedUsers = List.copyOf(committedRecipients);
        for (Event e : events) {
          write.appendFeed(feedUsers, e.getConversationId(), e.getSeq());
        }
      } else {
        for (Event e : events) {
          String subject = channelFeedSubject(e);
          if (!subject.isEmpty()) {
            write.appendFeed(List.of(subject), e.getConversationId(), e.getSeq());
          }
        }
      }
    }
    write.epoch(state.epoch());
    return write;
  }

  private static String channelFeedSubject(Event e) {
    return switch (e.getKindCase()) {
      case CONVERSATION_CREATED -> e.getActorUserId();
      case MEMBER_JOINED -> e.getMemberJoined().getUserId();
      case MEMBER_LEFT -> e.getMemberLeft().getUserId();
      case MEMBER_ROLE_CHANGED -> e.getMemberRoleChanged().getUserId();
      default -> "";
    };
  }

  private void setMemberCount(int count) {
    ConversationRecord h = state.head();
    state.setHead(
        new ConversationRecord(
            h.conversationId(),
            h.kind(),
            h.metadata(),
            h.isPublic(),
            h.receiptVisibility(),
            h.createdAtMs(),
            h.lastSeq(),
            h.messageCount(),
            h.lastMessageSeq(),
            count));
    headChanged = true;
  }

  private ConversationRecord requireHead() {
    if (!state.exists()) {
      throw new IllegalStateException(state.conversationId() + " does not exist");
    }
    return state.head();
  }
}
