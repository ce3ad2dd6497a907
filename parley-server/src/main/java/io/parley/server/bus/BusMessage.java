package io.parley.server.bus;

import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.ReceiptKind;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What travels on the {@link EventBus} from the engine to the gateways: committed log events, and
 * ephemeral signals (typing, presence, receipts) that never enter the log.
 */
public sealed interface BusMessage {

  /**
   * Events just committed to one conversation's log, in seq order, published only after they are
   * durable.
   *
   * @param recipients for direct and group conversations: the user ids that must receive the events
   *     (members after the commit plus members removed by it). Empty for channels: gateways route
   *     channel events by their own subscription index, which {@code MemberJoined}/{@code
   *     MemberLeft} events keep current.
   */
  record CommittedEvents(
      String conversationId, ConversationKind kind, List<Event> events, Set<String> recipients)
      implements BusMessage {
    public CommittedEvents {
      Objects.requireNonNull(conversationId, "conversationId");
      Objects.requireNonNull(kind, "kind");
      events = List.copyOf(events);
      recipients = Set.copyOf(recipients);
    }

    public boolean isChannel() {
      return kind == ConversationKind.CONVERSATION_KIND_CHANNEL;
    }
  }

  /** A member started or stopped typing; sent to the other members' sessions. */
  record Typing(
      String conversationId, String userId, boolean typing, Set<String> recipients)
      implements BusMessage {
    public Typing {
      recipients = Set.copyOf(recipients);
    }
  }

  /** A user's presence changed; sent to sessions that subscribed to that user's presence. */
  record Presence(String userId, PresenceStatus status, long lastSeenMs) implements BusMessage {}

  /** A member's delivered or read position moved; sent to the members allowed to see it. */
  record Receipt(
      String conversationId, String userId, ReceiptKind kind, long seq, Set<String> recipients)
      implements BusMessage {
    public Receipt {
      recipients = Set.copyOf(recipients);
    }
  }

  /** A user was deactivated: gateways close the user's sessions. */
  record UserDeactivated(String userId) implements BusMessage {}
}
