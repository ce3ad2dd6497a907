package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.EventRef;
import io.parley.server.store.IdempotencyEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.UserRecord;
import io.parley.server.store.WebhookRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every table family of the keyspace, with their prepared statements, and the mapping of one
 * {@link StoreWrite} onto statements for a logged batch. A new record kind gets its own small table
 * class here. Thread-safe (the mapping itself runs on the writer thread).
 */
final class Tables {
  final UsersTable users;
  final ConversationsTable conversations;
  final EventsTable events;
  final MembersTable members;
  final IdempotencyTable idempotency;
  final ReceiptsTable receipts;
  final FeedTable feed;
  final NotifyPendingTable notifyPending;
  final OutboxTable outbox;
  final DeadLettersTable deadLetters;
  final WebhooksTable webhooks;
  final PushTargetsTable pushTargets;
  final MutesTable mutes;

  private final ConversationShards shards;

  Tables(Cql cql, ConversationShards shards) {
    this.shards = shards;
    this.users = new UsersTable(cql);
    this.conversations = new ConversationsTable(cql);
    this.events = new EventsTable(cql);
    this.members = new MembersTable(cql);
    this.idempotency = new IdempotencyTable(cql);
    this.receipts = new ReceiptsTable(cql);
    this.feed = new FeedTable(cql, shards.count());
    this.notifyPending = new NotifyPendingTable(cql);
    this.outbox = new OutboxTable(cql);
    this.deadLetters = new DeadLettersTable(cql);
    this.webhooks = new WebhooksTable(cql);
    this.pushTargets = new PushTargetsTable(cql);
    this.mutes = new MutesTable(cql);
  }

  /** The feeds a write appends to, so the writer can read their heads in one bulk read first. */
  List<FeedTable.Key> feedKeys(StoreWrite w) {
    List<FeedTable.Key> keys = new ArrayList<>();
    for (StoreWrite.FeedAppend f : w.feedAppends()) {
      int shard = shards.of(f.conversationId());
      f.userIds().forEach(userId -> keys.add(new FeedTable.Key(userId, shard)));
    }
    return keys;
  }

  /**
   * Checks a write on the submitting thread, so that bad input fails the caller instead of the
   * whole group commit it would have joined.
   *
   * @throws IllegalArgumentException if an id is empty or too long, a seq is not positive, or an
   *     enum is {@code UNRECOGNIZED}
   */
  static void validate(StoreWrite w) {
    for (UserRecord u : w.users()) {
      Ids.check(u.userId());
    }
    for (ConversationRecord c : w.conversations()) {
      ConversationsTable.check(c);
    }
    for (StoredEvent e : w.events()) {
      Ids.check(e.conversationId());
      Ids.positive(e.seq(), "event seq");
    }
    for (MemberRecord m : w.memberUpserts()) {
      MembersTable.check(m);
    }
    for (MemberRecord m : w.memberRemovals()) {
      Ids.check(m.conversationId());
      Ids.check(m.userId());
    }
    for (IdempotencyEntry i : w.idempotency()) {
      IdempotencyTable.check(i);
    }
    for (ReceiptRecord r : w.receipts()) {
      Ids.check(r.conversationId());
      Ids.check(r.userId());
    }
    for (StoreWrite.FeedAppend f : w.feedAppends()) {
      Ids.check(f.conversationId());
      Ids.positive(f.seq(), "feed event seq");
      f.userIds().forEach(Ids::check);
    }
    w.notifyMarks().forEach(NotifyPendingTable::check);
    w.notifyClears().forEach(NotifyPendingTable::check);
    w.outboxPuts().forEach(OutboxTable::check);
    w.outboxRemovals().forEach(OutboxTable::check);
    w.deadLetterPuts().forEach(OutboxTable::check);
    w.deadLetterRemovals().forEach(Ids::check);
    w.webhookPuts().forEach(h -> Ids.check(h.webhookId()));
    w.webhookRemovals().forEach(Ids::check);
    w.pushTargetPuts().forEach(PushTargetsTable::check);
    w.pushTargetRemovals().forEach(PushTargetsTable::check);
    w.muteChanges().forEach(MutesTable::check);
  }

  /**
   * Adds the statements of one write, all with the write's own timestamp: within a batch a later
   * write therefore wins over an earlier one on the same row (a removal followed by a re-join, a
   * receipt moved twice), exactly as if they had been committed one after the other.
   */
  void addTo(
      List<BatchableStatement<?>> batch,
      StoreWrite w,
      long timestamp,
      FeedHeads<FeedTable.Key> feedHeads) {
    for (UserRecord u : w.users()) {
      users.put(batch, u, timestamp);
    }
    for (ConversationRecord c : w.conversations()) {
      conversations.put(batch, c, timestamp);
    }
    if (!w.events().isEmpty()) {
      events.append(batch, w.events(), timestamp);
    }
    for (MemberRecord m : w.memberUpserts()) {
      members.put(batch, m, timestamp);
    }
    for (MemberRecord m : w.memberRemovals()) {
      members.remove(batch, m, timestamp);
    }
    for (IdempotencyEntry i : w.idempotency()) {
      idempotency.put(batch, i, timestamp);
    }
    for (ReceiptRecord r : w.receipts()) {
      receipts.put(batch, r, timestamp);
    }
    Map<FeedTable.Key, Long> heads = new LinkedHashMap<>();
    for (StoreWrite.FeedAppend f : w.feedAppends()) {
      int shard = shards.of(f.conversationId());
      for (String userId : f.userIds()) {
        FeedTable.Key key = new FeedTable.Key(userId, shard);
        long feedSeq = feedHeads.next(key);
        feed.append(batch, key, feedSeq, f.conversationId(), f.seq(), timestamp);
        heads.put(key, feedSeq);
      }
    }
    heads.forEach((key, head) -> feed.putHead(batch, key, head, timestamp));
    addNotifyTo(batch, w, timestamp);
  }

