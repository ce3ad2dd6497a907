package io.parley.server.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.parley.protocol.v1.Role;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.ParleyStoreConformanceTest;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.StoreWrite;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

class RocksDbStoreTest extends ParleyStoreConformanceTest {
  private static final int MAX_BATCH = 64;
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dataDir;
  private final TestCommitter committer = new TestCommitter();

  @Override
  protected ParleyStore openStore() {
    return RocksDbStore.open(dataDir, true, MAX_BATCH, committer);
  }

  @Override
  protected void failNextCommit() {
    committer.failures.incrementAndGet();
  }

  private RocksDbStore rocks() {
    return (RocksDbStore) store;
  }

  // ---- group commit ----

  @Test
  void concurrentWritesShareCommits() throws Exception {
    committer.holdNextCommit();
    CompletableFuture<Void> first = store.write(new StoreWrite().putUser(user("first")));
    committer.awaitHeld();
    int writers = 4;
    int perWriter = 250;
    List<CompletableFuture<Void>> futures = Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<?>> submitted = new ArrayList<>();
      for (int t = 0; t < writers; t++) {
        int thread = t;
        submitted.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perWriter; i++) {
                    futures.add(
                        store.write(new StoreWrite().putUser(user("u-" + thread + "-" + i))));
                  }
                }));
      }
      for (Future<?> f : submitted) {
        f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    await().atMost(WAIT).until(() -> rocks().queuedWrites() == writers * perWriter);

    committer.release();
    first.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);

    int total = 1 + writers * perWriter;
    assertThat(rocks().writeCount()).isEqualTo(total);
    // One held commit, then the 1000 queued writes in full batches.
    assertThat(rocks().commitCount())
        .isEqualTo(1 + (writers * perWriter + MAX_BATCH - 1) / MAX_BATCH);
    assertThat(committer.batchSizes).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(MAX_BATCH));
    assertThat(store.users("", total + 1)).hasSize(total);
  }

  @Test
  void futuresCompleteOnTheWriterThread() throws Exception {
    AtomicReference<String> thread = new AtomicReference<>();
    committer.holdNextCommit();
    CompletableFuture<Void> f =
        store
            .write(new StoreWrite().putUser(user("alice")))
            .thenRun(() -> thread.set(Thread.currentThread().getName()));
    committer.awaitHeld();
    committer.release();

    f.get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(thread.get()).isEqualTo("parley-store-writer");
  }

  @Test
  void writeSubmittedFromACompletionCallbackCommits() throws Exception {
    CompletableFuture<Void> chained =
        store
            .write(new StoreWrite().putUser(user("alice")))
            .thenCompose(v -> store.write(new StoreWrite().putUser(user("bob"))));

    chained.get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(store.user("bob")).isPresent();
  }

  @Test
  void statsCountCommitsAndWrites() {
    commit(new StoreWrite().putUser(user("a")));
    commit(new StoreWrite().putUser(user("b")));

    assertThat(rocks().commitCount()).isEqualTo(2);
    assertThat(rocks().writeCount()).isEqualTo(2);
    assertThat(rocks().lastBatchSize()).isEqualTo(1);
    assertThat(rocks().failedCommitCount()).isZero();
    assertThat(rocks().queuedWrites()).isZero();
  }

  @Test
  void emptyWritesCompleteWithoutACommit() {
    commit(new StoreWrite());

    assertThat(rocks().commitCount()).isZero();
  }

  // ---- failures and epochs ----

  @Test
  void failedBatchFailsAllItsWritesAndRejectsStaleWritesQueuedBehindIt() throws Exception {
    store.close();
    store = RocksDbStore.open(dataDir, true, 2, committer);
    long epoch = store.epoch();
    committer.holdNextCommit();
    CompletableFuture<Void> w1 = store.write(userWithFeed("w1", 1).epoch(epoch));
    committer.awaitHeld();
    // Queued while w1 commits; with batches of 2 they commit as [w2, w3] then [w4, w5].
    CompletableFuture<Void> w2 = store.write(userWithFeed("w2", 2).epoch(epoch));
    CompletableFuture<Void> w3 = store.write(userWithFeed("w3", 3).epoch(epoch));
    CompletableFuture<Void> w4 = store.write(userWithFeed("w4", 4).epoch(epoch));
    CompletableFuture<Void> w5 = store.write(userWithFeed("w5", 5));
    failNextCommit();
    committer.release();

    w1.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    w5.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    for (CompletableFuture<Void> failed : List.of(w2, w3, w4)) {
      assertThatThrownBy(failed::join).hasCauseInstanceOf(StoreUnavailableException.class);
    }
    assertThat(store.epoch()).isEqualTo(epoch + 1);
    assertThat(rocks().failedCommitCount()).isEqualTo(1);
    assertThat(store.users("", 10)).extracting(u -> u.userId()).containsExactly("w1", "w5");
    // The failed batch's feed seqs were rolled back: w5 takes seq 2, no gap.
    assertThat(store.feed("alice", 0, 0, 10))
        .containsExactly(new FeedEntry("alice", 0, 1, "g1", 1), new FeedEntry("alice", 0, 2, "g1", 5));
    assertThat(store.feedHeads("alice")).containsExactly(2L);
  }

  @Test
  void healthIsLostByAFailedCommitAndRegainedByTheNextSuccess() {
    assertThat(store.isHealthy()).isTrue();
    failNextCommit();

    CompletableFuture<Void> failed = store.write(new StoreWrite().putUser(user("a")));

    assertThatThrownBy(failed::join).hasCauseInstanceOf(StoreUnavailableException.class);
    assertThat(store.isHealthy()).isFalse();
    commit(new StoreWrite().putUser(user("b")));
    assertThat(store.isHealthy()).isTrue();
  }

  @Test
  void staleWriteIsRejectedWithoutBeingWritten() {
    failNextCommit();
    assertThatThrownBy(store.write(new StoreWrite().putUser(user("a")))::join)
        .hasCauseInstanceOf(StoreUnavailableException.class);
    long commitsBefore = rocks().commitCount();

    CompletableFuture<Void> stale = store.write(new StoreWrite().putUser(user("b")).epoch(0));

    assertThatThrownBy(stale::join)
        .hasCauseInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("epoch");
    assertThat(rocks().commitCount()).isEqualTo(commitsBefore);
    assertThat(store.user("b")).isEmpty();
  }

  // ---- lifecycle ----

  @Test
  void closeFinishesQueuedWritesFirst() throws Exception {
    committer.holdNextCommit();
    CompletableFuture<Void> first = store.write(new StoreWrite().putUser(user("first")));
    committer.awaitHeld();
    List<CompletableFuture<Void>> queued = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      queued.add(store.write(new StoreWrite().putUser(user("queued-" + i))));
    }
    AtomicBoolean closed = new AtomicBoolean();
    Thread closer =
        new Thread(
            () -> {
              store.close();
              closed.set(true);
            });
    closer.start();
    await().atMost(WAIT).until(() -> !store.isHealthy());
    CompletableFuture<Void> late = store.write(new StoreWrite().putUser(user("late")));

    committer.release();
    closer.join(WAIT.toMillis());

    assertThat(closed).isTrue();
    first.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    CompletableFuture.allOf(queued.toArray(CompletableFuture[]::new))
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThatThrownBy(late::join).hasCauseInstanceOf(StoreUnavailableException.class);
    store = openStore();
    assertThat(store.users("", 100)).hasSize(11);
  }

  @Test
  void closedStoreRefusesWritesAndReadsAndIsUnhealthy() {
    store.close();
    store.close();

    assertThat(store.isHealthy()).isFalse();
    assertThatThrownBy(store.write(new StoreWrite().putUser(user("a")))::join)
        .hasCauseInstanceOf(StoreUnavailableException.class);
    assertThatThrownBy(() -> store.user("a")).isInstanceOf(StoreUnavailableException.class);
    assertThatThrownBy(() -> store.events("g", 0, 10, 10, false))
        .isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void secondOpenOfTheSameDirectoryFails() {
    assertThatThrownBy(() -> RocksDbStore.open(dataDir, true, MAX_BATCH))
        .isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void openCreatesMissingDirectories() {
    try (RocksDbStore nested = RocksDbStore.open(dataDir.resolve("a/b/c"), false, 8)) {
      nested.write(new StoreWrite().putUser(user("x"))).join();
      assertThat(nested.user("x")).isPresent();
    }
  }

  // ---- input validation ----

  @Test
  void invalidIdsAreRejectedBeforeAnythingIsQueued() {
    String tooLong = "x".repeat(KeyCodec.MAX_ID_BYTES + 1);
    for (String bad : List.of("", "a\0b", tooLong, "\ud800")) {
      assertThatThrownBy(() -> store.user(bad)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.write(new StoreWrite().putUser(user(bad))))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(
              () -> store.write(new StoreWrite().appendFeed(List.of("ok", bad), "g1", 1)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.members(bad, "", 10))
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(store.feedHeads("ok")).containsExactly(0L);
  }

  @Test
  void nonPositiveSeqsAndNegativeLimitsAreRejected() {
    assertThatThrownBy(() -> store.write(new StoreWrite().appendEvent(message("g1", 0, 0))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.write(new StoreWrite().appendFeed(List.of("a"), "g1", 0)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.events("g1", 0, 10, -1, true))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                store.write(
                    new StoreWrite()
                        .putMember(new MemberRecord("g1", "a", Role.UNRECOGNIZED, 0, 0))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void idsOrderByCodePointNotUtf16() {
    // U+FFFF sorts before U+1F600 by code point (and UTF-8), after it in UTF-16 (surrogates).
    String bmp = "\uffff";
    String astral = "\ud83d\ude00";
    commit(new StoreWrite().putUser(user(astral)).putUser(user(bmp)));

    assertThat(store.users("", 10)).extracting(u -> u.userId()).containsExactly(bmp, astral);
  }

  private static StoreWrite userWithFeed(String userId, long seq) {
    return new StoreWrite().putUser(user(userId)).appendFeed(List.of("alice"), "g1", seq);
  }

  /**
   * Commits through RocksDB, optionally holding one commit until released (so writes pile up
   * behind it) or making RocksDB reject chosen commits: it is given write options RocksDB refuses
   * (sync without WAL), a real {@link RocksDBException} that leaves the database untouched.
   */
  private static final class TestCommitter implements BatchCommitter {
    final AtomicInteger failures = new AtomicInteger();
    final List<Integer> batchSizes = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean holdNext = new AtomicBoolean();
    private volatile CountDownLatch held = new CountDownLatch(1);
    private volatile CountDownLatch gate = new CountDownLatch(1);

    void holdNextCommit() {
      held = new CountDownLatch(1);
      gate = new CountDownLatch(1);
      holdNext.set(true);
    }

    void awaitHeld() throws InterruptedException {
      assertThat(held.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    void release() {
      gate.countDown();
    }

    @Override
    public void commit(RocksDB db, WriteOptions options, WriteBatch batch)
        throws RocksDBException {
      // Decided on entry, so a failure requested while a commit is held hits the next one.
      boolean fail = failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
      if (holdNext.getAndSet(false)) {
        held.countDown();
        try {
          gate.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (fail) {
        try (WriteOptions invalid = new WriteOptions().setSync(true).setDisableWAL(true)) {
          db.write(invalid, batch);
        }
        throw new AssertionError("RocksDB accepted sync writes without a WAL");
      }
      batchSizes.add(batch.count());
      db.write(options, batch);
    }
  }
}
