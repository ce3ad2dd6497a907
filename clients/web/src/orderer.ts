import type { Event } from "./gen/parley/v1/events_pb.js";

/** Events `afterSeq + 1 .. beforeSeq - 1` of a conversation are missing. */
export interface Gap {
  readonly conversationId: string;
  /** The last delivered seq (the exclusive lower bound of a forward history read). */
  readonly afterSeq: bigint;
  /** The lowest buffered seq. */
  readonly beforeSeq: bigint;
}

interface Position {
  lastDelivered: bigint;
  /** Held back behind a hole, by seq. */
  buffered: Map<bigint, Event>;
  fetching: boolean;
}

/**
 * Turns the events a client receives (live pushes, sync pages, gap fetches — duplicated,
 * overlapping, possibly with holes) into a per-conversation stream that holds every event exactly
 * once and in seq order. A port of the Java SDK's EventOrderer, with the same rules:
 *
 * - per conversation it keeps the last delivered seq; an event at or below it is a duplicate;
 * - the next event (`last + 1`) is delivered with any buffered successors;
 * - an event further ahead is buffered and the hole before it becomes a {@link Gap} that the
 *   caller fills from history ({@link takeGaps}, then {@link fill}); one fetch per conversation;
 * - a conversation never seen starts at the first event offered for it (its predecessors are
 *   history, not news), unless {@link track} gave it a position first.
 *
 * Pure logic, no I/O.
 */
export class EventOrderer {
  private readonly positions = new Map<string, Position>();
  private changed = false;

  constructor(private readonly maxBufferedPerConversation = 10_000) {}

  /** Sets the position of a conversation that is not tracked yet; a tracked one keeps its own. */
  track(conversationId: string, lastDelivered: bigint): void {
    if (!this.positions.has(conversationId)) {
      this.positions.set(conversationId, { lastDelivered, buffered: new Map(), fetching: false });
      this.changed = true;
    }
  }

  /** Forgets a conversation (the user left or was removed). */
  forget(conversationId: string): void {
    if (this.positions.delete(conversationId)) this.changed = true;
  }

  lastDelivered(conversationId: string): bigint | undefined {
    return this.positions.get(conversationId)?.lastDelivered;
  }

  /** Every tracked conversation and its last delivered seq. */
  snapshot(): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const [id, p] of this.positions) out.set(id, p.lastDelivered);
    return out;
  }

  /** True if a position moved since the last call (tells the caller to persist). */
  takeChanged(): boolean {
    const c = this.changed;
    this.changed = false;
    return c;
  }

  /** Offers events in the given order; returns everything now deliverable, in order. */
  offerAll(events: readonly Event[]): Event[] {
    const out: Event[] = [];
    for (const e of events) this.offerInto(e, out);
    return out;
  }

  private offerInto(event: Event, out: Event[]): void {
    const id = event.conversationId;
    const seq = event.seq;
    let p = this.positions.get(id);
    if (!p) {
      p = { lastDelivered: seq - 1n, buffered: new Map(), fetching: false };
      this.positions.set(id, p);
    }
    if (seq <= p.lastDelivered) return;
    if (seq === p.lastDelivered + 1n) {
      this.deliver(p, event, out);
      this.drainBuffered(p, out);
      return;
    }
    if (!p.buffered.has(seq)) {
      if (p.buffered.size >= this.maxBufferedPerConversation) {
        // Drop the newest: it comes back through the gap fill or the next sync.
        const newest = maxKey(p.buffered);
        if (seq > newest) return;
        p.buffered.delete(newest);
      }
      p.buffered.set(seq, event);
    }
  }

  private deliver(p: Position, event: Event, out: Event[]): void {
    out.push(event);
    p.lastDelivered = event.seq;
    this.changed = true;
  }

  private drainBuffered(p: Position, out: Event[]): void {
    for (const seq of [...p.buffered.keys()].sort(compare)) {
      if (seq <= p.lastDelivered) {
        p.buffered.delete(seq);
      } else if (seq === p.lastDelivered + 1n) {
        const e = p.buffered.get(seq)!;
        p.buffered.delete(seq);
        this.deliver(p, e, out);
      } else {
        return;
      }
    }
  }

  /** The open gaps with no fetch outstanding, now marked as being fetched. */
  takeGaps(): Gap[] {
    const gaps: Gap[] = [];
    for (const [id, p] of this.positions) {
      if (!p.fetching && p.buffered.size > 0) {
        p.fetching = true;
        gaps.push({ conversationId: id, afterSeq: p.lastDelivered, beforeSeq: minKey(p.buffered) });
      }
    }
    return gaps;
  }

  /** True while any conversation holds events back behind a gap. */
  hasGaps(): boolean {
    for (const p of this.positions.values()) if (p.buffered.size > 0) return true;
    return false;
  }

  /**
   * Reports what the fetch of `gap` returned (ascending seq) and returns what became deliverable.
   * If the fetch made no progress although nothing was delivered since it was issued, the log no
   * longer holds the next event; the orderer then resumes at the lowest event it holds rather than
   * asking forever.
   */
  fill(gap: Gap, events: readonly Event[]): Event[] {
    const p = this.positions.get(gap.conversationId);
    if (!p) return [];
    p.fetching = false;
    const before = p.lastDelivered;
    const out = this.offerAll(events);
    const stale = gap.afterSeq !== before;
    if (!stale && p.lastDelivered === before && p.buffered.size > 0) {
      p.lastDelivered = minKey(p.buffered) - 1n;
      this.changed = true;
      this.drainBuffered(p, out);
    }
    return out;
  }

  /** A gap fetch failed; the gap is offered again by the next {@link takeGaps}. */
  fillFailed(conversationId: string): void {
    const p = this.positions.get(conversationId);
    if (p) p.fetching = false;
  }

  /** Forgets every outstanding gap fetch (the connection carrying them was lost). */
  resetFetches(): void {
    for (const p of this.positions.values()) p.fetching = false;
  }
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function minKey(m: Map<bigint, unknown>): bigint {
  let min: bigint | undefined;
  for (const k of m.keys()) if (min === undefined || k < min) min = k;
  return min!;
}

function maxKey(m: Map<bigint, unknown>): bigint {
  let max: bigint | undefined;
  for (const k of m.keys()) if (max === undefined || k > max) max = k;
  return max!;
}
