package io.parley.server.admin;

import io.parley.server.delivery.DeliveryService;
import io.parley.server.gateway.http.HttpEndpoint;
import io.parley.server.limits.RateLimiter;
import io.parley.server.messaging.ConversationService;
import io.parley.server.messaging.MessageService;
import io.parley.server.notify.NotificationAdmin;
import io.parley.server.user.UserService;

/**
 * Wiring for the admin REST API: the composition root calls {@link #create} once and mounts the
 * returned endpoint at {@code /v1/admin/}. Stateless.
 */
public final class AdminModule {
  private AdminModule() {}

  /**
   * The admin API endpoint.
   *
   * @param adminApiKey the key every request must present as {@code Authorization: Bearer <key>};
   *     must not be blank
   * @param notifications webhooks, push targets, mutes and dead letters
   * @param minter issues client tokens for {@code POST /v1/admin/users/{id}/tokens}
   * @return a thread-safe endpoint that never blocks and whose futures never fail
   */
  public static HttpEndpoint create(
      String adminApiKey,
      UserService users,
      ConversationService conversations,
      MessageService messages,
      DeliveryService delivery,
      NotificationAdmin notifications,
      UserTokenMinter minter) {
    return create(
        adminApiKey,
        users,
        conversations,
        messages,
        delivery,
        notifications,
        minter,
        RateLimiter.unlimited());
  }

  /**
   * The admin API endpoint with rate limits ({@link io.parley.server.limits.LimitedAction#ADMIN}
   * per client address and per key).
   */
  public static HttpEndpoint create(
      String adminApiKey,
      UserService users,
      ConversationService conversations,
      MessageService messages,
      DeliveryService delivery,
      NotificationAdmin notifications,
      UserTokenMinter minter,
      RateLimiter rateLimiter) {
    return new AdminEndpoint(
        adminApiKey, users, conversations, messages, delivery, notifications, minter, rateLimiter);
  }
}
