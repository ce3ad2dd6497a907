package io.parley.server.core;

import io.parley.protocol.v1.ErrorCode;
import java.util.Objects;

/**
 * A typed failure of a client or admin operation: carries the wire {@link ErrorCode}, a human
 * message safe to show to the caller, and for retryable errors a retry hint. Services complete
 * their futures exceptionally with this type; the gateway and admin API map it onto the wire.
 */
public final class ParleyException extends RuntimeException {
  private final ErrorCode code;
  private final long retryAfterMs;

  public ParleyException(ErrorCode code, String message) {
    this(code, message, 0L);
  }

  public ParleyException(ErrorCode code, String message, long retryAfterMs) {
    super(Objects.requireNonNull(message, "message"), null, false, false);
    this.code = Objects.requireNonNull(code, "code");
    this.retryAfterMs = retryAfterMs;
  }

  public ParleyException(ErrorCode code, String message, long retryAfterMs, Throwable cause) {
    super(Objects.requireNonNull(message, "message"), cause, false, false);
    this.code = Objects.requireNonNull(code, "code");
    this.retryAfterMs = retryAfterMs;
  }

  public ErrorCode code() {
    return code;
  }

  public long retryAfterMs() {
    return retryAfterMs;
  }

  public static ParleyException badRequest(String message) {
    return new ParleyException(ErrorCode.BAD_REQUEST, message);
  }

  public static ParleyException notFound(String message) {
    return new ParleyException(ErrorCode.NOT_FOUND, message);
  }

  public static ParleyException forbidden(String message) {
    return new ParleyException(ErrorCode.FORBIDDEN, message);
  }

  public static ParleyException unavailable(String message, long retryAfterMs, Throwable cause) {
    return new ParleyException(ErrorCode.UNAVAILABLE, message, retryAfterMs, cause);
  }

  /**
   * Unwraps {@link java.util.concurrent.CompletionException} layers and returns the typed error,
   * or an {@code INTERNAL} error wrapping an unexpected throwable.
   */
  public static ParleyException from(Throwable t) {
    Throwable cur = t;
    while ((cur instanceof java.util.concurrent.CompletionException
            || cur instanceof java.util.concurrent.ExecutionException)
        && cur.getCause() != null) {
      cur = cur.getCause();
    }
    if (cur instanceof ParleyException pe) {
      return pe;
    }
    return new ParleyException(ErrorCode.INTERNAL, "internal error", 0L, cur);
  }
}
