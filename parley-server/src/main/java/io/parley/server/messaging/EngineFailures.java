package io.parley.server.messaging;

import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.ParleyException;
import io.parley.server.store.StoreUnavailableException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps every failure that leaves the engine onto a typed {@link ParleyException}: store outages
 * become a retryable {@code UNAVAILABLE}, a stopped engine {@code SHUTTING_DOWN}, anything
 * unexpected an {@code INTERNAL} error that is logged with a reference the caller can quote.
 * Stateless apart from the reference counter; thread-safe.
 */
public final class EngineFailures {
  /** Retry hint given to clients when the store cannot write. */
  public static final long STORE_RETRY_AFTER_MS = 500;

  private static final Logger log = LoggerFactory.getLogger(EngineFailures.class);
  private static final AtomicLong REFERENCES = new AtomicLong();

  private EngineFailures() {}

  /** The typed error for {@code t}, unwrapping completion layers. */
  public static ParleyException map(Throwable t) {
    Throwable cur = unwrap(t);
    if (cur instanceof ParleyException pe) {
      return pe;
    }
    if (cur instanceof StoreUnavailableException su) {
      return ParleyException.unavailable(
          "storage temporarily unavailable",
          su.retryAfterMs() > 0 ? su.retryAfterMs() : STORE_RETRY_AFTER_MS,
          cur);
    }
    if (cur instanceof RejectedExecutionException) {
      return new ParleyException(ErrorCode.SHUTTING_DOWN, "server is shutting down", 0L, cur);
    }
    long ref = REFERENCES.incrementAndGet();
    log.error("internal error ref={}", ref, cur);
    return new ParleyException(ErrorCode.INTERNAL, "internal error (ref " + ref + ")", 0L, cur);
  }

  /**
   * Runs {@code body} and returns its future with every failure (thrown or completed) mapped by
   * {@link #map}. Service methods wrap their whole body in this.
   */
  public static <T> CompletableFuture<T> guard(Supplier<CompletableFuture<T>> body) {
    CompletableFuture<T> inner;
    try {
      inner = body.get();
    } catch (Throwable t) {
      return CompletableFuture.failedFuture(map(t));
    }
    CompletableFuture<T> out = new CompletableFuture<>();
    inner.whenComplete(
        (v, e) -> {
          if (e == null) {
            out.complete(v);
          } else {
            out.completeExceptionally(map(e));
          }
        });
    return out;
  }

  static Throwable unwrap(Throwable t) {
    Throwable cur = t;
    while ((cur instanceof CompletionException || cur instanceof ExecutionException)
        && cur.getCause() != null) {
      cur = cur.getCause();
    }
    return cur;
  }
}
