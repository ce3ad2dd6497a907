import type { SendMessage, SendResult } from "./gen/parley/v1/client_pb.js";

/** Settles the promise of one `send()` call. */
export interface Waiter {
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

/** One pending message. */
export interface OutboxEntry {
  readonly message: SendMessage;
  readonly waiters: Waiter[];
  inFlight: boolean;
  /** Persisted: only durable messages are sent, so a reload can never lose an acknowledged-looking send. */
  durable: boolean;
  notBeforeMs: number;
  attempts: number;
}

/**
 * Messages accepted by `send()` and not yet acknowledged, oldest first. Each keeps its
 * `client_msg_id`, so every retry is the same request to the server and can never create a
 * duplicate. Sends to one conversation go out one at a time in order (the next only after the
 * previous was acknowledged or rejected), so a retried message cannot end up after a later one;
 * sends to different conversations proceed in parallel. A port of the Java SDK's Outbox.
 */
export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>();

  /**
   * Adds a message; a message whose `client_msg_id` is already pending gets the waiter instead.
   * Returns true if a new entry was added.
   */
  add(message: SendMessage, waiter: Waiter | null, durable: boolean): boolean {
    const existing = this.entries.get(message.clientMsgId);
    if (existing) {
      if (waiter) existing.waiters.push(waiter);
      return false;
    }
    this.entries.set(message.clientMsgId, {
      message,
      waiters: waiter ? [waiter] : [],
      inFlight: false,
      durable,
      notBeforeMs: 0,
      attempts: 0,
    });
    return true;
  }

  /** Per conversation the oldest message, if durable, idle and due; marked in flight. */
  takeSendable(nowMs: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    const heads = new Set<string>();
    for (const e of this.entries.values()) {
      if (heads.has(e.message.conversationId)) continue;
      heads.add(e.message.conversationId);
      if (!e.inFlight && e.durable && e.notBeforeMs <= nowMs) {
        e.inFlight = true;
        e.attempts++;
        out.push(e);
      }
    }
    return out;
  }

  /** The earliest retry time among heads waiting for one, or Infinity. */
  nextRetryAtMs(nowMs: number): number {
    let next = Infinity;
    const heads = new Set<string>();
    for (const e of this.entries.values()) {
      if (heads.has(e.message.conversationId)) continue;
      heads.add(e.message.conversationId);
      if (!e.inFlight && e.durable && e.notBeforeMs > nowMs) next = Math.min(next, e.notBeforeMs);
    }
    return next;
  }

  /** Removes and returns a finished (acknowledged or rejected) message. */
  remove(clientMsgId: string): OutboxEntry | undefined {
    const e = this.entries.get(clientMsgId);
    this.entries.delete(clientMsgId);
    return e;
  }

  /** The attempt failed temporarily; send again at or after `atMs`. */
  retryAt(clientMsgId: string, atMs: number): void {
    const e = this.entries.get(clientMsgId);
    if (e) {
      e.inFlight = false;
      e.notBeforeMs = atMs;
    }
  }

  /** The connection carrying the in-flight messages was lost; they go out on the next one. */
  connectionLost(): void {
    for (const e of this.entries.values()) e.inFlight = false;
  }

  markDurable(clientMsgIds: readonly string[]): void {
    for (const id of clientMsgIds) {
      const e = this.entries.get(id);
      if (e) e.durable = true;
    }
  }

  /** Every pending message, oldest first (what is persisted and what an app shows as queued). */
  messages(): SendMessage[] {
    return [...this.entries.values()].map((e) => e.message);
  }

  drain(): OutboxEntry[] {
    const out = [...this.entries.values()];
    this.entries.clear();
    return out;
  }

  get size(): number {
    return this.entries.size;
  }
}
