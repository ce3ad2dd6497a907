package io.parley.server.store.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.resilience4j.circuitbreaker.CircuitBreaker.State;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.server.config.ParleyConfig;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.UserRecord;
import io.parley.server.store.rocksdb.RocksDbStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The breakers of {@link CircuitBreakingStore} over a real RocksDB store that can be made to fail. */
class CircuitBreakingStoreTest {
  private static final int WINDOW = 4;
  private static final Duration OPEN = Duration.ofMillis(300);

  @TempDir Path dir;
  private SwitchableFailingStore failing;
  private SimpleMeterRegistry meters;
  private CircuitBreakingStore store;

  @BeforeEach
  void open() {
    failing = new SwitchableFailingStore(RocksDbStore.open(dir, false, 64));
    meters = new SimpleMeterRegistry();
    store =
        CircuitBreakingStore.wrap(failing, new ParleyConfig.StoreBreaker(50, WINDOW, OPEN), meters);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static StoreWrite userWrite(String id) {
    return new StoreWrite().putUser(new UserRecord(id, id, "", false, 1, 1));
  }

  private Throwable writeFailure(String id) {
    CompletableFuture<Void> f;
    try {
      f = store.write(userWrite(id));
    } catch (StoreUnavailableException refused) {
      return refused;
    }
    try {
      f.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      return e.getCause();
    }
    throw new AssertionError("write " + id + " succeeded");
  }

  private void openWriteBreaker() {
    failing.failWrites.set(true);
    for (int i = 0; i < WINDOW; i++) {
      assertThat(writeFailure("w" + i)).isInstanceOf(StoreUnavailableException.class);
    }
    // Outcomes are recorded by a callback on the commit thread (see the probe test below).
    await().atMost(Duration.ofSeconds(10))
        .until(() -> store.writeBreaker().getState() == State.OPEN);
  }

  @Test
  void healthyStorePassesEverythingThrough() {
    store.write(userWrite("alice")).join();
    assertThat(store.user("alice")).map(UserRecord::userId).contains("alice");
    assertThat(store.writeBreaker().getState()).isEqualTo(State.CLOSED);
    assertThat(store.readBreaker().getState()).isEqualTo(State.CLOSED);
    assertThat(store.epoch()).isEqualTo(failing.epoch());
    assertThat(store.isHealthy()).isTrue();
  }

  @Test
  void failingWritesOpenTheWriteBreakerAndLaterWritesAreRefusedWithoutTouchingTheStore() {
    openWriteBreaker();
    int reachedStore = failing.writesReceived.get();

    assertThatThrownBy(() -> store.write(userWrite("refused")))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("store-write")
        .satisfies(
            e -> {
              long retryAfter = ((StoreUnavailableException) e).retryAfterMs();
              assertThat(retryAfter).isPositive().isLessThanOrEqualTo(OPEN.toMillis());
            });
    assertThat(failing.writesReceived.get()).isEqualTo(reachedStore);
    assertThat(CircuitBreakingStore.admitsCalls(store.writeBreaker())).isFalse();
  }

  @Test
  void readsKeepWorkingWhileOnlyWritesFail() {
    store.write(userWrite("alice")).join();
    openWriteBreaker();
    assertThat(store.user("alice")).isPresent();
    assertThat(store.readBreaker().getState()).isEqualTo(State.CLOSED);
  }

  @Test
  void failingReadsOpenTheReadBreakerOnly() {
    failing.failReads.set(true);
    for (int i = 0; i < WINDOW; i++) {
      assertThatThrownBy(() -> store.user("alice")).isInstanceOf(StoreUnavailableException.class);
    }
    assertThat(store.readBreaker().getState()).isEqualTo(State.OPEN);
    int reachedStore = failing.readsReceived.get();
    assertThatThrownBy(() -> store.users("", 10))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("store-read");
    assertThat(failing.readsReceived.get()).isEqualTo(reachedStore);
    store.write(userWrite("bob")).join();
    assertThat(store.writeBreaker().getState()).isEqualTo(State.CLOSED);
  }

  @Test
  void breakerProbesByItselfAndClosesWhenTheStoreRecovers() {
    openWriteBreaker();
    failing.failWrites.set(false);

    await().atMost(Duration.ofSeconds(10))
        .until(() -> store.writeBreaker().getState() == State.HALF_OPEN);
    assertThat(CircuitBreakingStore.admitsCalls(store.writeBreaker())).isTrue();
    for (int i = 0; i < 3; i++) {
      store.write(userWrite("probe" + i)).join();
    }
    // The breaker records an outcome in a callback on the store's commit thread, which may run
    // just after join() has returned here.
    await().atMost(Duration.ofSeconds(10))
        .until(() -> store.writeBreaker().getState() == State.CLOSED);
    assertThat(store.user("probe2")).isPresent();
  }

  @Test
  void failedProbesOpenTheBreakerAgain() {
    openWriteBreaker();
    await().atMost(Duration.ofSeconds(10))
        .until(() -> store.writeBreaker().getState() == State.HALF_OPEN);
    for (int i = 0; i < 3; i++) {
      assertThat(writeFailure("probe" + i)).isInstanceOf(StoreUnavailableException.class);
    }
    assertThat(store.writeBreaker().getState()).isEqualTo(State.OPEN);
  }

  @Test
  void failuresThatAreNotStoreOutagesDoNotCount() {
    // a programming error is not an outage: it must not take the node out of service
    for (int i = 0; i < WINDOW * 2; i++) {
      assertThatThrownBy(() -> store.write(null)).isInstanceOf(NullPointerException.class);
    }
    assertThat(store.writeBreaker().getState()).isEqualTo(State.CLOSED);
  }

  @Test
  void breakerStateIsPublishedAsMetrics() {
    openWriteBreaker();
    assertThat(
            meters
                .get("resilience4j.circuitbreaker.state")
                .tags("name", CircuitBreakingStore.WRITES, "state", "open")
                .gauge()
                .value())
        .isEqualTo(1.0);
    assertThat(
            meters
                .get("resilience4j.circuitbreaker.state")
                .tags("name", CircuitBreakingStore.READS, "state", "closed")
                .gauge()
                .value())
        .isEqualTo(1.0);
    assertThatThrownBy(() -> store.write(userWrite("refused")))
        .isInstanceOf(StoreUnavailableException.class);
    assertThat(
            meters
                .get("resilience4j.circuitbreaker.not.permitted.calls")
                .tags("name", CircuitBreakingStore.WRITES)
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  @Test
  void writeFailureFromTheFutureIsNotWrappedForCallers() {
    failing.failWrites.set(true);
    CompletableFuture<Void> f = store.write(userWrite("x"));
    assertThatThrownBy(f::join)
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(StoreUnavailableException.class);
  }
}
