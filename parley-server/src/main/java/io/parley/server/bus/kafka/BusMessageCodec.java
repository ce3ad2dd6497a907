package io.parley.server.bus.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import io.parley.protocol.cluster.v1.RouteCommittedEvents;
import io.parley.protocol.cluster.v1.RouteDelivery;
import io.parley.protocol.cluster.v1.RoutePresence;
import io.parley.protocol.cluster.v1.RouteReceipt;
import io.parley.protocol.cluster.v1.RouteTyping;
import io.parley.protocol.cluster.v1.RouteUserDeactivated;
import io.parley.server.bus.BusMessage;
import java.util.Set;

/**
 * Maps {@link BusMessage}s to and from the internal {@link RouteDelivery} envelope that engines
 * write to a gateway's deliveries topic ({@code parley/cluster/v1/routing.proto}). Stateless.
 */
public final class BusMessageCodec {
  private BusMessageCodec() {}

  /** The envelope carrying a bus message. */
  public static RouteDelivery encode(BusMessage message) {
    RouteDelivery.Builder d = RouteDelivery.newBuilder();
    if (message instanceof BusMessage.CommittedEvents c) {
      d.setCommitted(
          RouteCommittedEvents.newBuilder()
              .setConversationId(c.conversationId())
              .setKind(c.kind())
              .addAllEvents(c.events())
              .addAllRecipients(c.recipients()));
    } else if (message instanceof BusMessage.Typing t) {
      d.setTyping(
          RouteTyping.newBuilder()
              .setConversationId(t.conversationId())
              .setUserId(t.userId())
              .setTyping(t.typing())
              .addAllRecipients(t.recipients()));
    } else if (message instanceof BusMessage.Presence p) {
      d.setPresence(
          RoutePresence.newBuilder()
              .setUserId(p.userId())
              .setStatus(p.status())
              .setLastSeenMs(p.lastSeenMs()));
    } else if (message instanceof BusMessage.Receipt r) {
      d.setReceipt(
          RouteReceipt.newBuilder()
              .setConversationId(r.conversationId())
              .setUserId(r.userId())
              .setKind(r.kind())
              .setSeq(r.seq())
              .addAllRecipients(r.recipients()));
    } else if (message instanceof BusMessage.UserDeactivated u) {
      d.setUserDeactivated(RouteUserDeactivated.newBuilder().setUserId(u.userId()));
    } else {
      throw new IllegalArgumentException("unknown bus message " + message.getClass());
    }
    return d.build();
  }

  /**
   * The bus message an envelope carries, or null for an envelope that carries none (an interest
   * acknowledgement or an eviction notice, which the gateway handles itself).
   */
  public static BusMessage decode(RouteDelivery d) {
    return switch (d.getBodyCase()) {
      case COMMITTED -> {
        RouteCommittedEvents c = d.getCommitted();
        yield new BusMessage.CommittedEvents(
            c.getConversationId(), c.getKind(), c.getEventsList(), Set.copyOf(c.getRecipientsList()));
      }
      case TYPING -> {
        RouteTyping t = d.getTyping();
        yield new BusMessage.Typing(
            t.getConversationId(), t.getUserId(), t.getTyping(), Set.copyOf(t.getRecipientsList()));
      }
      case PRESENCE -> {
        RoutePresence p = d.getPresence();
        yield new BusMessage.Presence(p.getUserId(), p.getStatus(), p.getLastSeenMs());
      }
      case RECEIPT -> {
        RouteReceipt r = d.getReceipt();
        yield new BusMessage.Receipt(
            r.getConversationId(),
            r.getUserId(),
            r.getKind(),
            r.getSeq(),
            Set.copyOf(r.getRecipientsList()));
      }
      case USER_DEACTIVATED -> new BusMessage.UserDeactivated(d.getUserDeactivated().getUserId());
      case INTEREST_ACK, EVICTED, BODY_NOT_SET -> null;
    };
  }

  /**
   * Parses a deliveries-topic record. Only engines of the cluster write these topics, but a
   * corrupt or foreign record must not stop the gateway's reader: it fails here, with {@link
   * IllegalArgumentException}, and the reader skips it.
   */
  public static RouteDelivery parse(byte[] bytes) {
    if (bytes == null) {
      throw new IllegalArgumentException("empty delivery record");
    }
    try {
      return RouteDelivery.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("malformed delivery record: " + e.getMessage(), e);
    }
  }
}
