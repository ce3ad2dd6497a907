package io.parley.server;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.parley.server.store.CommitStats;
import io.parley.server.core.ProcessStats;
import java.util.concurrent.TimeUnit;

/**
 * Registers process-wide meters that belong to no single module: JVM and process metrics, and the
 * store engine's commit statistics (the store itself does not depend on Micrometer).
 */
final class ServerMetrics {
  private ServerMetrics() {}

  static void bindJvm(MeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    @SuppressWarnings("resource") // lives as long as the registry; closed with the process
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    // Micrometer has no resident-memory meter; RSS is what an operator sizes a node by (and what
    // `parley bench connections` divides by the connection count when the server is not local).
    long pid = ProcessHandle.current().pid();
    Gauge.builder("process_resident_memory_bytes", () -> ProcessStats.rssBytes(pid))
        .description("Resident set size of the server process (Linux /proc; -1 elsewhere)")
        .baseUnit("bytes")
        .register(registry);
  }

  static void bindStore(MeterRegistry registry, CommitStats store) {
    FunctionCounter.builder("parley_store_commits", store, CommitStats::commitCount)
        .description("Group commits (one fsync each) applied by the store")
        .register(registry);
    FunctionTimer.builder(
            "parley_store_commit",
            store,
            CommitStats::commitCount,
            CommitStats::commitNanos,
            TimeUnit.NANOSECONDS)
        .description("Time spent in group commits (batch write + fsync)")
        .register(registry);
    FunctionCounter.builder("parley_store_writes", store, CommitStats::writeCount)
        .description("Writes applied by the store (several per group commit)")
        .register(registry);
    FunctionCounter.builder("parley_store_failed_commits", store, CommitStats::failedCommitCount)
        .description("Group commits that failed")
        .register(registry);
    Gauge.builder("parley_store_last_batch_size", store, CommitStats::lastBatchSize)
        .description("Writes in the most recent group commit")
        .register(registry);
    Gauge.builder("parley_store_queued_writes", store, CommitStats::queuedWrites)
        .description("Writes waiting for the next group commit")
        .register(registry);
    Gauge.builder("parley_store_healthy", store, s -> s.isHealthy() ? 1 : 0)
        .description("1 when the store accepts writes")
        .register(registry);
  }
}
