package io.parley.server.messaging;

import static io.parley.server.messaging.EngineFixture.await;
import static io.parley.server.messaging.EngineFixture.failure;
import static io.parley.server.messaging.EngineFixture.message;
import static io.parley.server.messaging.EngineFixture.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.SendResult;
import io.parley.server.core.ParleyException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.server.config.ParleyConfig;
import io.parley.server.store.resilience.CircuitBreakingStore;
import io.parley.server.store.rocksdb.EngineTestStores;
import io.parley.server.store.rocksdb.RocksDbStore;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreFailureTest {
  @TempDir Path dir;

  private static String group(EngineFixture fx) {
    return await(fx.engine().conversations().createGroup(user("alice"),
            CreateGroup.newBuilder().addMemberIds("bob").build()))
        .getConversation().getId();
  }

  @Test
  void failedCommitAnswersUnavailableAndTheLogStaysGapless() {
    AtomicBoolean fail = new AtomicBoolean();
    try (EngineFixture fx =
        new EngineFixture(dir, EngineFixture.LIMITS, data -> EngineTestStores.openFailing(data, fail::get))) {
      fx.users("alice", "bob");
      String id = group(fx);
      SendResult before = fx.send("alice", id, "c1", "one");

      fail.set(true);
      List<CompletableFuture<SendResult>> doomed = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        doomed.add(fx.engine().messages().send(user("bob"), message(id, "d" + i, "lost?")));
      }
      for (CompletableFuture<SendResult> f : doomed) {
        ParleyException e = failure(f);
        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(e.retryAfterMs()).isPositive();
      }
      fail.set(false);

      SendResult after = fx.send("bob", id, "d0", "lost?");
      assertThat(after.getDuplicate()).isFalse();
      assertThat(after.getSeq()).isEqualTo(before.getSeq() + 1);
      List<Event> log = fx.log(id);
      for (int i = 0; i < log.size(); i++) {
        assertThat(log.get(i).getSeq()).isEqualTo(i + 1);
      }
      assertThat(fx.publishedEvents(id)).isEqualTo(log);
    }
  }

  @Test
  void openBreakerRefusesSendsWithoutCommittingAndTheEngineRecoversByItself() {
    AtomicBoolean fail = new AtomicBoolean();
    AtomicReference<RocksDbStore> rocks = new AtomicReference<>();
    try (EngineFixture fx =
        new EngineFixture(
            dir,
            EngineFixture.LIMITS,
            data -> {
              rocks.set(EngineTestStores.openFailing(data, fail::get));
              return CircuitBreakingStore.wrap(
                  rocks.get(),
                  new ParleyConfig.StoreBreaker(50, 4, Duration.ofMillis(500)),
                  new SimpleMeterRegistry());
            })) {
      CircuitBreakingStore store = (CircuitBreakingStore) fx.store();
      fx.users("alice", "bob");
      String id = group(fx);
      SendResult before = fx.send("alice", id, "c1", "one");

      fail.set(true);
      for (int i = 0; store.writeBreaker().getState() != CircuitBreaker.State.OPEN; i++) {
        final int sent = i;
        assertThat(sent)
            .as(
                () ->
                    "sends until the breaker opens; it is "
                        + store.writeBreaker().getState()
                        + " with "
                        + store.writeBreaker().getMetrics().getNumberOfFailedCalls()
                        + " failed of "
                        + store.writeBreaker().getMetrics().getNumberOfBufferedCalls()
                        + " buffered calls")
            .isLessThan(50);
        ParleyException e = failure(fx.engine().messages().send(user("bob"), message(id, "f" + i, "x")));
        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
      }
      long failedCommits = rocks.get().failedCommitCount();

      ParleyException refused =
          failure(fx.engine().messages().send(user("bob"), message(id, "refused", "x")));
      assertThat(refused.code()).isEqualTo(ErrorCode.UNAVAILABLE);
      assertThat(refused.retryAfterMs()).isPositive().isLessThanOrEqualTo(500);
      assertThat(rocks.get().failedCommitCount())
          .as("a refused send never reaches the disk")
          .isEqualTo(failedCommits);

      fail.set(false);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> store.writeBreaker().getState() == CircuitBreaker.State.HALF_OPEN);
      SendResult after = fx.send("bob", id, "refused", "x");
      assertThat(after.getDuplicate()).isFalse();
      assertThat(after.getSeq()).isEqualTo(before.getSeq() + 1);
      for (int i = 0; i < 3; i++) {
        fx.send("alice", id, "ok" + i, "fine");
      }
      assertThat(store.writeBreaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
      List<Event> log = fx.log(id);
      for (int i = 0; i < log.size(); i++) {
        assertThat(log.get(i).getSeq()).isEqualTo(i + 1);
      }
      assertThat(fx.publishedEvents(id)).isEqualTo(log);
    }
  }

  @Test
  void closedStoreMakesSendsUnavailableNotInternal() {
    EngineFixture fx = new EngineFixture(dir);
    try {
      fx.users("alice", "bob");
      String id = group(fx);
      fx.send("alice", id, "c1", "one");
      fx.store().close();
      assertThat(failure(fx.engine().messages().send(user("alice"), message(id, "c2", "two"))).code())
          .isEqualTo(ErrorCode.UNAVAILABLE);
      assertThat(failure(fx.engine().messages().send(user("alice"), message("g_other", "c2", "two"))).code())
          .isEqualTo(ErrorCode.UNAVAILABLE);
    } finally {
      fx.close();
    }
  }
}
