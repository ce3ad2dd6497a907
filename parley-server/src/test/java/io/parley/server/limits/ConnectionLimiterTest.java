package io.parley.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ConnectionLimiterTest {
  @Test
  void admitsUpToTheLimitPerAddressAndFreesASlotOnClose() {
    ConnectionLimiter l = new ConnectionLimiter(2);
    ConnectionLimiter.Slot a = l.tryOpen("10.0.0.1");
    ConnectionLimiter.Slot b = l.tryOpen("10.0.0.1");
    assertThat(a).isNotNull();
    assertThat(b).isNotNull();
    assertThat(l.tryOpen("10.0.0.1")).isNull();
    assertThat(l.tryOpen("10.0.0.2")).isNotNull();
    a.close();
    a.close(); // idempotent: must not free a second slot
    assertThat(l.openFrom("10.0.0.1")).isEqualTo(1);
    assertThat(l.tryOpen("10.0.0.1")).isNotNull();
    assertThat(l.tryOpen("10.0.0.1")).isNull();
  }

  @Test
  void forgetsAddressesWithoutOpenConnections() {
    ConnectionLimiter l = new ConnectionLimiter(5);
    l.tryOpen("x").close();
    assertThat(l.openFrom("x")).isZero();
  }

  @Test
  void concurrentOpensNeverExceedTheLimit() throws Exception {
    ConnectionLimiter l = new ConnectionLimiter(10);
    ConcurrentLinkedQueue<ConnectionLimiter.Slot> admitted = new ConcurrentLinkedQueue<>();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread th =
          new Thread(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 0; i < 100; i++) {
                  ConnectionLimiter.Slot s = l.tryOpen("shared");
                  if (s != null) {
                    admitted.add(s);
                  }
                }
              });
      th.start();
      threads.add(th);
    }
    go.countDown();
    for (Thread th : threads) {
      th.join();
    }
    assertThat(admitted).hasSize(10);
    assertThat(l.openFrom("shared")).isEqualTo(10);
  }
}
