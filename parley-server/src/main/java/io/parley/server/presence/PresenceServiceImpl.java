package io.parley.server.presence;

import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.PresenceNotice;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.SendTyping;
import io.parley.server.bus.BusMessage;
import io.parley.server.bus.EventBus;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.core.Validation;
import io.parley.server.messaging.Access;
import io.parley.server.messaging.EngineFailures;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ParleyStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * In-memory presence and typing; nothing here enters the store's log.
 *
 * <p>Presence: a user is online while at least one session is connected (sessions are counted per
 * device, so two tabs of one device count twice). While online, the user may choose {@code
 * ONLINE}, {@code AWAY} or {@code OFFLINE} (appear offline); the choice is reset to {@code
 * ONLINE} when the last session disconnects. Every change of the effective status is published
 * as {@link BusMessage.Presence}, under the user's lock so that a user's notices are published in
 * order. {@code last_seen_ms} is the time of the last connect, disconnect or status change (now,
 * for users currently online).
 *
 * <p>Typing: the caller must be a member ({@code NOT_FOUND} otherwise, as everywhere); the
 * notice goes to the other members of direct and group conversations. Channels carry no typing
 * indicators (a fan-out to every subscriber is not worth it); they are acknowledged and dropped.
 *
 * <p>Thread-safe.
 */
public final class PresenceServiceImpl implements PresenceService {
  private final ParleyStore store;
  private final EventBus bus;
  private final Clock clock;
  private final Executor reads;
  private final int maxMembers;
  private final ConcurrentHashMap<String, UserPresence> users = new ConcurrentHashMap<>();

  /**
   * @param reads executor for the blocking membership reads of typing
   * @param maxMembers the group size limit, bounding a typing notice's recipients
   */
  public PresenceServiceImpl(
      ParleyStore store, EventBus bus, Clock clock, Executor reads, int maxMembers) {
    this.store = Objects.requireNonNull(store, "store");
    this.bus = Objects.requireNonNull(bus, "bus");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.reads = Objects.requireNonNull(reads, "reads");
    this.maxMembers = Math.max(1, maxMembers);
  }

  /** One user's sessions and chosen status; guarded by its own monitor. */
  private static final class UserPresence {
    private final Map<String, Integer> sessionsByDevice = new HashMap<>();
    private int sessions;
    private PresenceStatus chosen = PresenceStatus.PRESENCE_STATUS_ONLINE;
    private long lastSeenMs;

    PresenceStatus effective() {
      return sessions == 0 ? PresenceStatus.PRESENCE_STATUS_OFFLINE : chosen;
    }
  }

  @Override
  public CompletableFuture<Ack> typing(Caller caller, SendTyping request) {
    return EngineFailures.guard(
        () -> {
          String me = Access.requireUser(caller);
          String id = Validation.requireId("conversation_id", request.getConversationId());
          return CompletableFuture.supplyAsync(
              () -> {
                Access.Visible v = Access.requireVisible(store, id, caller);
                if (v.member() == null) {
                  throw Access.conversationNotFound();
                }
                if (!Access.isChannel(v.conversation())) {
                  Set<String> recipients = new HashSet<>();
                  for (MemberRecord m : store.members(id, "", maxMembers)) {
                    if (!m.userId().equals(me)) {
                      recipients.add(m.userId());
                    }
                  }
                  if (!recipients.isEmpty()) {
                    bus.publish(new BusMessage.Typing(id, me, request.getTyping(), recipients));
                  }
                }
                return Ack.getDefaultInstance();
              },
              reads);
        });
  }

  @Override
  public CompletableFuture<Ack> setStatus(Caller caller, PresenceStatus status) {
    return EngineFailures.guard(
        () -> {
          String me = Access.requireUser(caller);
          if (status != PresenceStatus.PRESENCE_STATUS_ONLINE
              && status != PresenceStatus.PRESENCE_STATUS_AWAY
              && status != PresenceStatus.PRESENCE_STATUS_OFFLINE) {
            throw ParleyException.badRequest("status must be ONLINE, AWAY or OFFLINE");
          }
          UserPresence p = users.computeIfAbsent(me, k -> new UserPresence());
          synchronized (p) {
            PresenceStatus before = p.effective();
            p.chosen = status;
            p.lastSeenMs = clock.millis();
            publishIfChanged(me, p, before);
          }
          return CompletableFuture.completedFuture(Ack.getDefaultInstance());
        });
  }

  @Override
  public CompletableFuture<List<PresenceNotice>> current(List<String> userIds) {
    List<PresenceNotice> out = new ArrayList<>(userIds.size());
    long now = clock.millis();
    for (String id : userIds) {
      UserPresence p = users.get(id);
      PresenceNotice.Builder b = PresenceNotice.newBuilder().setUserId(id);
      if (p == null) {
        b.setStatus(PresenceStatus.PRESENCE_STATUS_OFFLINE);
      } else {
        synchronized (p) {
          PresenceStatus s = p.effective();
          b.setStatus(s)
              .setLastSeenMs(s == PresenceStatus.PRESENCE_STATUS_OFFLINE ? p.lastSeenMs : now);
        }
      }
      out.add(b.build());
    }
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public void deviceConnected(String userId, String deviceId) {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    UserPresence p = users.computeIfAbsent(userId, k -> new UserPresence());
    synchronized (p) {
      PresenceStatus before = p.effective();
      p.sessionsByDevice.merge(deviceId, 1, Integer::sum);
      p.sessions++;
      p.lastSeenMs = clock.millis();
      publishIfChanged(userId, p, before);
    }
  }

  @Override
  public void deviceDisconnected(String userId, String deviceId) {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    UserPresence p = users.get(userId);
    if (p == null) {
      return;
    }
    synchronized (p) {
      Integer n = p.sessionsByDevice.get(deviceId);
      if (n == null) {
        return; // unbalanced disconnect: nothing was counted for this device
      }
      PresenceStatus before = p.effective();
      if (n == 1) {
        p.sessionsByDevice.remove(deviceId);
      } else {
        p.sessionsByDevice.put(deviceId, n - 1);
      }
      p.sessions--;
      p.lastSeenMs = clock.millis();
      if (p.sessions == 0) {
        p.chosen = PresenceStatus.PRESENCE_STATUS_ONLINE;
      }
      publishIfChanged(userId, p, before);
    }
  }

  /** Called under the user's lock, so one user's notices are published in order. */
  private void publishIfChanged(String userId, UserPresence p, PresenceStatus before) {
    PresenceStatus after = p.effective();
    if (after != before) {
      bus.publish(new BusMessage.Presence(userId, after, p.lastSeenMs));
    }
  }
}
