package io.parley.server.gateway;

import io.parley.server.auth.TokenVerifier;
import io.parley.server.delivery.DeliveryService;
import io.parley.server.messaging.ConversationService;
import io.parley.server.messaging.MessageService;
import io.parley.server.notify.ClientNotifications;
import io.parley.server.presence.PresenceService;
import io.parley.server.user.UserService;
import java.util.Objects;

/**
 * The services the gateway calls, bundled for {@link GatewayModule#create}. Immutable; the
 * services themselves are thread-safe.
 */
public record GatewayServices(
    ConversationService conversations,
    MessageService messages,
    DeliveryService delivery,
    PresenceService presence,
    UserService users,
    TokenVerifier tokens,
    ClientNotifications notifications) {
  public GatewayServices {
    Objects.requireNonNull(conversations, "conversations");
    Objects.requireNonNull(messages, "messages");
    Objects.requireNonNull(delivery, "delivery");
    Objects.requireNonNull(presence, "presence");
    Objects.requireNonNull(users, "users");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(notifications, "notifications");
  }
}
