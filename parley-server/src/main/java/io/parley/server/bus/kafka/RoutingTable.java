package io.parley.server.bus.kafka;

import io.parley.protocol.cluster.v1.InterestKey;
import io.parley.protocol.cluster.v1.InterestKind;
import io.parley.protocol.v1.Event;
import io.parley.server.bus.BusMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * An engine's view of the interest topic: which gateways hold sessions of which users, which
 * gateways are subscribed to which channels and follow whose presence, when each gateway and
 * engine was last heard from, and so which gateways a {@link BusMessage} must reach.
 *
 * <p>Channel events are also routed to the gateways of the users a batch adds or removes (their
 * gateways learn of the membership change from the events themselves, as in single-process mode),
 * and the engine then keeps routing that channel to those gateways until the gateway's own channel
 * record arrives: the join and the channel's next event are published by the same engine, while the
 * gateway's record is still on its way.
 *
 * <p>Thread-safe (one lock: lookups are map reads, far cheaper than the Kafka send they precede).
 */
final class RoutingTable {
  private final Map<String, Set<String>> users = new HashMap<>();
  private final Map<String, Set<String>> channels = new HashMap<>();
  private final Map<String, Set<String>> presence = new HashMap<>();
  private final Map<String, Set<String>> joinedChannels = new HashMap<>();
  private final Map<String, Set<InterestKey>> keysByGateway = new HashMap<>();
  private final Map<String, Long> gatewaySeenMs = new HashMap<>();
  private final Map<String, Long> engineSeenMs = new HashMap<>();
  /** Users whose first gateway appeared (true) or last gateway went (false), oldest first. */
  private final List<Map.Entry<String, Boolean>> userChanges = new ArrayList<>();

  /**
   * Applies one interest-topic record ({@code present} false for a tombstone), heard at {@code
   * nowMs} on this engine's clock.
   */
  synchronized void apply(InterestKey key, boolean present, long nowMs) {
    String node = key.getNodeId();
    switch (key.getKind()) {
      case INTEREST_KIND_ENGINE_ALIVE -> {
        if (present) {
          engineSeenMs.put(node, nowMs);
        } else {
          engineSeenMs.remove(node);
        }
      }
      case INTEREST_KIND_GATEWAY_ALIVE -> {
        if (present) {
          gatewaySeenMs.put(node, nowMs);
        } else {
          forgetGateway(node);
        }
      }
      case INTEREST_KIND_USER, INTEREST_KIND_CHANNEL, INTEREST_KIND_PRESENCE -> {
        Map<String, Set<String>> index = index(key.getKind());
        if (present) {
          gatewaySeenMs.put(node, nowMs);
          if (key.getKind() == InterestKind.INTEREST_KIND_USER && !users.containsKey(key.getId())) {
            userChanges.add(Map.entry(key.getId(), true));
          }
          index.computeIfAbsent(key.getId(), k -> new HashSet<>()).add(node);
          keysByGateway.computeIfAbsent(node, k -> new HashSet<>()).add(key);
          if (key.getKind() == InterestKind.INTEREST_KIND_CHANNEL) {
            remove(joinedChannels, key.getId(), node);
          }
        } else {
          removeInterest(key.getKind(), key.getId(), node);
          Set<InterestKey> keys = keysByGateway.get(node);
          if (keys != null) {
            keys.remove(key);
          }
        }
      }
      default -> {}
    }
  }

  /** The gateways a message must reach (no gateway twice). */
  synchronized Set<String> gatewaysFor(BusMessage message) {
    Set<String> out = new TreeSet<>();
    if (message instanceof BusMessage.CommittedEvents c) {
      if (!c.isChannel()) {
        addAll(out, users, c.recipients());
        return out;
      }
      addAll(out, channels, List.of(c.conversationId()));
      addAll(out, joinedChannels, List.of(c.conversationId()));
      for (Event e : c.events()) {
        if (e.hasMemberJoined()) {
          Set<String> gws = users.get(e.getMemberJoined().getUserId());
          if (gws != null) {
            out.addAll(gws);
            joinedChannels.computeIfAbsent(c.conversationId(), k -> new HashSet<>()).addAll(gws);
          }
        } else if (e.hasMemberLeft()) {
          addAll(out, users, List.of(e.getMemberLeft().getUserId()));
        }
      }
    } else if (message instanceof BusMessage.Typing t) {
      addAll(out, users, t.recipients());
    } else if (message instanceof BusMessage.Receipt r) {
      addAll(out, users, r.recipients());
    } else if (message instanceof BusMessage.Presence p) {
      addAll(out, presence, List.of(p.userId()));
    } else if (message instanceof BusMessage.UserDeactivated d) {
      addAll(out, users, List.of(d.userId()));
    }
    return out;
  }

