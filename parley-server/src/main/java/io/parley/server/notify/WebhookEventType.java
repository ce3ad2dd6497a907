package io.parley.server.notify;

import io.parley.protocol.v1.Event;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The event types a webhook can subscribe to, with their names on the wire. */
public enum WebhookEventType {
  CONVERSATION_CREATED("conversation.created"),
  MESSAGE_CREATED("message.created"),
  MESSAGE_EDITED("message.edited"),
  MESSAGE_DELETED("message.deleted"),
  REACTION_ADDED("reaction.added"),
  REACTION_REMOVED("reaction.removed"),
  MEMBER_ADDED("member.added"),
  MEMBER_REMOVED("member.removed"),
  MEMBER_ROLE_CHANGED("member.role_changed"),
  CONVERSATION_UPDATED("conversation.updated"),
  USER_DEACTIVATED("user.deactivated");

  private final String wireName;

  WebhookEventType(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  /** All wire names, in declaration order. */
  public static List<String> wireNames() {
    return Arrays.stream(values()).map(WebhookEventType::wireName).toList();
  }

  public static Optional<WebhookEventType> fromWireName(String name) {
    return Arrays.stream(values()).filter(t -> t.wireName.equals(name)).findFirst();
  }

  /** The type of a committed log event (every log event kind has one). */
  public static Optional<WebhookEventType> of(Event e) {
    return Optional.ofNullable(
        switch (e.getKindCase()) {
          case CONVERSATION_CREATED -> CONVERSATION_CREATED;
          case MESSAGE_POSTED -> MESSAGE_CREATED;
          case MESSAGE_EDITED -> MESSAGE_EDITED;
          case MESSAGE_DELETED -> MESSAGE_DELETED;
          case REACTION_ADDED -> REACTION_ADDED;
          case REACTION_REMOVED -> REACTION_REMOVED;
          case MEMBER_JOINED -> MEMBER_ADDED;
          case MEMBER_LEFT -> MEMBER_REMOVED;
          case MEMBER_ROLE_CHANGED -> MEMBER_ROLE_CHANGED;
          case CONVERSATION_UPDATED -> CONVERSATION_UPDATED;
          case KIND_NOT_SET -> null;
        });
  }
}
