package io.parley.server.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.rocksdb.RocksDbStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dispatcher against a real store, with handlers scripted per attempt. */
class OutboxDispatcherTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  private RocksDbStore store;
  private ScheduledExecutorService executor;
  private OutboxDispatcher dispatcher;
  private final List<String> attempts = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() throws Exception {
    if (dispatcher != null) {
      dispatcher.stop();
    }
    if (executor != null) {
      executor.shutdownNow();
      executor.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    }
    if (store != null) {
      store.close();
    }
  }

  private void start(int maxAttempts, Function<OutboxJob, JobOutcome> script) {
    store = RocksDbStore.open(dir, false, 64);
    executor = Executors.newSingleThreadScheduledExecutor();
    JobHandler handler =
        job -> {
          attempts.add(job.lane() + "#" + job.seq() + "@" + job.attempts());
          return CompletableFuture.completedFuture(script.apply(job));
        };
    dispatcher =
        new OutboxDispatcher(
            store,
            Map.of("test", handler),
            executor,
            new RetryBackoff(Duration.ofMillis(1), Duration.ofMillis(5)),
            maxAttempts,
            Clock.systemUTC(),
            new SimpleMeterRegistry());
    dispatcher.start(5);
  }

  /** Writes jobs of one lane in one commit, in the given order. */
  private void enqueue(String lane, long... seqs) {
    StoreWrite w = new StoreWrite();
    for (long seq : seqs) {
      w.putOutboxJob(new OutboxJob(lane, seq, lane + "-" + seq, "test", "t", new byte[0], 0, 0, "", 0));
    }
    store.write(w).join();
    dispatcher.wake();
  }

  @Test
  void aLaneIsDeliveredInSeqOrderWhileItsHeadIsRetried() {
    start(100, job -> job.seq() == 1 && job.attempts() < 3 ? new JobOutcome.Failed("down", 0) : JobOutcome.Done.delivered());
    enqueue("a", 3, 1, 2);

    await().atMost(WAIT).until(() -> store.outboxLaneHeads("", 10).isEmpty());

    assertThat(attempts).containsExactly("a#1@0", "a#1@1", "a#1@2", "a#1@3", "a#2@0", "a#3@0");
  }

  @Test
  void exhaustedJobsAreDeadLetteredWithTheLastErrorAndTheLaneMovesOn() {
    start(3, job -> job.seq() == 1 ? new JobOutcome.Failed("HTTP 500 #" + job.attempts(), 0) : JobOutcome.Done.delivered());
    enqueue("a", 1, 2);

    await().atMost(WAIT).until(() -> store.outboxLaneHeads("", 10).isEmpty());

    OutboxJob dead = store.deadLetter("a-1").orElseThrow();
    assertThat(dead.attempts()).isEqualTo(3);
    assertThat(dead.lastError()).isEqualTo("HTTP 500 #2");
    assertThat(attempts).containsExactly("a#1@0", "a#1@1", "a#1@2", "a#2@0");
  }

  @Test
  void postponedAttemptsDoNotCountTowardsTheLimit() {
    start(
        2,
        job ->
            attempts.size() <= 5
                ? new JobOutcome.Postponed("breaker open", 0)
                : JobOutcome.Done.delivered());
    enqueue("a", 1);

    await().atMost(WAIT).until(() -> store.outboxLaneHeads("", 10).isEmpty());

    assertThat(store.deadLetters("", 10)).isEmpty();
    assertThat(attempts).hasSize(6).allMatch(a -> a.endsWith("@0"));
  }

  @Test
  void aDoneOutcomeCommitsItsExtraMutationsWithTheRemoval() {
    start(
        5,
        job ->
            job.lane().equals("fan")
                ? new JobOutcome.Done(
                    "fanned_out",
                    w ->
                        w.putOutboxJob(
                            new OutboxJob("child", 1, "child-1", "test", "t", new byte[0], 0, 0, "", 0)))
                : JobOutcome.Done.delivered());
    enqueue("fan", 1);

    await().atMost(WAIT).until(() -> attempts.contains("child#1@0"));
    await().atMost(WAIT).until(() -> store.outboxLaneHeads("", 10).isEmpty());
    assertThat(attempts).containsExactly("fan#1@0", "child#1@0");
  }
}
