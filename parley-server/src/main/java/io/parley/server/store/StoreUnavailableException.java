package io.parley.server.store;

/**
 * The store could not apply a write or serve a read: disk full, I/O error, closed, or a write
 * built on state from an older epoch. Callers answer clients with a retryable {@code UNAVAILABLE}.
 */
public final class StoreUnavailableException extends RuntimeException {
  private final long retryAfterMs;

  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
    this.retryAfterMs = 0;
  }

  public StoreUnavailableException(String message) {
    super(message);
    this.retryAfterMs = 0;
  }

  /**
   * A refusal that knows when the store is worth trying again (an open circuit breaker).
   *
   * @param retryAfterMs the hint for clients, {@code > 0}
   */
  public StoreUnavailableException(String message, long retryAfterMs) {
    super(message);
    if (retryAfterMs <= 0) {
      throw new IllegalArgumentException("retryAfterMs must be positive");
    }
    this.retryAfterMs = retryAfterMs;
  }

  /** When to retry, in ms; 0 when unknown (callers then use their default). */
  public long retryAfterMs() {
    return retryAfterMs;
  }
}
