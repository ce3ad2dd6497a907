package io.parley.server.notify;

import io.parley.server.store.OutboxJob;
import java.util.concurrent.CompletableFuture;

/**
 * Executes one attempt of one kind of outbox job. Called on the notification thread; blocking
 * store reads are allowed, network I/O must be asynchronous. The future must not fail: errors are
 * a {@link JobOutcome.Failed}.
 */
public interface JobHandler {
  CompletableFuture<JobOutcome> attempt(OutboxJob job);
}
