package io.parley.server.store;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * The durable store of everything Parley keeps: users, conversations, memberships, the
 * per-conversation event logs, idempotency keys, per-user change feeds and receipts.
 *
 * <p>Writes go through {@link #write}: each {@link StoreWrite} is applied atomically and is durable
 * (fsynced) when its future completes; concurrent writes share one group commit. Futures of
 * writes complete in submission order.
 *
 * <p>Reads are synchronous and may block on I/O: call them from storage or sequencer executors,
 * never from a Netty event loop. Reads see every write whose future has completed.
 *
 * <p>The key layout of every implementation maps onto a table partitioned by conversation (or
 * user) and clustered by seq (or feed seq), so range scans by conversation and seq are cheap.
 *
 * <p>Implementations are thread-safe.
 */
public interface ParleyStore extends AutoCloseable {

  /**
   * Applies the write atomically and durably. Fails with {@link StoreUnavailableException} when the
   * store cannot write (disk full, I/O error, closed) or when {@code write.epoch()} is older than
   * {@link #epoch()}.
   */
  CompletableFuture<Void> write(StoreWrite write);

  /**
   * The current write epoch: it increases after every failed commit. State cached by a sequencer
   * before the increase may be ahead of the disk and must be reloaded.
   */
  long epoch();

  /**
   * The write epoch of the writer that commits {@code conversationId}'s writes. A store with one
   * writer has one epoch; a store whose writers are split by conversation shard (a cluster engine
   * that owns some shards) keeps one per shard, so a failure or a change of ownership in one shard
   * makes the sequencer reload only that shard's conversations. Writes of the conversation must be
   * tagged with this epoch, not with {@link #epoch()}.
   */
  default long epoch(String conversationId) {
    return epoch();
  }

  Optional<UserRecord> user(String userId);

  Optional<ConversationRecord> conversation(String conversationId);

  Optional<MemberRecord> member(String conversationId, String userId);

  /** Members ordered by user id, strictly after {@code afterUserId} ("" = from the start). */
  List<MemberRecord> members(String conversationId, String afterUserId, int limit);

  /**
   * The conversations the user is a member of, ordered by conversation id, strictly after {@code
   * afterConversationId} ("" = from the start).
   */
  List<MemberRecord> userConversations(String userId, String afterConversationId, int limit);

  /**
   * How many conversations the user belongs to, counting no further than {@code atMost} (so the
   * cost is bounded by the limit being checked, not by the user's membership count).
   */
  default int countUserConversations(String userId, int atMost) {
    int count = 0;
    String after = "";
    while (count < atMost) {
      int page = Math.min(1000, atMost - count);
      List<MemberRecord> rows = userConversations(userId, after, page);
      count += rows.size();
      if (rows.size() < page) {
        break;
      }
      after = rows.get(rows.size() - 1).conversationId();
    }
    return count;
  }

  Optional<StoredEvent> event(String conversationId, long seq);

  /**
   * Events with {@code fromSeq <= seq <= toSeq}, at most {@code limit} of them: the lowest seqs
   * first when {@code ascending}, else the highest first.
   */
  List<StoredEvent> events(
      String conversationId, long fromSeq, long toSeq, int limit, boolean ascending);

  /** The seq created by an earlier send with this idempotency key, if any. */
  OptionalLong idempotentSeq(String conversationId, String userId, String clientMsgId);

  /**
   * How conversations map to shards in this store: a user's change feed has one part per shard
   * (fixed for the life of the store).
   */
  ConversationShards shards();

  /**
   * Entries of the user's feed of one shard with feed seq strictly greater than {@code
   * afterFeedSeq}, ascending.
   *
   * @throws IllegalArgumentException if {@code shard} is not in {@code [0, shards().count())}
   */
  List<FeedEntry> feed(String userId, int shard, long afterFeedSeq, int limit);

  /**
   * The highest feed seq of each of the user's shard feeds (index = shard, 0 for an empty feed),
   * in a new array of {@code shards().count()} elements.
   */
  long[] feedHeads(String userId);

  Optional<ReceiptRecord> receipt(String conversationId, String userId);

  /** Receipts of a conversation ordered by user id. */
  List<ReceiptRecord> receipts(String conversationId, String afterUserId, int limit);

  /** Users ordered by id, strictly after {@code afterUserId}. */
  List<UserRecord> users(String afterUserId, int limit);

  // ---- notifications (see io.parley.server.notify) ----

  /** Events marked notify-pending and not yet expanded, ordered by conversation and seq. */
  List<EventRef> notifyPending(int limit);

  /** True while the event's notify-pending mark exists. */
  boolean isNotifyPending(String conversationId, long seq);

  /**
   * The first (lowest-seq) job of each outbox lane, for lanes ordered after {@code afterLane} (""
   * = from the start), at most {@code limit} lanes.
   */
  List<OutboxJob> outboxLaneHeads(String afterLane, int limit);

  /** The jobs of one lane with seq strictly greater than {@code afterSeq}, ascending. */
  List<OutboxJob> outboxLane(String lane, long afterSeq, int limit);

  Optional<OutboxJob> deadLetter(String jobId);

  /** Dead letters ordered by job id, strictly after {@code afterJobId} ("" = from the start). */
  List<OutboxJob> deadLetters(String afterJobId, int limit);

  Optional<WebhookRecord> webhook(String webhookId);

  /** Webhooks ordered by id, strictly after {@code afterWebhookId}. */
  List<WebhookRecord> webhooks(String afterWebhookId, int limit);

  Optional<PushTargetRecord> pushTarget(String userId, String targetId);

  /** The user's push targets ordered by target id. */
  List<PushTargetRecord> pushTargets(String userId, int limit);

  /** True when the user muted the conversation's push notifications. */
  boolean isMuted(String userId, String conversationId);

  /** True when the store accepts writes (used by {@code /readyz}). */
  boolean isHealthy();

  @Override
  void close();
}
