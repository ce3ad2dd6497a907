package io.parley.server.messaging;

import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.SendResult;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoredEvent;
import java.time.Clock;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A sequencer's in-memory picture of one conversation: its head record, its members, recent
 * receipts, recent sends (for idempotency) and recent events. Commands mutate it through a {@link
 * StateChange} as they sequence, so it runs ahead of the disk while commits are in flight; it is
 * tagged with the store epoch it was loaded in and is discarded when a commit fails or the epoch
 * moves.
 *
 * <p>Direct and group conversations keep their complete member map (bounded by the group size
 * limit) because every event fans out to all members. Channels can be huge, so their members are
 * looked up one by one and cached. Every cache keeps entries written by uncommitted changes
 * (see {@link PendingAwareCache}), so a lookup never falls back to a disk that has not caught up.
 *
 * <p>Confined to the lane thread that owns the conversation; not thread-safe.
 */
public final class ConversationState {
  // Kept small: a lane caches thousands of conversations. Entries of uncommitted changes stay
  // regardless of these bounds; committed data is one store read away.
  static final int MEMBER_CACHE_ENTRIES = 1024;
  static final int RECEIPT_CACHE_ENTRIES = 1024;
  static final int SEND_CACHE_ENTRIES = 32;
  static final int EVENT_CACHE_ENTRIES = 32;
  private static final int MEMBER_PAGE = 1000;
  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  /**
   * A send sequenced through this state: the fingerprint of its content (to tell a resend from a
   * conflicting reuse of the key) and the future of its original result.
   */
  public record RecentSend(byte[] fingerprint, CompletableFuture<SendResult> result) {}

  private final String conversationId;
  private final long epoch;
  private final ParleyStore store;
  private ConversationRecord head;
  private long lastTimestampMs;
  private Map<String, MemberRecord> allMembers;
  private final PendingAwareCache<String, MemberRecord> memberCache;
  private final PendingAwareCache<String, ReceiptRecord> receipts;
  private final PendingAwareCache<String, RecentSend> sends;
  private final PendingAwareCache<Long, StoredEvent> events;
  private long writesIssued;
  private long writesCommitted;
  private int pendingCommits;
  private boolean changeOpen;
  private boolean poisoned;
  private CompletableFuture<Void> tail = DONE;

  private ConversationState(String conversationId, long epoch, ParleyStore store) {
    this.conversationId = conversationId;
    this.epoch = epoch;
    this.store = store;
    this.memberCache = new PendingAwareCache<>(MEMBER_CACHE_ENTRIES, this::writesCommitted);
    this.receipts = new PendingAwareCache<>(RECEIPT_CACHE_ENTRIES, this::writesCommitted);
    this.sends = new PendingAwareCache<>(SEND_CACHE_ENTRIES, this::writesCommitted);
    this.events = new PendingAwareCache<>(EVENT_CACHE_ENTRIES, this::writesCommitted);
  }

  /**
   * Loads the committed state of a conversation. The epoch is read before the data, so a commit
   * failure racing with the load tags the state with the older epoch and its writes are rejected.
   */
  static ConversationState load(ParleyStore store, String conversationId) {
    long epoch = store.epoch(conversationId);
    ConversationState s = new ConversationState(conversationId, epoch, store);
    Optional<ConversationRecord> rec = store.conversation(conversationId);
    if (rec.isPresent()) {
      s.head = rec.get();
      if (s.head.kind() != ConversationKind.CONVERSATION_KIND_CHANNEL) {
        s.allMembers = loadAllMembers(store, conversationId);
      }
      if (s.head.lastSeq() > 0) {
        s.lastTimestampMs =
            store
                .event(conversationId, s.head.lastSeq())
                .map(e -> e.event().getTimestampMs())
                .orElse(0L);
      }
    }
    return s;
  }

  private static Map<String, MemberRecord> loadAllMembers(ParleyStore store, String id) {
    Map<String, MemberRecord> all = new HashMap<>();
    String after = "";
    while (true) {
      List<MemberRecord> page = store.members(id, after, MEMBER_PAGE);
      for (MemberRecord m : page) {
        all.put(m.userId(), m);
      }
      if (page.size() < MEMBER_PAGE) {
        return all;
      }
      after = page.get(page.size() - 1).userId();
    }
  }

  public String conversationId() {
    return conversationId;
  }

  /** The store epoch this state was loaded in; its writes carry it. */
  public long epoch() {
    return epoch;
  }

  /** True when the conversation has been created (possibly by a commit still in flight). */
  public boolean exists() {
    return head != null;
  }

  /** The head as of every sequenced command; null when the conversation does not exist. */
  public ConversationRecord head() {
    return head;
  }

  public ConversationKind kind() {
    return head.kind();
  }

  public boolean isChannel() {
    return head != null && head.kind() == ConversationKind.CONVERSATION_KIND_CHANNEL;
  }

  /** Timestamp of the newest event; new events never get an older one. */
  public long lastTimestampMs() {
    return lastTimestampMs;
  }

  /** The user's membership, or null when the user is not a member. */
  public MemberRecord member(String userId) {
    if (allMembers != null) {
      return allMembers.get(userId);
    }
    if (head == null) {
      return null;
    }
    PendingAwareCache.Slot<MemberRecord> e = memberCache.get(userId);
    if (e != null) {
      return e.value();
    }
    MemberRecord m = store.member(conversationId, userId).orElse(null);
    memberCache.putClean(userId, m);
    return m;
  }