  /**
   * The notification records of one write, with the embedded engine's semantics: removals apply
   * before puts and the last mute change of a key wins. Statements of one write share a timestamp,
   * and on a timestamp tie Cassandra lets a deletion win over an insert; so a removal of a key that
   * the same write puts again (a retried job moved in place, a replayed dead letter) is left out
   * rather than sent, and mute changes are collapsed to the last one per key. The insert writes
   * every column, so it replaces the old row exactly as remove-then-put would.
   */
  private void addNotifyTo(List<BatchableStatement<?>> batch, StoreWrite w, long timestamp) {
    Set<EventRef> marked = new HashSet<>(w.notifyMarks());
    for (EventRef r : w.notifyClears()) {
      if (!marked.contains(r)) {
        notifyPending.clear(batch, r, timestamp);
      }
    }
    for (EventRef r : w.notifyMarks()) {
      notifyPending.mark(batch, r, timestamp);
    }
    Set<EventRef> jobsPut = new HashSet<>();
    w.outboxPuts().forEach(j -> jobsPut.add(new EventRef(j.lane(), j.seq())));
    for (OutboxJob j : w.outboxRemovals()) {
      if (!jobsPut.contains(new EventRef(j.lane(), j.seq()))) {
        outbox.remove(batch, j, timestamp);
      }
    }
    for (OutboxJob j : w.outboxPuts()) {
      outbox.put(batch, j, timestamp);
    }
    Set<String> deadPut = new HashSet<>();
    w.deadLetterPuts().forEach(j -> deadPut.add(j.jobId()));
    for (String jobId : w.deadLetterRemovals()) {
      if (!deadPut.contains(jobId)) {
        deadLetters.remove(batch, jobId, timestamp);
      }
    }
    for (OutboxJob j : w.deadLetterPuts()) {
      deadLetters.put(batch, j, timestamp);
    }
    Set<String> hooksPut = new HashSet<>();
    w.webhookPuts().forEach(h -> hooksPut.add(h.webhookId()));
    for (String webhookId : w.webhookRemovals()) {
      if (!hooksPut.contains(webhookId)) {
        webhooks.remove(batch, webhookId, timestamp);
      }
    }
    for (WebhookRecord h : w.webhookPuts()) {
      webhooks.put(batch, h, timestamp);
    }
    Set<List<String>> targetsPut = new HashSet<>();
    w.pushTargetPuts().forEach(t -> targetsPut.add(List.of(t.userId(), t.targetId())));
    for (PushTargetRecord t : w.pushTargetRemovals()) {
      if (!targetsPut.contains(List.of(t.userId(), t.targetId()))) {
        pushTargets.remove(batch, t, timestamp);
      }
    }
    for (PushTargetRecord t : w.pushTargetPuts()) {
      pushTargets.put(batch, t, timestamp);
    }
    Map<List<String>, StoreWrite.MuteChange> lastMute = new LinkedHashMap<>();
    for (StoreWrite.MuteChange m : w.muteChanges()) {
      lastMute.put(List.of(m.userId(), m.conversationId()), m);
    }
    lastMute.values().forEach(m -> mutes.apply(batch, m, timestamp));
  }

  /** The number of notification rows a write touches (one statement each). */
  static int notifyRows(StoreWrite w) {
    return w.notifyMarks().size()
        + w.notifyClears().size()
        + w.outboxPuts().size()
        + w.outboxRemovals().size()
        + w.deadLetterPuts().size()
        + w.deadLetterRemovals().size()
        + w.webhookPuts().size()
        + w.webhookRemovals().size()
        + w.pushTargetPuts().size()
        + w.pushTargetRemovals().size()
        + w.muteChanges().size();
  }

  /** A rough size of the write in bytes, to keep logged batches well below the server's limit. */
  static long estimatedBytes(StoreWrite w) {
    long bytes = 0;
    for (StoredEvent e : w.events()) {
      bytes += e.event().getSerializedSize() + 64;
    }
    for (ConversationRecord c : w.conversations()) {
      bytes += c.metadata().getSerializedSize() + 128;
    }
    for (OutboxJob j : w.outboxPuts()) {
      bytes += j.payload().length + j.lastError().length();
    }
    for (OutboxJob j : w.deadLetterPuts()) {
      bytes += j.payload().length + j.lastError().length();
    }
    int rows =
        notifyRows(w)
            + w.users().size()
            + 2 * w.memberUpserts().size()
            + 2 * w.memberRemovals().size()
            + w.idempotency().size()
            + w.receipts().size();
    for (StoreWrite.FeedAppend f : w.feedAppends()) {
      rows += 2 * f.userIds().size();
    }
    return bytes + 128L * rows;
  }
}
