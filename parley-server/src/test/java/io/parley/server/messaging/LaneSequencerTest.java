package io.parley.server.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.server.core.ParleyException;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.rocksdb.RocksDbStore;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LaneSequencerTest {
  @TempDir Path dir;
  RocksDbStore store;

  @BeforeEach
  void open() {
    store = RocksDbStore.open(dir, false, 64);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  @Test
  void commandsOfOneConversationRunInSubmissionOrderOnOneThread() throws Exception {
    try (LaneSequencer seq = LaneSequencer.create(store, 3)) {
      List<Integer> order = new ArrayList<>();
      List<String> threads = new ArrayList<>();
      List<CompletableFuture<Integer>> all = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        int n = i;
        all.add(seq.submit("conv-a", lane -> {
          order.add(n);
          threads.add(Thread.currentThread().getName());
          return CompletableFuture.completedFuture(n);
        }));
      }
      for (CompletableFuture<Integer> f : all) {
        get(f);
      }
      assertThat(order).isSorted().hasSize(500);
      assertThat(threads).containsOnly(threads.get(0));
      assertThat(threads.get(0)).startsWith("parley-lane-");
    }
  }

  @Test
  void overloadedLaneRejectsWithRetryableUnavailable() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (LaneSequencer seq = new LaneSequencer(store, 1, 10, 1, 5_000)) {
      CompletableFuture<Void> blocker = seq.submit("c", lane -> {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return CompletableFuture.completedFuture(null);
      });
      // wait until the blocker runs, so exactly one command can queue behind it
      while (true) {
        CompletableFuture<Void> probe = seq.submit("c", lane -> CompletableFuture.completedFuture(null));
        if (probe.isCompletedExceptionally()) {
          ParleyException e = unwrap(probe);
          assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
          assertThat(e.retryAfterMs()).isPositive();
          break;
        }
        Thread.onSpinWait();
      }
      release.countDown();
      get(blocker);
    }
  }

  @Test
  void closeFinishesQueuedCommandsThenRefusesNewOnes() throws Exception {
    LaneSequencer seq = LaneSequencer.create(store, 2);
    List<CompletableFuture<Integer>> queued = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      int n = i;
      queued.add(seq.submit("c" + (i % 7), lane -> CompletableFuture.supplyAsync(() -> n)));
    }
    seq.close();
    for (int i = 0; i < queued.size(); i++) {
      assertThat(queued.get(i)).isCompletedWithValue(i);
    }
    assertThat(unwrap(seq.submit("c1", lane -> CompletableFuture.completedFuture(1))).code())
        .isEqualTo(ErrorCode.SHUTTING_DOWN);
  }

  @Test
  void commandFailingWithAnOpenChangeDiscardsTheState() throws Exception {
    try (LaneSequencer seq = LaneSequencer.create(store, 1)) {
      ConversationState[] seen = new ConversationState[2];
      CompletableFuture<Void> broken = seq.submit("g_x", lane -> {
        ConversationState s = lane.state("g_x");
        seen[0] = s;
        StateChange ch = s.change(Clock.systemUTC());
        ch.create(new ConversationRecord("g_x", ConversationKind.CONVERSATION_KIND_GROUP,
            ConversationMetadata.getDefaultInstance(), false,
            ReceiptVisibility.RECEIPT_VISIBILITY_MEMBERS, 0, 0, 0, 0, 0));
        throw new IllegalStateException("bug after mutating");
      });
      assertThatThrownBy(() -> get(broken)).isInstanceOf(ExecutionException.class);
      get(seq.submit("g_x", lane -> {
        seen[1] = lane.state("g_x");
        return CompletableFuture.completedFuture(null);
      }));
      assertThat(seen[1]).isNotSameAs(seen[0]);
      assertThat(seen[1].exists()).as("the half-made change never reached the disk").isFalse();
    }
  }

  private static ParleyException unwrap(CompletableFuture<?> f) {
    try {
      f.get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected failure");
    } catch (ExecutionException e) {
      return (ParleyException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
