package io.parley.server.notify;

import io.parley.server.store.OutboxJob;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.WebhookRecord;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the admin API and the client protocol may change about notifications: webhook endpoints,
 * the dead-letter list, push targets and per-conversation mutes. Futures fail with {@link
 * io.parley.server.core.ParleyException} (BAD_REQUEST, NOT_FOUND) or UNAVAILABLE store errors.
 * Thread-safe.
 */
public interface NotificationAdmin {

  /**
   * Adds a webhook endpoint.
   *
   * @param secret the signing secret, or null to generate one (returned in the record)
   * @param eventTypes wire names of {@link WebhookEventType}; must not be empty
   */
  CompletableFuture<WebhookRecord> createWebhook(String url, String secret, List<String> eventTypes);

  CompletableFuture<List<WebhookRecord>> webhooks();

  CompletableFuture<WebhookRecord> webhook(String webhookId);

  /** Removes the endpoint; its pending deliveries are dropped when they come due. */
  CompletableFuture<Void> deleteWebhook(String webhookId);

  CompletableFuture<List<OutboxJob>> deadLetters(String afterJobId, int limit);

  /** Moves a dead letter back into the outbox with fresh attempts, due now. */
  CompletableFuture<OutboxJob> replay(String jobId);

  /**
   * Registers (or replaces) the push target of one device of a user.
   *
   * @param provider a configured provider name (e.g. {@code webhook})
   */
  CompletableFuture<PushTargetRecord> registerPushTarget(
      String userId, String deviceId, String provider, String token);

  CompletableFuture<List<PushTargetRecord>> pushTargets(String userId);

  CompletableFuture<Void> removePushTarget(String userId, String targetId);

  /** Mutes or unmutes pushes of one conversation for one user. */
  CompletableFuture<Void> setMuted(String userId, String conversationId, boolean muted);
}
