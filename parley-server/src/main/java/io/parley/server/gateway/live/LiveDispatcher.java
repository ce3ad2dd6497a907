package io.parley.server.gateway.live;

import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.PresenceNotice;
import io.parley.protocol.v1.ReceiptNotice;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.TypingNotice;
import io.parley.server.bus.BusMessage;
import io.parley.server.bus.EventBus;
import io.parley.server.gateway.session.Session;
import io.parley.server.gateway.session.SessionRegistry;
import io.parley.server.gateway.ws.CloseCodes;
import io.parley.server.gateway.ws.OutboundFrame;
import java.util.Collection;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans {@link BusMessage}s out to the sessions of this gateway. Each message is wrapped in one
 * {@link OutboundFrame}, so it is encoded at most once per wire format however many sessions
 * receive it; each session then decides on its own event loop whether to write, buffer (sync seam)
 * or drop (duplicate, stalled) it.
 *
 * <ul>
 *   <li>{@code CommittedEvents} of direct and group conversations go to every session of every
 *       listed recipient.
 *   <li>{@code CommittedEvents} of channels go to the sessions in the channel-subscription index.
 *       The index is kept current from the events themselves: the sessions of a user who joins
 *       (MemberJoined) are added before delivery, so they receive their own join; the sessions of
 *       a user who leaves (MemberLeft) are removed after delivery, so they receive their own leave.
 *   <li>{@code Typing} goes to the recipients' sessions except the typing user's own.
 *   <li>{@code Receipt} goes to the recipients' sessions (including the user's other devices,
 *       which keeps read positions in sync across devices).
 *   <li>{@code Presence} goes to the sessions that subscribed to that user's presence.
 *   <li>{@code UserDeactivated} closes the user's sessions with {@link
 *       CloseCodes#USER_DEACTIVATED}.
 * </ul>
 *
 * <p>Runs on the bus's publishing thread and never blocks: sessions only enqueue. Thread-safe.
 */
public final class LiveDispatcher implements Consumer<BusMessage>, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LiveDispatcher.class);

  private final SessionRegistry registry;
  private volatile AutoCloseable subscription;

  public LiveDispatcher(SessionRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** Subscribes to the bus; {@link #close()} unsubscribes. */
  public synchronized void subscribe(EventBus bus) {
    if (subscription != null) {
      throw new IllegalStateException("already subscribed");
    }
    subscription = bus.subscribe(this);
  }

  @Override
  public void accept(BusMessage message) {
    if (message instanceof BusMessage.CommittedEvents c) {
      committed(c);
    } else if (message instanceof BusMessage.Typing t) {
      OutboundFrame f =
          OutboundFrame.of(
              ServerFrame.newBuilder()
                  .setTyping(
                      TypingNotice.newBuilder()
                          .setConversationId(t.conversationId())
                          .setUserId(t.userId())
                          .setTyping(t.typing()))
                  .build());
      for (String user : t.recipients()) {
        if (!user.equals(t.userId())) {
          ephemeral(registry.sessionsOf(user), f);
        }
      }
    } else if (message instanceof BusMessage.Receipt r) {
      OutboundFrame f =
          OutboundFrame.of(
              ServerFrame.newBuilder()
                  .setReceipt(
                      ReceiptNotice.newBuilder()
                          .setConversationId(r.conversationId())
                          .setUserId(r.userId())
                          .setKind(r.kind())
                          .setSeq(r.seq()))
                  .build());
      for (String user : r.recipients()) {
        ephemeral(registry.sessionsOf(user), f);
      }
    } else if (message instanceof BusMessage.Presence p) {
      Collection<Session> watchers = registry.presenceWatchers(p.userId());
      if (!watchers.isEmpty()) {
        ephemeral(
            watchers,
            OutboundFrame.of(
                ServerFrame.newBuilder()
                    .setPresence(
                        PresenceNotice.newBuilder()
                            .setUserId(p.userId())
                            .setStatus(p.status())
                            .setLastSeenMs(p.lastSeenMs()))
                    .build()));
      }
    } else if (message instanceof BusMessage.UserDeactivated d) {
      for (Session s : registry.sessionsOf(d.userId())) {
        s.close(CloseCodes.USER_DEACTIVATED, "user deactivated");
      }
    }
  }

  private void committed(BusMessage.CommittedEvents c) {
    if (c.events().isEmpty()) {
      return;
    }
    OutboundFrame frame = OutboundFrame.events(c.events());
    if (!c.isChannel()) {
      for (String user : c.recipients()) {
        for (Session s : registry.sessionsOf(user)) {
          s.deliverEvents(c.conversationId(), c.events(), frame);
        }
      }
      return;
    }
    for (Event e : c.events()) {
      if (e.hasMemberJoined()) {
        registry.channelJoined(c.conversationId(), e.getMemberJoined().getUserId());
      }
    }
    for (Session s : registry.channelSubscribers(c.conversationId())) {
      s.deliverEvents(c.conversationId(), c.events(), frame);
    }
    for (Event e : c.events()) {
      if (e.hasMemberLeft()) {
        registry.channelLeft(c.conversationId(), e.getMemberLeft().getUserId());
      }
    }
  }

  private static void ephemeral(Collection<Session> sessions, OutboundFrame frame) {
    for (Session s : sessions) {
      s.deliverEphemeral(frame);
    }
  }

  @Override
  public synchronized void close() {
    AutoCloseable s = subscription;
    subscription = null;
    if (s != null) {
      try {
        s.close();
      } catch (Exception e) {
        log.warn("unsubscribing from the bus failed", e);
      }
    }
  }
}
