package io.parley.server.store.rocksdb;

import io.parley.server.store.ConversationRecord;
import io.parley.server.store.IdempotencyEntry;
import io.parley.server.store.EventRef;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.WebhookRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.UserRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * A {@link StoreWrite} validated and encoded into key/value operations on the submitting thread,
 * so the single writer thread only copies bytes into its batch and assigns feed seqs.
 *
 * <p>Operations are applied in this order: users, conversations, events, member upserts (each
 * writing both the {@code members} and the {@code userconv} entry), member removals (deleting
 * both), idempotency entries, receipts, then feed entries. Immutable after construction; {@link
 * #applyTo} runs on the writer thread only.
 */
final class PreparedWrite {
  /** A put ({@code value != null}) or a delete of one key. */
  record Op(StoreColumnFamily cf, byte[] key, byte[] value) {}

  /** One feed entry with the given encoded value for each of {@code userIds}. */
  record Feed(List<String> userIds, byte[] value) {}

  private final List<Op> ops;
  private final List<Feed> feeds;
  private final long epoch;

  private PreparedWrite(List<Op> ops, List<Feed> feeds, long epoch) {
    this.ops = ops;
    this.feeds = feeds;
    this.epoch = epoch;
  }

  /**
   * Validates and encodes a write.
   *
   * @throws IllegalArgumentException if an id is invalid (see {@link KeyCodec#idBytes}), a seq is
   *     not positive, or an enum field is {@code UNRECOGNIZED}
   */
  static PreparedWrite of(StoreWrite write) {
    List<Op> ops = new ArrayList<>();
    for (UserRecord u : write.users()) {
      ops.add(put(StoreColumnFamily.USERS, KeyCodec.key(u.userId()), RecordCodec.encodeUser(u)));
    }
    for (ConversationRecord c : write.conversations()) {
      ops.add(
          put(
              StoreColumnFamily.CONVERSATIONS,
              KeyCodec.key(c.conversationId()),
              RecordCodec.encodeConversation(c)));
    }
    for (StoredEvent e : write.events()) {
      ops.add(
          put(
              StoreColumnFamily.EVENTS,
              KeyCodec.key(e.conversationId(), positive(e.seq(), "event seq")),
              RecordCodec.encodeEvent(e)));
    }
    for (MemberRecord m : write.memberUpserts()) {
      byte[] value = RecordCodec.encodeMember(m);
      ops.add(
          put(StoreColumnFamily.MEMBERS, KeyCodec.key(m.conversationId(), m.userId()), value));
      ops.add(
          put(StoreColumnFamily.USERCONV, KeyCodec.key(m.userId(), m.conversationId()), value));
    }
    for (MemberRecord m : write.memberRemovals()) {
      ops.add(delete(StoreColumnFamily.MEMBERS, KeyCodec.key(m.conversationId(), m.userId())));
      ops.add(delete(StoreColumnFamily.USERCONV, KeyCodec.key(m.userId(), m.conversationId())));
    }
    for (IdempotencyEntry i : write.idempotency()) {
      ops.add(
          put(
              StoreColumnFamily.IDEMPOTENCY,
              KeyCodec.key(i.conversationId(), i.userId(), i.clientMsgId()),
              RecordCodec.encodeSeq(positive(i.seq(), "idempotency seq"))));
    }
    for (ReceiptRecord r : write.receipts()) {
      ops.add(
          put(
              StoreColumnFamily.RECEIPTS,
              KeyCodec.key(r.conversationId(), r.userId()),
              RecordCodec.encodeReceipt(r)));
    }
    addNotifyOps(write, ops);
    List<Feed> feeds = new ArrayList<>(write.feedAppends().size());
    for (StoreWrite.FeedAppend f : write.feedAppends()) {
      KeyCodec.validateId(f.conversationId());
      for (String userId : f.userIds()) {
        KeyCodec.validateId(userId);
      }
      long seq = positive(f.seq(), "feed event seq");
      feeds.add(new Feed(f.userIds(), RecordCodec.encodeFeedValue(f.conversationId(), seq)));
    }
    return new PreparedWrite(List.copyOf(ops), List.copyOf(feeds), write.epoch());
  }

  /**
   * Notification records, applied after the messaging records in this order: mark clears, marks,
   * outbox removals, outbox puts, dead-letter removals, dead-letter puts, webhooks (removals then
   * puts), push targets (removals then puts), mutes. Removals before puts, so a write that moves
   * a job (retry, replay) can remove and re-put the same key.
   */
  private static void addNotifyOps(StoreWrite write, List<Op> ops) {
    byte[] marker = RecordCodec.encodeMarker();
    for (EventRef r : write.notifyClears()) {
      ops.add(
          delete(
              StoreColumnFamily.NOTIFY_PENDING,
              KeyCodec.key(r.conversationId(), positive(r.seq(), "notify seq"))));
    }
    for (EventRef r : write.notifyMarks()) {
      ops.add(
          put(
              StoreColumnFamily.NOTIFY_PENDING,
              KeyCodec.key(r.conversationId(), positive(r.seq(), "notify seq")),
              marker));
    }
    for (OutboxJob j : write.outboxRemovals()) {
      ops.add(delete(StoreColumnFamily.OUTBOX, KeyCodec.key(j.lane(), positive(j.seq(), "job"))));
    }
    for (OutboxJob j : write.outboxPuts()) {
      ops.add(
          put(
              StoreColumnFamily.OUTBOX,
              KeyCodec.key(j.lane(), positive(j.seq(), "job seq")),
              RecordCodec.encodeJob(j)));
    }
    for (String id : write.deadLetterRemovals()) {
      ops.add(delete(StoreColumnFamily.DEAD_LETTERS, KeyCodec.key(id)));
    }
    for (OutboxJob j : write.deadLetterPuts()) {
      KeyCodec.validateId(j.lane());
      ops.add(
          put(StoreColumnFamily.DEAD_LETTERS, KeyCodec.key(j.jobId()), RecordCodec.encodeJob(j)));
    }
    for (String id : write.webhookRemovals()) {
      ops.add(delete(StoreColumnFamily.WEBHOOKS, KeyCodec.key(id)));
    }
    for (WebhookRecord w : write.webhookPuts()) {
      ops.add(
          put(StoreColumnFamily.WEBHOOKS, KeyCodec.key(w.webhookId()), RecordCodec.encodeWebhook(w)));
    }
    for (PushTargetRecord t : write.pushTargetRemovals()) {
      ops.add(delete(StoreColumnFamily.PUSH_TARGETS, KeyCodec.key(t.userId(), t.targetId())));
    }
    for (PushTargetRecord t : write.pushTargetPuts()) {
      ops.add(
          put(
              StoreColumnFamily.PUSH_TARGETS,
              KeyCodec.key(t.userId(), t.targetId()),
              RecordCodec.encodePushTarget(t)));
    }
    for (StoreWrite.MuteChange m : write.muteChanges()) {
      byte[] key = KeyCodec.key(m.userId(), m.conversationId());
      ops.add(m.muted() ? put(StoreColumnFamily.MUTES, key, marker) : delete(StoreColumnFamily.MUTES, key));
    }
  }

  /** The epoch the write was built in; -1 when it does not depend on cached state. */
  long epoch() {
    return epoch;
  }

  boolean isEmpty() {
    return ops.isEmpty() && feeds.isEmpty();
  }

  /** Adds this write's operations to {@code batch}, taking each feed seq from {@code seqs}. */
  void applyTo(
      WriteBatch batch,
      Function<StoreColumnFamily, ColumnFamilyHandle> handles,
      FeedSequences seqs)
      throws RocksDBException {
    for (Op op : ops) {
      ColumnFamilyHandle cf = handles.apply(op.cf());
      if (op.value() != null) {
        batch.put(cf, op.key(), op.value());
      } else {
        batch.delete(cf, op.key());
      }
    }
    ColumnFamilyHandle feedCf = handles.apply(StoreColumnFamily.FEED);
    for (Feed f : feeds) {
      for (String userId : f.userIds()) {
        batch.put(feedCf, KeyCodec.key(userId, seqs.next(userId)), f.value());
      }
    }
  }

  private static Op put(StoreColumnFamily cf, byte[] key, byte[] value) {
    return new Op(cf, key, value);
  }

  private static Op delete(StoreColumnFamily cf, byte[] key) {
    return new Op(cf, key, null);
  }

  private static long positive(long seq, String what) {
    if (seq < 1) {
      throw new IllegalArgumentException(what + " must be positive, got " + seq);
    }
    return seq;
  }
}
