package io.parley.server.notify;

import io.parley.server.store.StoreWrite;
import java.util.function.Consumer;

/** What happened to one attempt of an outbox job; the dispatcher turns it into a store write. */
public sealed interface JobOutcome {

  /**
   * The job is done (delivered, or nothing to send). {@code alsoWrite} adds mutations committed
   * atomically with the job's removal (e.g. the push jobs a fan-out created, a removed target).
   */
  record Done(String note, Consumer<StoreWrite> alsoWrite) implements JobOutcome {
    public static Done delivered() {
      return new Done("delivered", w -> {});
    }
  }

  /**
   * The attempt failed: retried with backoff, or dead-lettered when attempts are exhausted.
   *
   * @param retryAfterMs a delay the receiver asked for (Retry-After), or 0
   */
  record Failed(String error, long retryAfterMs) implements JobOutcome {}

  /**
   * Not attempted (circuit breaker open): retried at {@code atMs} without counting an attempt, so
   * an outage cannot exhaust the attempts of waiting jobs.
   */
  record Postponed(String reason, long atMs) implements JobOutcome {}

  /** A failure no retry can fix (e.g. a malformed job): dead-lettered at once. */
  record Permanent(String error) implements JobOutcome {}
}
