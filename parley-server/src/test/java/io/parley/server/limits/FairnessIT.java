package io.parley.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/**
 * One client floods sends at full speed while a well-behaved client sends 10 per second into the
 * same conversation (same lane, same address). The rate limit must absorb the flood cheaply: every
 * well-behaved send succeeds with a p99 acknowledgement latency under a generous ceiling, and the
 * flooder gets {@code RATE_LIMITED} for everything beyond its bucket.
 */
class FairnessIT {
  private static final int WINDOW = 32; // below max_inflight_per_connection: refusals come from the rate limit
  private static final int POLITE_SENDS = 30;
  private static final long POLITE_INTERVAL_MS = 100;
  private static final long P99_CEILING_MS = 1000;

  private static SendMessage message(String conversationId, String text) {
    return SendMessage.newBuilder()
        .setConversationId(conversationId)
        .setClientMsgId(UUID.randomUUID().toString())
        .setContentType("text/plain")
        .setBody(ByteString.copyFromUtf8(text))
        .build();
  }

  @Test
  void aFlooderIsRateLimitedWhileAWellBehavedClientKeepsFastAcks() throws Exception {
    try (TestServer server =
            TestServer.start(
                Map.of(
                    "PARLEY_RATE_LIMITS_SEND_PER_USER", "20/1s",
                    // Both clients share 127.0.0.1; the per-address limit is not under test here.
                    "PARLEY_RATE_LIMITS_SEND_PER_IP", "off"));
        WsTestClient polite = WsTestClient.authenticated(server.port(), server.token("polite"), "phone");
        WsTestClient flooder = WsTestClient.authenticated(server.port(), server.token("flooder"), "bot")) {
      String group =
          polite
              .call(f -> f.setCreateGroup(CreateGroup.newBuilder().addMemberIds("flooder")))
              .getConversation()
              .getConversation()
              .getId();

      AtomicBoolean flooding = new AtomicBoolean(true);
      AtomicInteger accepted = new AtomicInteger();
      AtomicInteger limited = new AtomicInteger();
      AtomicInteger other = new AtomicInteger();
      Semaphore window = new Semaphore(WINDOW);
      long floodStart = System.nanoTime();
      Thread flood =
          new Thread(
              () -> {
                while (flooding.get()) {
                  try {
                    window.acquire();
                  } catch (InterruptedException e) {
                    return;
                  }
                  flooder
                      .send(f -> f.setSendMessage(message(group, "spam")))
                      .whenComplete(
                          (r, err) -> {
                            if (err == null && r.hasSendResult()) {
                              accepted.incrementAndGet();
                            } else if (err == null && r.getError().getCode() == ErrorCode.RATE_LIMITED) {
                              limited.incrementAndGet();
                            } else {
                              other.incrementAndGet();
                            }
                            window.release();
                          });
                }
              },
              "flooder");
      flood.start();
      while (limited.get() == 0 && System.nanoTime() - floodStart < TimeUnit.SECONDS.toNanos(10)) {
        Thread.sleep(10);
      }

      Histogram ackMs = new Histogram(60_000, 3);
      int politeOk = 0;
      long next = System.nanoTime();
      for (int i = 0; i < POLITE_SENDS; i++) {
        int n = i;
        long t0 = System.nanoTime();
        ServerFrame r = polite.call(f -> f.setSendMessage(message(group, "polite " + n)));
        ackMs.recordValue(Math.max(0, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)));
        assertThat(r.hasSendResult()).as("polite send %d: %s", i, r).isTrue();
        politeOk++;
        next += TimeUnit.MILLISECONDS.toNanos(POLITE_INTERVAL_MS);
        long sleep = next - System.nanoTime();
        if (sleep > 0) {
          TimeUnit.NANOSECONDS.sleep(sleep);
        }
      }
      flooding.set(false);
      flood.join(10_000);
      assertThat(window.tryAcquire(WINDOW, 30, TimeUnit.SECONDS)).as("flood answered").isTrue();
      double floodSeconds = (System.nanoTime() - floodStart) / 1e9;

      assertThat(politeOk).isEqualTo(POLITE_SENDS);
      assertThat(ackMs.getValueAtPercentile(99)).as("polite p99 ack ms").isLessThan(P99_CEILING_MS);
      assertThat(limited.get()).as("flooder refusals").isPositive();
      assertThat(other.get()).as("flooder answers other than ack or RATE_LIMITED").isZero();
      // Burst 20 plus 20 per second, with one second of slack for clock edges: a broken limiter
      // (or none) lets thousands through in the same time.
      assertThat(accepted.get()).as("flooder sends accepted").isLessThanOrEqualTo((int) (20 + 20 * (floodSeconds + 1)));
      assertThat(limited.get()).as("flooder was mostly refused").isGreaterThan(accepted.get());
    }
  }
}
