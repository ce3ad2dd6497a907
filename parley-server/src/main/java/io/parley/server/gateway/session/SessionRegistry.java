package io.parley.server.gateway.session;

import io.parley.server.gateway.live.InterestRegistry;
import io.parley.server.gateway.live.InterestRegistry.Interest;
import io.parley.server.gateway.live.InterestRegistry.Kind;
import io.parley.server.gateway.live.LocalInterestRegistry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gateway's indexes of authenticated sessions, used by live fan-out:
 *
 * <ul>
 *   <li>user id → sessions (direct/group events, typing, receipts, deactivation);
 *   <li>channel id → sessions subscribed to it (channel events, which carry no recipient list);
 *   <li>watched user id → sessions following that user's presence.
 * </ul>
 *
 * <p>A session is added to the user index first ({@link #register}); its channel subscriptions are
 * added once they have been loaded ({@link #subscribeChannels}). A {@code MemberLeft} seen while a
 * session's channels are still loading is remembered, so the load cannot re-subscribe the session
 * to a channel it just left.
 *
 * <p>Each index tells the {@link InterestRegistry} when a key gains its first session and loses its
 * last one (under the index lock, so declarations and withdrawals reach it in order); {@link
 * #inForce} says when a session's interests are routed to this gateway.
 *
 * <p>Thread-safe. Lookups are lock-free (concurrent sets, weakly consistent iteration); mutations
 * of the channel and presence indexes, which are rare, take one lock so they stay consistent with
 * registration and removal.
 */
public final class SessionRegistry {
  private final Map<String, Set<Session>> byUser = new ConcurrentHashMap<>();
  private final Map<String, Set<Session>> byChannel = new ConcurrentHashMap<>();
  private final Map<String, Set<Session>> byWatchedUser = new ConcurrentHashMap<>();
  private final Map<Session, Entry> entries = new ConcurrentHashMap<>();
  private final Set<Session> connected = ConcurrentHashMap.newKeySet();
  private final Object indexLock = new Object();
  private final InterestRegistry interests;

  /** A registry for a single-process server ({@link LocalInterestRegistry}). */
  public SessionRegistry() {
    this(LocalInterestRegistry.INSTANCE);
  }

  /** A registry that declares this gateway's interests to {@code interests}. */
  public SessionRegistry(InterestRegistry interests) {
    this.interests = Objects.requireNonNull(interests, "interests");
  }

  private static final class Entry {
    final Set<String> channels = new HashSet<>();
    Set<String> watched = Set.of();
    Set<String> leftWhileLoading = new HashSet<>();
  }

  /** Records an open WebSocket connection (authenticated or not), for drain and shutdown. */
  public void connected(Session s) {
    connected.add(s);
  }

  /** Forgets a closed WebSocket connection. */
  public void disconnected(Session s) {
    connected.remove(s);
  }

  /** Every open WebSocket connection, authenticated or not (a snapshot). */
  public List<Session> connectedSessions() {
    return List.copyOf(connected);
  }

  /** Adds an authenticated session to the user index; its channels are marked as loading. */
  public void register(Session s) {
    tryRegister(s, Integer.MAX_VALUE);
  }

  /**
   * Adds an authenticated session to the user index unless its user already has {@code
   * maxPerUser} registered sessions ({@code limits.max_connections_per_user}); the check and the
   * addition are atomic, so concurrent logins of one user cannot overshoot.
   *
   * @return false, registering nothing, when the user is at the limit
   */
  public boolean tryRegister(Session s, int maxPerUser) {
    String userId = s.userId();
    synchronized (indexLock) {
      Set<Session> current = byUser.get(userId);
      if (current != null && !current.contains(s) && current.size() >= maxPerUser) {
        return false;
      }
      entries.put(s, new Entry());
      add(byUser, Kind.USER, userId, s);
      return true;
    }
  }

  /**
   * Subscribes a registered session to the channels loaded for its user, except those its user
   * left while they were loading. Does nothing for a session that was removed meanwhile.
   */
  public void subscribeChannels(Session s, Collection<String> channelIds) {
    synchronized (indexLock) {
      Entry e = entries.get(s);
      if (e == null) {
        return;
      }
      for (String id : channelIds) {
        if (!e.leftWhileLoading.contains(id)) {
          e.channels.add(id);
          add(byChannel, Kind.CHANNEL, id, s);
        }
      }
      e.leftWhileLoading = null;
    }
  }

  /** Removes a session from every index; idempotent. */
  public void unregister(Session s) {
    synchronized (indexLock) {
      Entry e = entries.remove(s);
      if (e == null) {
        return;
      }
      remove(byUser, Kind.USER, s.userId(), s);
      for (String id : e.channels) {
        remove(byChannel, Kind.CHANNEL, id, s);
      }
      for (String u : e.watched) {
        remove(byWatchedUser, Kind.PRESENCE, u, s);
      }
    }
  }

  /** A user joined a channel: subscribe all of the user's sessions. */
  public void channelJoined(String channelId, String userId) {
    synchronized (indexLock) {
      for (Session s : sessionsOf(userId)) {
        Entry e = entries.get(s);
        if (e != null) {
          e.channels.add(channelId);
          if (e.leftWhileLoading != null) {
            e.leftWhileLoading.remove(channelId);
          }
          add(byChannel, Kind.CHANNEL, channelId, s);
        }
      }
    }
  }

  /** A user left (or was removed from) a channel: unsubscribe all of the user's sessions. */
  public void channelLeft(String channelId, String userId) {
    synchronized (indexLock) {
      for (Session s : sessionsOf(userId)) {
        Entry e = entries.get(s);
        if (e != null) {
          e.channels.remove(channelId);
          if (e.leftWhileLoading != null) {
            e.leftWhileLoading.add(channelId);
          }
          remove(byChannel, Kind.CHANNEL, channelId, s);
        }
      }
    }
  }

  /** Replaces the set of users whose presence the session follows. */
  public void watchPresence(Session s, Set<String> userIds) {
    synchronized (indexLock) {
      Entry e = entries.get(s);
      if (e == null) {
        return;
      }
      for (String u : e.watched) {
        remove(byWatchedUser, Kind.PRESENCE, u, s);
      }
      e.watched = Set.copyOf(userIds);
      for (String u : e.watched) {
        add(byWatchedUser, Kind.PRESENCE, u, s);
      }
    }
  }

  /** The sessions of a user (a live, weakly consistent view). */
  public Collection<Session> sessionsOf(String userId) {
    Set<Session> s = byUser.get(userId);
    return s == null ? List.of() : s;
  }

  /** The sessions subscribed to a channel (a live, weakly consistent view). */
  public Collection<Session> channelSubscribers(String channelId) {
    Set<Session> s = byChannel.get(channelId);
    return s == null ? List.of() : s;
  }

  /** The sessions following a user's presence (a live, weakly consistent view). */
  public Collection<Session> presenceWatchers(String userId) {
    Set<Session> s = byWatchedUser.get(userId);
    return s == null ? List.of() : s;
  }

  /** Every registered (authenticated) session (a snapshot). */
  public List<Session> all() {
    return List.copyOf(entries.keySet());
  }

  /** The number of registered (authenticated) sessions. */
  public int size() {
    return entries.size();
  }

  /**
   * Completes when the interests of a registered session (its user, its channels, the users whose
   * presence it follows) are in force at the engines; at once for a session no longer registered.
   */
  public CompletableFuture<Void> inForce(Session s) {
    List<Interest> list = new ArrayList<>();
    synchronized (indexLock) {
      Entry e = entries.get(s);
      if (e == null) {
        return CompletableFuture.completedFuture(null);
      }
      list.add(new Interest(Kind.USER, s.userId()));
      for (String id : e.channels) {
        list.add(new Interest(Kind.CHANNEL, id));
      }
      for (String u : e.watched) {
        list.add(new Interest(Kind.PRESENCE, u));
      }
    }
    return interests.inForce(list);
  }

  /** Completes when this gateway's interest in the presence of these users is in force. */
  public CompletableFuture<Void> presenceInForce(Collection<String> userIds) {
    List<Interest> list = new ArrayList<>();
    for (String u : userIds) {
      list.add(new Interest(Kind.PRESENCE, u));
    }
    return interests.inForce(list);
  }

  private void add(Map<String, Set<Session>> index, Kind kind, String key, Session s) {
    boolean[] first = {false};
    index.compute(
        key,
        (k, set) -> {
          Set<Session> v = set == null ? ConcurrentHashMap.newKeySet() : set;
          first[0] = set == null;
          v.add(s);
          return v;
        });
    if (first[0]) {
      interests.declare(new Interest(kind, key));
    }
  }

  private void remove(Map<String, Set<Session>> index, Kind kind, String key, Session s) {
    boolean[] last = {false};
    index.computeIfPresent(
        key,
        (k, set) -> {
          set.remove(s);
          last[0] = set.isEmpty();
          return last[0] ? null : set;
        });
    if (last[0]) {
      interests.withdraw(new Interest(kind, key));
    }
  }
}
