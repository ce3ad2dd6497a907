package io.parley.server.store;

/**
 * The store could not apply a write or serve a read: disk full, I/O error, closed, or a write
 * built on state from an older epoch. Callers answer clients with a retryable {@code UNAVAILABLE}.
 */
public final class StoreUnavailableException extends RuntimeException {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  public StoreUnavailableException(String message) {
    super(message);
  }
}
