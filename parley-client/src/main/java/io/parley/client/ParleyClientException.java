package io.parley.client;

import io.parley.protocol.v1.ErrorCode;
import java.util.Objects;

/**
 * A typed failure of a client operation. Futures returned by {@link ParleyClient} complete
 * exceptionally with this type (possibly wrapped in a {@link
 * java.util.concurrent.CompletionException} by {@code join()}).
 *
 * <p>Server errors carry the protocol's {@link ErrorCode}. Failures that happen on the client side
 * use the closest code: {@link ErrorCode#UNAVAILABLE} for "not connected in time", "connection
 * lost while the request was in flight" and "client closed"; {@link ErrorCode#INTERNAL} for an
 * unexpected answer. Immutable and thread-safe.
 */
public final class ParleyClientException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;
  private final long retryAfterMs;

  public ParleyClientException(ErrorCode code, String message, long retryAfterMs) {
    this(code, message, retryAfterMs, null);
  }

  public ParleyClientException(
      ErrorCode code, String message, long retryAfterMs, Throwable cause) {
    super(Objects.requireNonNull(message, "message"), cause);
    this.code = Objects.requireNonNull(code, "code");
    this.retryAfterMs = retryAfterMs;
  }

  /** The protocol error code. */
  public ErrorCode code() {
    return code;
  }

  /** The server's retry hint in milliseconds; 0 when none was given. */
  public long retryAfterMs() {
    return retryAfterMs;
  }

  /**
   * True for errors that may succeed when retried later ({@code UNAVAILABLE}, {@code RATE_LIMITED},
   * {@code SHUTTING_DOWN}).
   */
  public boolean isRetryable() {
    return code == ErrorCode.UNAVAILABLE
        || code == ErrorCode.RATE_LIMITED
        || code == ErrorCode.SHUTTING_DOWN;
  }

  @Override
  public String toString() {
    return "ParleyClientException{" + code + ": " + getMessage()
        + (retryAfterMs > 0 ? ", retryAfterMs=" + retryAfterMs : "") + "}";
  }
}
