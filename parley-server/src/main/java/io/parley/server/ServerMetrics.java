package io.parley.server;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.parley.server.bus.kafka.CommandServer;
import io.parley.server.bus.kafka.KafkaDeliveryBus;
import io.parley.server.bus.kafka.KafkaInterestRegistry;
import io.parley.server.bus.kafka.KafkaRoutingBus;
import io.parley.server.bus.kafka.RemoteEngine;
import io.parley.server.store.CommitStats;
import io.parley.server.core.ProcessStats;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Registers process-wide meters that belong to no single module: JVM and process metrics, the
 * store engine's commit statistics and the cluster transport's gauges (neither the store nor
 * {@code bus.kafka} depends on Micrometer).
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

  /** The engine side of the cluster transport: calls being served, the lease, routed records. */
  static void bindEngineTransport(
      MeterRegistry registry,
      CommandServer commands,
      KafkaRoutingBus routing,
      EngineShards ownership,
      int shards) {
    Gauge.builder("parley_cluster_engine_calls_in_flight", commands, CommandServer::inFlight)
        .description("Gateway calls this engine has taken from Kafka and not answered yet")
        .register(registry);
    Gauge.builder("parley_cluster_engine_shards_owned", ownership, o -> o.ownedShards().size())
        .description("Conversation shards (command partitions) this engine sequences now")
        .register(registry);
    for (int shard = 0; shard < shards; shard++) {
      int s = shard;
      Gauge.builder(
              "parley_cluster_engine_shard_owned", ownership,
              o -> o.ownedShards().contains(s) ? 1 : 0)
          .tag("shard", String.valueOf(shard))
          .description("1 while this engine sequences the shard (which engine owns which shard)")
          .register(registry);
    }
    FunctionCounter.builder(
            "parley_cluster_routed_records", routing, KafkaRoutingBus::routedRecords)
        .description("Bus messages written to gateways' deliveries topics, one per gateway reached")
        .register(registry);
  }

  /** How long each shard-journal commit (one Kafka transaction per store batch of a shard) takes. */
  static Timer journalCommits(MeterRegistry registry) {
    return Timer.builder("parley_cluster_engine_journal_commit_seconds")
        .description("Kafka transactions that record a shard's store batch in the shard journal")
        .publishPercentiles(0.5, 0.99)
        .register(registry);
  }

  /** Whether this notify process is the one that delivers (it holds the notify lease). */
  static void bindNotifyLeader(MeterRegistry registry, BooleanSupplier leading) {
    // A lambda has no other owner: hold it strongly (gauges keep their object weakly by default).
    Gauge.builder("parley_cluster_notify_lease_held", leading, l -> l.getAsBoolean() ? 1 : 0)
        .description("1 while this process holds the notify lease and delivers the outbox")
        .strongReference(true)
        .register(registry);
  }

  /** The gateway side of the cluster transport: calls waiting for the engine, records read. */
  static void bindGatewayTransport(
      MeterRegistry registry,
      RemoteEngine remote,
      KafkaDeliveryBus deliveries,
      KafkaInterestRegistry interests) {
    Gauge.builder("parley_cluster_pending_calls", remote, RemoteEngine::pendingCalls)
        .description("Calls sent to the engine that have no answer yet")
        .register(registry);
    FunctionCounter.builder(
            "parley_cluster_delivery_records_read", deliveries, KafkaDeliveryBus::recordsRead)
        .description("Records this gateway read from its deliveries topic")
        .register(registry);
    Gauge.builder("parley_cluster_link_up", interests, i -> i.isLinked() ? 1 : 0)
        .description("1 while this gateway's heartbeats reach Kafka (its readiness check)")
        .register(registry);
  }
}
