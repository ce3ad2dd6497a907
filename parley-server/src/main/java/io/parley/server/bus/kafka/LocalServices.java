package io.parley.server.bus.kafka;

import io.parley.server.delivery.DeliveryService;
import io.parley.server.messaging.ConversationService;
import io.parley.server.messaging.EngineModule;
import io.parley.server.messaging.MessageService;
import io.parley.server.notify.ClientNotifications;
import io.parley.server.presence.PresenceService;
import io.parley.server.user.UserService;
import java.util.Objects;

/**
 * The engine's local services that {@link CommandServer} runs the gateways' calls on (the
 * services of {@link RpcMethods#SERVICES}). Immutable.
 */
public record LocalServices(
    ConversationService conversations,
    MessageService messages,
    DeliveryService delivery,
    PresenceService presence,
    UserService users,
    ClientNotifications notifications) {
  public LocalServices {
    Objects.requireNonNull(conversations, "conversations");
    Objects.requireNonNull(messages, "messages");
    Objects.requireNonNull(delivery, "delivery");
    Objects.requireNonNull(presence, "presence");
    Objects.requireNonNull(users, "users");
    Objects.requireNonNull(notifications, "notifications");
  }

  /** The services of a wired engine plus the notification service. */
  public static LocalServices of(EngineModule engine, ClientNotifications notifications) {
    return new LocalServices(
        engine.conversations(),
        engine.messages(),
        engine.delivery(),
        engine.presence(),
        engine.users(),
        notifications);
  }

  /** The implementation of one of the service interfaces. */
  public <S> S get(Class<S> service) {
    Object s;
    if (service == ConversationService.class) {
      s = conversations;
    } else if (service == MessageService.class) {
      s = messages;
    } else if (service == DeliveryService.class) {
      s = delivery;
    } else if (service == PresenceService.class) {
      s = presence;
    } else if (service == UserService.class) {
      s = users;
    } else if (service == ClientNotifications.class) {
      s = notifications;
    } else {
      throw new IllegalArgumentException("not an engine service: " + service.getName());
    }
    return service.cast(s);
  }
}