  /**
   * Every member of a direct or group conversation. Channels do not keep their member list in
   * memory: calling this for a channel is a programming error.
   */
  public Collection<MemberRecord> members() {
    if (allMembers == null) {
      throw new IllegalStateException("member list is not kept for " + conversationId);
    }
    return Collections.unmodifiableCollection(allMembers.values());
  }

  /** Ids of every member of a direct or group conversation (see {@link #members()}). */
  public Set<String> memberIds() {
    if (allMembers == null) {
      throw new IllegalStateException("member list is not kept for " + conversationId);
    }
    return Collections.unmodifiableSet(allMembers.keySet());
  }

  /** The user's receipt, or null when none has been written. */
  public ReceiptRecord receipt(String userId) {
    PendingAwareCache.Slot<ReceiptRecord> e = receipts.get(userId);
    if (e != null) {
      return e.value();
    }
    ReceiptRecord r = store.receipt(conversationId, userId).orElse(null);
    receipts.putClean(userId, r);
    return r;
  }

  /** The event at {@code seq} as sequenced (including uncommitted ones), or null. */
  public StoredEvent event(long seq) {
    if (head == null || seq <= 0 || seq > head.lastSeq()) {
      return null;
    }
    PendingAwareCache.Slot<StoredEvent> e = events.get(seq);
    if (e != null) {
      return e.value();
    }
    StoredEvent se = store.event(conversationId, seq).orElse(null);
    events.putClean(seq, se);
    return se;
  }

  /** A send of this user and key still remembered by this state, or null. */
  public RecentSend recentSend(String userId, String clientMsgId) {
    PendingAwareCache.Slot<RecentSend> e = sends.get(sendKey(userId, clientMsgId));
    return e == null ? null : e.value();
  }

  /**
   * A future that completes when every change sequenced so far has committed (exceptionally if
   * the last one failed). Commands that answer without writing wait for it so that their answer
   * never mentions state that is not durable yet.
   */
  public CompletableFuture<Void> tail() {
    return tail;
  }

  /**
   * Starts a change of this state. Events appended to it get timestamps from {@code clock},
   * never older than the newest event. Every change must be committed through {@link
   * LaneContext#commit} in the same command; a command that fails with a change still open has
   * its state discarded by the lane.
   */
  public StateChange change(Clock clock) {
    if (changeOpen) {
      throw new IllegalStateException("a change of " + conversationId + " is already open");
    }
    changeOpen = true;
    long ts = Math.max(clock.millis(), lastTimestampMs);
    return new StateChange(this, ++writesIssued, ts);
  }

  // ---- mutation hooks used by StateChange (lane thread only) ----

  void setHead(ConversationRecord newHead) {
    if (head == null && newHead.kind() != ConversationKind.CONVERSATION_KIND_CHANNEL) {
      allMembers = new HashMap<>();
    }
    head = newHead;
  }

  void setLastTimestamp(long ts) {
    lastTimestampMs = Math.max(lastTimestampMs, ts);
  }

  void putMember(MemberRecord m, long writeNo) {
    if (allMembers != null) {
      allMembers.put(m.userId(), m);
    } else {
      memberCache.putDirty(m.userId(), m, writeNo);
    }
  }

  void removeMember(String userId, long writeNo) {
    if (allMembers != null) {
      allMembers.remove(userId);
    } else {
      memberCache.putDirty(userId, null, writeNo);
    }
  }

  boolean keepsAllMembers() {
    return allMembers != null;
  }

  void putReceipt(ReceiptRecord r, long writeNo) {
    receipts.putDirty(r.userId(), r, writeNo);
  }

  void putEvent(StoredEvent e, long writeNo) {
    events.putDirty(e.seq(), e, writeNo);
  }

  void putSend(String userId, String clientMsgId, RecentSend send, long writeNo) {
    sends.putDirty(sendKey(userId, clientMsgId), send, writeNo);
  }

  // ---- bookkeeping used by the lane ----

  void closeChange() {
    changeOpen = false;
  }

  void commitStarted() {
    pendingCommits++;
  }

  void commitFinished() {
    pendingCommits--;
  }

  int pendingCommits() {
    return pendingCommits;
  }

  /**
   * Marks this state as no longer matching what will be on disk (a change failed or was never
   * written). It must not be used again; it is replaced once none of its commits is in flight.
   */
  void poison() {
    poisoned = true;
    changeOpen = false;
  }

  boolean isPoisoned() {
    return poisoned;
  }

  boolean hasOpenChange() {
    return changeOpen;
  }

  void setTail(CompletableFuture<Void> tail) {
    this.tail = tail;
  }

  void committed(long writeNo) {
    writesCommitted = Math.max(writesCommitted, writeNo);
  }

  long writesCommitted() {
    return writesCommitted;
  }

  /** True when no change of this state is open or waiting for its commit: it may be evicted. */
  boolean isQuiescent() {
    return pendingCommits == 0 && !changeOpen;
  }

  private static String sendKey(String userId, String clientMsgId) {
    return userId + '\u0000' + clientMsgId;
  }
}
