package io.parley.client.internal;

import io.parley.protocol.v1.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * Turns the events a client receives (live pushes, sync pages, history fetches — duplicated,
 * overlapping, possibly with holes) into a per-conversation stream that contains every event
 * exactly once and in seq order.
 *
 * <p>For each conversation it keeps the last delivered seq. An event at or below it is a
 * duplicate and dropped; the next one ({@code last + 1}) is delivered together with any buffered
 * successors; an event further ahead is buffered and the hole before it becomes a {@link Gap} that
 * the caller fills from history ({@link #takeGaps()}, then {@link #fill}). At most one gap fetch
 * per conversation is outstanding.
 *
 * <p>A conversation the orderer has never seen starts at the first event offered for it (its
 * predecessors are history, not news), unless {@link #track} gave it a position first.
 *
 * <p>Pure logic, no I/O; not thread-safe (confined to the client's event loop).
 */
public final class EventOrderer {

  /**
   * Events {@code afterSeq + 1 .. beforeSeq - 1} of a conversation are missing.
   *
   * @param afterSeq the last delivered seq (the exclusive lower bound of a forward history read)
   * @param beforeSeq the lowest buffered seq
   */
  public record Gap(String conversationId, long afterSeq, long beforeSeq) {
    /** How many events are missing. */
    public long size() {
      return beforeSeq - afterSeq - 1;
    }
  }

  private static final class Position {
    long lastDelivered;
    final TreeMap<Long, Event> buffered = new TreeMap<>();
    boolean fetching;

    Position(long lastDelivered) {
      this.lastDelivered = lastDelivered;
    }
  }

  private final int maxBufferedPerConversation;
  private final Map<String, Position> positions = new HashMap<>();
  private boolean changed;

  /**
   * @param maxBufferedPerConversation events held back per conversation while a gap is open; when
   *     exceeded the newest are dropped (they come back through the gap fill or the next sync)
   */
  public EventOrderer(int maxBufferedPerConversation) {
    if (maxBufferedPerConversation < 1) {
      throw new IllegalArgumentException("maxBufferedPerConversation must be >= 1");
    }
    this.maxBufferedPerConversation = maxBufferedPerConversation;
  }

  /**
   * Sets the position of a conversation that is not tracked yet (restored state, or a sync that
   * reported the conversation without events). A tracked conversation keeps its position.
   */
  public void track(String conversationId, long lastDelivered) {
    Objects.requireNonNull(conversationId, "conversationId");
    if (lastDelivered < 0) {
      throw new IllegalArgumentException("lastDelivered must be >= 0");
    }
    if (!positions.containsKey(conversationId)) {
      positions.put(conversationId, new Position(lastDelivered));
      changed = true;
    }
  }

  /** Forgets a conversation (the user left or was removed). */
  public void forget(String conversationId) {
    if (positions.remove(conversationId) != null) {
      changed = true;
    }
  }

  /** The last delivered seq of a tracked conversation. */
  public OptionalLong lastDelivered(String conversationId) {
    Position p = positions.get(conversationId);
    return p == null ? OptionalLong.empty() : OptionalLong.of(p.lastDelivered);
  }

  /** Every tracked conversation and its last delivered seq. */
  public Map<String, Long> snapshot() {
    Map<String, Long> out = new HashMap<>(positions.size() * 2);
    positions.forEach((id, p) -> out.put(id, p.lastDelivered));
    return out;
  }

  /** True if a position moved since the last call (tells the caller to persist). */
  public boolean takeChanged() {
    boolean c = changed;
    changed = false;
    return c;
  }

  /** Offers one event; returns the events now deliverable, in order (often just this one). */
  public List<Event> offer(Event event) {
    List<Event> out = new ArrayList<>(1);
    offerInto(event, out);
    return out;
  }

  /** Offers events in the given order; returns everything deliverable, in order. */
  public List<Event> offerAll(List<Event> events) {
    List<Event> out = new ArrayList<>(events.size());
    for (Event e : events) {
      offerInto(e, out);
    }
    return out;
  }

  private void offerInto(Event event, List<Event> out) {
    String id = event.getConversationId();
    long seq = event.getSeq();
    Position p = positions.get(id);
    if (p == null) {
      p = new Position(seq - 1);
      positions.put(id, p);
    }
    if (seq <= p.lastDelivered) {
      return;
    }
    if (seq == p.lastDelivered + 1) {
      deliver(p, event, out);
      drainBuffered(p, out);
      return;
    }
    if (p.buffered.size() < maxBufferedPerConversation || seq < p.buffered.lastKey()) {
      p.buffered.putIfAbsent(seq, event);
      if (p.buffered.size() > maxBufferedPerConversation) {
        p.buffered.pollLastEntry();
      }
    }
  }

  private void deliver(Position p, Event event, List<Event> out) {
    out.add(event);
    p.lastDelivered = event.getSeq();
    changed = true;
  }

  private void drainBuffered(Position p, List<Event> out) {
    while (!p.buffered.isEmpty()) {
      long first = p.buffered.firstKey();
      if (first <= p.lastDelivered) {
        p.buffered.pollFirstEntry();
      } else if (first == p.lastDelivered + 1) {
        deliver(p, p.buffered.pollFirstEntry().getValue(), out);
      } else {
        return;
      }
    }
  }

  /**
   * Returns the open gaps that have no fetch outstanding and marks them as being fetched. The
   * caller reads each with a forward history request after {@link Gap#afterSeq()} and reports the
   * result through {@link #fill} or {@link #fillFailed}.
   */
  public List<Gap> takeGaps() {
    List<Gap> gaps = new ArrayList<>();
    positions.forEach(
        (id, p) -> {
          if (!p.fetching && !p.buffered.isEmpty()) {
            p.fetching = true;
            gaps.add(new Gap(id, p.lastDelivered, p.buffered.firstKey()));
          }
        });
    return gaps;
  }

  /** True while any conversation holds events back behind a gap. */
  public boolean hasGaps() {
    for (Position p : positions.values()) {
      if (!p.buffered.isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Reports the events the fetch of {@code gap} returned (ascending seq, as a forward history read
   * returns them) and returns what became deliverable. If the fetch made no progress although
   * nothing was delivered since it was issued, the log no longer holds the event after the last
   * delivered one; the orderer then resumes at the lowest event it holds rather than asking forever.
   * (When events were delivered meanwhile, the answer is merely stale and the gap is asked again.)
   */
  public List<Event> fill(Gap gap, List<Event> events) {
    Position p = positions.get(gap.conversationId());
    if (p == null) {
      return List.of();
    }
    p.fetching = false;
    long before = p.lastDelivered;
    List<Event> out = offerAll(events);
    boolean stale = gap.afterSeq() != before;
    if (!stale && p.lastDelivered == before && !p.buffered.isEmpty()) {
      p.lastDelivered = p.buffered.firstKey() - 1;
      changed = true;
      drainBuffered(p, out);
    }
    return out;
  }

  /** Reports that a gap fetch failed; the gap is offered again by the next {@link #takeGaps()}. */
  public void fillFailed(String conversationId) {
    Position p = positions.get(conversationId);
    if (p != null) {
      p.fetching = false;
    }
  }

  /** Forgets every outstanding gap fetch (the connection carrying them was lost). */
  public void resetFetches() {
    for (Position p : positions.values()) {
      p.fetching = false;
    }
  }
}
