/**
 * Exponential backoff with full jitter: the delay before retry `attempt` (0-based) is uniform in
 * `[0, min(cap, base * 2^attempt)]`. Full jitter spreads the reconnects of many browsers that lost
 * their connection at the same moment (a server restart) over the whole window instead of letting
 * them return in waves. Mirrors the Java SDK's FullJitterBackoff.
 */
export class FullJitterBackoff {
  constructor(
    private readonly baseMs: number,
    private readonly capMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(baseMs > 0) || capMs < baseMs) {
      throw new RangeError(`need 0 < base <= cap, got base=${baseMs} cap=${capMs}`);
    }
  }

  /** The upper bound of the delay before retry `attempt`: `min(cap, base * 2^attempt)`. */
  ceilingMs(attempt: number): number {
    if (attempt < 0) throw new RangeError("attempt must be >= 0");
    // 2^attempt overflows to Infinity for large attempts; Math.min then yields the cap.
    return Math.min(this.capMs, this.baseMs * Math.pow(2, Math.min(attempt, 1023)));
  }

  /** A random delay in `[0, ceilingMs(attempt)]`. */
  delayMs(attempt: number): number {
    const ceiling = this.ceilingMs(attempt);
    return Math.min(ceiling, Math.floor(this.random() * (ceiling + 1)));
  }
}
