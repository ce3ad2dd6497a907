package io.parley.server.gateway.session;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
      add(byUser, userId, s);
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
          add(byChannel, id, s);
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
      remove(byUser, s.userId(), s);
      for (String id : e.channels) {
        remove(byChannel, id, s);
      }
      for (String u : e.watched) {
        remove(byWatchedUser, u, s);
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
          add(byChannel, channelId, s);
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
          remove(byChannel, channelId, s);
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
        remove(byWatchedUser, u, s);
      }
      e.watched = Set.copyOf(userIds);
      for (String u : e.watched) {
        add(byWatchedUser, u, s);
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

  private static void add(Map<String, Set<Session>> index, String key, Session s) {
    index.compute(
        key,
        (k, set) -> {
          Set<Session> v = set == null ? ConcurrentHashMap.newKeySet() : set;
          v.add(s);
          return v;
        });
  }

  private static void remove(Map<String, Set<Session>> index, String key, Session s) {
    index.computeIfPresent(
        key,
        (k, set) -> {
          set.remove(s);
          return set.isEmpty() ? null : set;
        });
  }
}
