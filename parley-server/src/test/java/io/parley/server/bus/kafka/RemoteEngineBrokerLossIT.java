package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.messaging.EngineFixture;
import io.parley.server.testing.KafkaTestBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A gateway whose Kafka broker disappears answers every call with a retryable {@code
 * UNAVAILABLE} instead of hanging. Uses its own broker (the shared one must stay up).
 */
class RemoteEngineBrokerLossIT {

  @Test
  void callsFailWithUnavailableWhenTheBrokerIsGone() throws Exception {
    KafkaTestBroker broker = KafkaTestBroker.start();
    RemoteEngine remote;
    try {
      remote =
          RemoteEngine.start(
              new KafkaSettings(
                  broker.bootstrapServers(), "loss.", 2, (short) 1, "gw-loss", Duration.ofSeconds(2)));
    } finally {
      broker.close();
    }
    try {
      List<CompletableFuture<?>> calls = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        calls.add(
            remote
                .services(token -> CompletableFuture.failedFuture(new IllegalStateException()))
                .messages()
                .send(
                    Caller.user("alice", "d"),
                    EngineFixture.message("c" + i, "m" + i, "hello")));
      }
      for (CompletableFuture<?> call : calls) {
        ParleyException e = failure(call);
        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(e.retryAfterMs()).isPositive();
      }
      assertThat(remote.pendingCalls()).isZero();
    } finally {
      remote.close();
    }
  }

  private static ParleyException failure(CompletableFuture<?> f) throws Exception {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return ParleyException.from(e.getCause());
    }
    throw new AssertionError("expected the call to fail");
  }
}
