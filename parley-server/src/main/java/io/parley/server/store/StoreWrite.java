package io.parley.server.store;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

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
  private final List<EventRef> notifyMarks = new ArrayList<>();
  private final List<EventRef> notifyClears = new ArrayList<>();
  private final List<OutboxJob> outboxPuts = new ArrayList<>();
  private final List<OutboxJob> outboxRemovals = new ArrayList<>();
  private final List<OutboxJob> deadLetterPuts = new ArrayList<>();
  private final List<String> deadLetterRemovals = new ArrayList<>();
  private final List<WebhookRecord> webhookPuts = new ArrayList<>();
  private final List<String> webhookRemovals = new ArrayList<>();
  private final List<PushTargetRecord> pushTargetPuts = new ArrayList<>();
  private final List<PushTargetRecord> pushTargetRemovals = new ArrayList<>();
  private final List<MuteChange> muteChanges = new ArrayList<>();
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

  /** Mutes ({@code muted}) or unmutes a conversation's push notifications for one user. */
  public record MuteChange(String userId, String conversationId, boolean muted) {
    public MuteChange {
      Objects.requireNonNull(userId, "userId");
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
   * Marks a committed event as not yet expanded into notification jobs. The messaging engine adds
   * the mark in the same write as the event, so a crash between commit and expansion cannot lose
   * a notification: the notification service expands every mark it finds at start.
   */
  public StoreWrite markNotifyPending(String conversationId, long seq) {
    notifyMarks.add(new EventRef(conversationId, seq));
    return this;
  }

  /** Removes a notify-pending mark (in the same write as the jobs it expanded into). */
  public StoreWrite clearNotifyPending(EventRef ref) {
    notifyClears.add(Objects.requireNonNull(ref, "ref"));
    return this;
  }

  /** Adds or replaces the outbox job at ({@code lane}, {@code seq}). */
  public StoreWrite putOutboxJob(OutboxJob job) {
    outboxPuts.add(Objects.requireNonNull(job, "job"));
    return this;
  }

  /** Removes the outbox job at the job's ({@code lane}, {@code seq}). */
  public StoreWrite removeOutboxJob(OutboxJob job) {
    outboxRemovals.add(Objects.requireNonNull(job, "job"));
    return this;
  }

  /** Adds or replaces a dead letter, keyed by its job id. */
  public StoreWrite putDeadLetter(OutboxJob job) {
    deadLetterPuts.add(Objects.requireNonNull(job, "job"));
    return this;
  }

  public StoreWrite removeDeadLetter(String jobId) {
    deadLetterRemovals.add(Objects.requireNonNull(jobId, "jobId"));
    return this;
  }

  public StoreWrite putWebhook(WebhookRecord w) {
    webhookPuts.add(Objects.requireNonNull(w, "w"));
    return this;
  }

  public StoreWrite removeWebhook(String webhookId) {
    webhookRemovals.add(Objects.requireNonNull(webhookId, "webhookId"));
    return this;
  }

  public StoreWrite putPushTarget(PushTargetRecord t) {
    pushTargetPuts.add(Objects.requireNonNull(t, "t"));
    return this;
  }

  public StoreWrite removePushTarget(PushTargetRecord t) {
    pushTargetRemovals.add(Objects.requireNonNull(t, "t"));
    return this;
  }

  public StoreWrite setMuted(String userId, String conversationId, boolean muted) {
    muteChanges.add(new MuteChange(userId, conversationId, muted));
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

  /**
   * The conversations whose sequenced state this write changes (conversation rows, events,
   * membership, idempotency entries, receipts, feed entries, notify marks), in first-mention order;
   * empty for writes of user rows, push targets, mutes and the notification outbox, which are
   * last-writer-wins rows that no sequencer caches. A store whose writers are split by conversation
   * shard routes a write by this; the engine builds one write per conversation.
   */
  public Set<String> sequencedConversations() {
    Set<String> ids = new LinkedHashSet<>();
    conversations.forEach(c -> ids.add(c.conversationId()));
    events.forEach(e -> ids.add(e.conversationId()));
    memberUpserts.forEach(m -> ids.add(m.conversationId()));
    memberRemovals.forEach(m -> ids.add(m.conversationId()));
    idempotency.forEach(i -> ids.add(i.conversationId()));
    receipts.forEach(r -> ids.add(r.conversationId()));
    feedAppends.forEach(f -> ids.add(f.conversationId()));
    notifyMarks.forEach(n -> ids.add(n.conversationId()));
    return ids;
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

  public List<EventRef> notifyMarks() {
    return notifyMarks;
  }

  public List<EventRef> notifyClears() {
    return notifyClears;
  }

  public List<OutboxJob> outboxPuts() {
    return outboxPuts;
  }

  public List<OutboxJob> outboxRemovals() {
    return outboxRemovals;
  }

  public List<OutboxJob> deadLetterPuts() {
    return deadLetterPuts;
  }

  public List<String> deadLetterRemovals() {
    return deadLetterRemovals;
  }

  public List<WebhookRecord> webhookPuts() {
    return webhookPuts;
  }

  public List<String> webhookRemovals() {
    return webhookRemovals;
  }

  public List<PushTargetRecord> pushTargetPuts() {
    return pushTargetPuts;
  }

  public List<PushTargetRecord> pushTargetRemovals() {
    return pushTargetRemovals;
  }

  public List<MuteChange> muteChanges() {
    return muteChanges;
  }

  public boolean isEmpty() {
    return users.isEmpty()
        && conversations.isEmpty()
        && events.isEmpty()
        && memberUpserts.isEmpty()
        && memberRemovals.isEmpty()
        && idempotency.isEmpty()
        && receipts.isEmpty()
        && feedAppends.isEmpty()
        && notifyMarks.isEmpty()
        && notifyClears.isEmpty()
        && outboxPuts.isEmpty()
        && outboxRemovals.isEmpty()
        && deadLetterPuts.isEmpty()
        && deadLetterRemovals.isEmpty()
        && webhookPuts.isEmpty()
        && webhookRemovals.isEmpty()
        && pushTargetPuts.isEmpty()
        && pushTargetRemovals.isEmpty()
        && muteChanges.isEmpty();
  }
}