  /** The engines registered in the records applied so far (sorted). */
  synchronized List<String> engines() {
    return List.copyOf(new TreeSet<>(engineSeenMs.keySet()));
  }

  /** The gateways known and not evicted (sorted). */
  synchronized List<String> gateways() {
    return List.copyOf(new TreeSet<>(gatewaySeenMs.keySet()));
  }

  /** Gateways not heard from since {@code cutoffMs}. */
  synchronized List<String> silentGateways(long cutoffMs) {
    return silent(gatewaySeenMs, cutoffMs);
  }

  /** Engines not heard from since {@code cutoffMs}. */
  synchronized List<String> silentEngines(long cutoffMs) {
    return silent(engineSeenMs, cutoffMs);
  }

  /**
   * Forgets a gateway at once (this engine stops routing to it) and returns the interest keys it
   * had, which the caller tombstones.
   */
  synchronized List<InterestKey> evictGateway(String gatewayId) {
    List<InterestKey> keys = new ArrayList<>(keysByGateway.getOrDefault(gatewayId, Set.of()));
    forgetGateway(gatewayId);
    return keys;
  }

  private void forgetGateway(String node) {
    gatewaySeenMs.remove(node);
    Set<InterestKey> keys = keysByGateway.remove(node);
    if (keys != null) {
      for (InterestKey k : keys) {
        removeInterest(k.getKind(), k.getId(), node);
      }
    }
    joinedChannels.values().removeIf(gws -> gws.remove(node) && gws.isEmpty());
  }

  /** True while some gateway declared a session of the user. */
  synchronized boolean hasUser(String userId) {
    return users.containsKey(userId);
  }

  /** The users whose connectivity changed since the last call, oldest first. */
  synchronized List<Map.Entry<String, Boolean>> drainUserChanges() {
    if (userChanges.isEmpty()) {
      return List.of();
    }
    List<Map.Entry<String, Boolean>> out = List.copyOf(userChanges);
    userChanges.clear();
    return out;
  }

  private void removeInterest(InterestKind kind, String id, String node) {
    if (remove(index(kind), id, node) && kind == InterestKind.INTEREST_KIND_USER) {
      userChanges.add(Map.entry(id, false));
    }
  }

  private Map<String, Set<String>> index(InterestKind kind) {
    return switch (kind) {
      case INTEREST_KIND_USER -> users;
      case INTEREST_KIND_CHANNEL -> channels;
      case INTEREST_KIND_PRESENCE -> presence;
      default -> throw new IllegalArgumentException("not an interest kind: " + kind);
    };
  }

  private static List<String> silent(Map<String, Long> seen, long cutoffMs) {
    List<String> out = new ArrayList<>();
    seen.forEach(
        (node, at) -> {
          if (at < cutoffMs) {
            out.add(node);
          }
        });
    return out;
  }

  private static void addAll(
      Set<String> out, Map<String, Set<String>> index, Iterable<String> ids) {
    for (String id : ids) {
      Set<String> gws = index.get(id);
      if (gws != null) {
        out.addAll(gws);
      }
    }
  }

  /** Removes one gateway of an id; true when that was the id's last gateway. */
  private static boolean remove(Map<String, Set<String>> index, String id, String node) {
    Set<String> gws = index.get(id);
    if (gws != null && gws.remove(node) && gws.isEmpty()) {
      index.remove(id);
      return true;
    }
    return false;
  }
}
