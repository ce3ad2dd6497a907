package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.IdempotencyEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.UserRecord;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

  Tables(Cql cql) {
    this.users = new UsersTable(cql);
    this.conversations = new ConversationsTable(cql);
    this.events = new EventsTable(cql);
    this.members = new MembersTable(cql);
    this.idempotency = new IdempotencyTable(cql);
    this.receipts = new ReceiptsTable(cql);
    this.feed = new FeedTable(cql);
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
  }

  /**
   * Adds the statements of one write, all with the write's own timestamp: within a batch a later
   * write therefore wins over an earlier one on the same row (a removal followed by a re-join, a
   * receipt moved twice), exactly as if they had been committed one after the other.
   */
  void addTo(
      List<BatchableStatement<?>> batch, StoreWrite w, long timestamp, FeedHeads feedHeads) {
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
    Map<String, Long> heads = new LinkedHashMap<>();
    for (StoreWrite.FeedAppend f : w.feedAppends()) {
      for (String userId : f.userIds()) {
        long feedSeq = feedHeads.next(userId);
        feed.append(batch, userId, feedSeq, f.conversationId(), f.seq(), timestamp);
        heads.put(userId, feedSeq);
      }
    }
    heads.forEach((userId, head) -> feed.putHead(batch, userId, head, timestamp));
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
    int rows =
        w.users().size()
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
