package io.parley.server.notify;

import java.util.concurrent.CompletableFuture;

/**
 * Sends push notifications through one provider (FCM, APNs, Web Push, or the generic webhook
 * gateway). Implementations live in {@code notify.push}; each keeps its own circuit breaker. The
 * future never fails: errors are a {@link PushResult}. Thread-safe.
 */
public interface PushProvider {
  /** The provider name push targets register with, e.g. {@code webhook}. */
  String name();

  CompletableFuture<PushResult> send(PushMessage message);
}
