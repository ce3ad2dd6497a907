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
import java.util.function.Predicate;

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
 * <p>In a cluster the engine does not count sessions itself: whether a user is connected comes
 * from the gateways' routing declarations ({@link ConnectedUsers}), which survive a change of
 * engine and drop a crashed gateway's users; connects and disconnects then only move {@code
 * last_seen_ms}, and the status is re-evaluated whenever the source reports a change.
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
  private final ConnectedUsers connected;
  private final Predicate<String> announces;

  /**
   * @param reads executor for the blocking membership reads of typing
   * @param maxMembers the group size limit, bounding a typing notice's recipients
   */
  public PresenceServiceImpl(
      ParleyStore store, EventBus bus, Clock clock, Executor reads, int maxMembers) {
    this(store, bus, clock, reads, maxMembers, null, userId -> true);
  }

  /**
   * @param connected where connectivity comes from in a cluster, or null to count this process's
   *     own connects and disconnects; call {@link #follow()} once constructed
   * @param announces the users whose notices this engine publishes: in a cluster, those of the
   *     shards it owns (every engine follows every user's connectivity, one announces it)
   */
  public PresenceServiceImpl(
      ParleyStore store,
      EventBus bus,
      Clock clock,
      Executor reads,
      int maxMembers,
      ConnectedUsers connected,
      Predicate<String> announces) {
    this.connected = connected;
    this.announces = Objects.requireNonNull(announces, "announces");
    this.store = Objects.requireNonNull(store, "store");
    this.bus = Objects.requireNonNull(bus, "bus");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.reads = Objects.requireNonNull(reads, "reads");
    this.maxMembers = Math.max(1, maxMembers);
  }

  /** Starts following the {@link ConnectedUsers} source given to the constructor, if any. */
  public void follow() {
    if (connected != null) {
      connected.setListener(this::connectivityChanged);
    }
  }

  /** One user's sessions and chosen status; guarded by its own monitor. */
  private static final class UserPresence {
    private final Map<String, Integer> sessionsByDevice = new HashMap<>();
    private int sessions;
    private PresenceStatus chosen = PresenceStatus.PRESENCE_STATUS_ONLINE;
    private PresenceStatus published = PresenceStatus.PRESENCE_STATUS_OFFLINE;
    private long lastSeenMs;
  }

  private PresenceStatus effective(String userId, UserPresence p) {
    boolean online = connected != null ? connected.isConnected(userId) : p.sessions > 0;
    return online ? p.chosen : PresenceStatus.PRESENCE_STATUS_OFFLINE;
  }

  /** The source saw a user's first session appear or last one go (cluster mode). */
  private void connectivityChanged(String userId, boolean online) {
    UserPresence p = users.computeIfAbsent(userId, k -> new UserPresence());
    synchronized (p) {
      if (!online) {
        p.chosen = PresenceStatus.PRESENCE_STATUS_ONLINE;
      }
      p.lastSeenMs = clock.millis();
      publishIfChanged(userId, p);
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
            p.chosen = status;
            p.lastSeenMs = clock.millis();
            publishIfChanged(me, p);
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
      if (p == null && connected != null && connected.isConnected(id)) {
        b.setStatus(PresenceStatus.PRESENCE_STATUS_ONLINE).setLastSeenMs(now);
      } else if (p == null) {
        b.setStatus(PresenceStatus.PRESENCE_STATUS_OFFLINE);
      } else {
        synchronized (p) {
          PresenceStatus s = effective(id, p);
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
      p.sessionsByDevice.merge(deviceId, 1, Integer::sum);
      p.sessions++;
      p.lastSeenMs = clock.millis();
      publishIfChanged(userId, p);
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
      if (n == 1) {
        p.sessionsByDevice.remove(deviceId);
      } else {
        p.sessionsByDevice.put(deviceId, n - 1);
      }
      p.sessions--;
      p.lastSeenMs = clock.millis();
      if (p.sessions == 0 && connected == null) {
        p.chosen = PresenceStatus.PRESENCE_STATUS_ONLINE;
      }
      publishIfChanged(userId, p);
    }
  }

  /**
   * Publishes the effective status if it differs from the last one published. Called under the
   * user's lock, so one user's notices are published in order.
   */
  private void publishIfChanged(String userId, UserPresence p) {
    PresenceStatus now = effective(userId, p);
    if (now != p.published) {
      p.published = now;
      if (announces.test(userId)) {
        bus.publish(new BusMessage.Presence(userId, now, p.lastSeenMs));
      }
    }
  }
}
