package io.parley.server.store.resilience;

import io.parley.server.store.ConversationRecord;
import io.parley.server.store.EventRef;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.UserRecord;
import io.parley.server.store.WebhookRecord;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Test decorator around a real store whose reads and writes can be switched to fail the way an
 * I/O error would (with {@link StoreUnavailableException}), and which counts the calls that reach
 * it, so a test can tell a call the breaker refused from one the store failed.
 */
final class SwitchableFailingStore implements ParleyStore {
  final AtomicBoolean failReads = new AtomicBoolean();
  final AtomicBoolean failWrites = new AtomicBoolean();
  final AtomicInteger readsReceived = new AtomicInteger();
  final AtomicInteger writesReceived = new AtomicInteger();
  private final ParleyStore store;

  SwitchableFailingStore(ParleyStore store) {
    this.store = store;
  }

  @Override
  public CompletableFuture<Void> write(StoreWrite write) {
    writesReceived.incrementAndGet();
    if (failWrites.get()) {
      return CompletableFuture.failedFuture(
          new StoreUnavailableException("injected write failure"));
    }
    return store.write(write);
  }

  private <T> T read(Supplier<T> call) {
    readsReceived.incrementAndGet();
    if (failReads.get()) {
      throw new StoreUnavailableException("injected read failure");
    }
    return call.get();
  }

  @Override
  public long epoch() {
    return store.epoch();
  }

  @Override
  public Optional<UserRecord> user(String userId) {
    return read(() -> store.user(userId));
  }

  @Override
  public Optional<ConversationRecord> conversation(String conversationId) {
    return read(() -> store.conversation(conversationId));
  }

  @Override
  public Optional<MemberRecord> member(String conversationId, String userId) {
    return read(() -> store.member(conversationId, userId));
  }

  @Override
  public List<MemberRecord> members(String conversationId, String afterUserId, int limit) {
    return read(() -> store.members(conversationId, afterUserId, limit));
  }

  @Override
  public List<MemberRecord> userConversations(String userId, String afterConversationId, int limit) {
    return read(() -> store.userConversations(userId, afterConversationId, limit));
  }

  @Override
  public Optional<StoredEvent> event(String conversationId, long seq) {
    return read(() -> store.event(conversationId, seq));
  }

  @Override
  public List<StoredEvent> events(
      String conversationId, long fromSeq, long toSeq, int limit, boolean ascending) {
    return read(() -> store.events(conversationId, fromSeq, toSeq, limit, ascending));
  }

  @Override
  public OptionalLong idempotentSeq(String conversationId, String userId, String clientMsgId) {
    return read(() -> store.idempotentSeq(conversationId, userId, clientMsgId));
  }

  @Override
  public ConversationShards shards() {
    return store.shards();
  }

  @Override
  public List<FeedEntry> feed(String userId, int shard, long afterFeedSeq, int limit) {
    return read(() -> store.feed(userId, shard, afterFeedSeq, limit));
  }

  @Override
  public long[] feedHeads(String userId) {
    return read(() -> store.feedHeads(userId));
  }

  @Override
  public Optional<ReceiptRecord> receipt(String conversationId, String userId) {
    return read(() -> store.receipt(conversationId, userId));
  }

  @Override
  public List<ReceiptRecord> receipts(String conversationId, String afterUserId, int limit) {
    return read(() -> store.receipts(conversationId, afterUserId, limit));
  }

  @Override
  public List<UserRecord> users(String afterUserId, int limit) {
    return read(() -> store.users(afterUserId, limit));
  }

  @Override
  public List<EventRef> notifyPending(int limit) {
    return read(() -> store.notifyPending(limit));
  }

  @Override
  public boolean isNotifyPending(String conversationId, long seq) {
    return read(() -> store.isNotifyPending(conversationId, seq));
  }

  @Override
  public List<OutboxJob> outboxLaneHeads(String afterLane, int limit) {
    return read(() -> store.outboxLaneHeads(afterLane, limit));
  }

  @Override
  public List<OutboxJob> outboxLane(String lane, long afterSeq, int limit) {
    return read(() -> store.outboxLane(lane, afterSeq, limit));
  }

  @Override
  public Optional<OutboxJob> deadLetter(String jobId) {
    return read(() -> store.deadLetter(jobId));
  }

  @Override
  public List<OutboxJob> deadLetters(String afterJobId, int limit) {
    return read(() -> store.deadLetters(afterJobId, limit));
  }

  @Override
  public Optional<WebhookRecord> webhook(String webhookId) {
    return read(() -> store.webhook(webhookId));
  }

  @Override
  public List<WebhookRecord> webhooks(String afterWebhookId, int limit) {
    return read(() -> store.webhooks(afterWebhookId, limit));
  }

  @Override
  public Optional<PushTargetRecord> pushTarget(String userId, String targetId) {
    return read(() -> store.pushTarget(userId, targetId));
  }

  @Override
  public List<PushTargetRecord> pushTargets(String userId, int limit) {
    return read(() -> store.pushTargets(userId, limit));
  }

  @Override
  public boolean isMuted(String userId, String conversationId) {
    return read(() -> store.isMuted(userId, conversationId));
  }

  @Override
  public boolean isHealthy() {
    return store.isHealthy();
  }

  @Override
  public void close() {
    store.close();
  }
}
