package io.parley.server.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessagePosted;
import io.parley.server.bus.local.LocalEventBus;
import io.parley.server.config.ParleyConfig;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.WebhookRecord;
import io.parley.server.store.rocksdb.RocksDbStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash after an event's commit and before its expansion: the event and its notify-pending mark
 * are on disk, the bus message was lost. Starting the notification service expands the mark, and
 * the webhook gets the delivery exactly once. And in a cluster, where most events are sequenced by
 * other engines and never reach the notify leader's bus, the leader finds their marks by scanning.
 */
class MarkRecoveryIT {
  private static final String SECRET = "recovery-secret-0123";

  @TempDir Path dir;

  @Test
  void marksLeftByACrashAreExpandedAndDeliveredOnceAtStart() throws Exception {
    try (RecordingHookServer hook = new RecordingHookServer(SECRET);
        RocksDbStore store = RocksDbStore.open(dir, false, 64);
        LocalEventBus bus = new LocalEventBus()) {
      Event e =
          Event.newBuilder()
              .setConversationId("g1")
              .setSeq(1)
              .setTimestampMs(1_700_000_000_000L)
              .setActorUserId("alice")
              .setMessagePosted(
                  MessagePosted.newBuilder()
                      .setMessageId("m1")
                      .setContentType("text/plain")
                      .setBody(ByteString.copyFromUtf8("hi")))
              .build();
      // What the engine commits, as one write; no bus message follows (the "crash").
      store
          .write(
              new StoreWrite()
                  .appendEvent(new StoredEvent(e, 1))
                  .markNotifyPending("g1", 1)
                  .putWebhook(new WebhookRecord("wh1", hook.url(), SECRET, List.of("message.created"), 1)))
          .join();

      ParleyConfig.Notify config =
          new ParleyConfig.Notify(
              5, Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(20), Duration.ZERO,
              Duration.ofSeconds(5), Duration.ofSeconds(1), null, null, false, null,
              "https://fcm.googleapis.com", null, null, "mailto:a@b", null, null, null, null,
              "https://api.push.apple.com");
      try (NotificationService service =
          NotifyModule.start(config, store, bus, new SimpleMeterRegistry(), Clock.systemUTC())) {
        await().atMost(Duration.ofSeconds(20)).until(() -> hook.accepted().size() == 1);
        await().atMost(Duration.ofSeconds(20)).until(() -> store.outboxLaneHeads("", 10).isEmpty());
      }

      assertThat(store.notifyPending(10)).isEmpty();
      assertThat(hook.accepted().get(0).body().path("seq").asLong()).isEqualTo(1);
      assertThat(hook.accepted().get(0).signatureValid()).isTrue();
      assertThat(hook.received()).hasSize(1);
    }
  }

  @Test
  void aClusterLeaderDeliversEventsItNeverSawOnItsBus() throws Exception {
    try (RecordingHookServer hook = new RecordingHookServer(SECRET);
        RocksDbStore store = RocksDbStore.open(dir, false, 64);
        LocalEventBus bus = new LocalEventBus()) {
      store
          .write(
              new StoreWrite()
                  .putWebhook(new WebhookRecord("wh1", hook.url(), SECRET, List.of("message.created"), 1)))
          .join();
      try (NotificationService service =
          NotifyModule.start(
              config(), store, bus, new SimpleMeterRegistry(), Clock.systemUTC(), false)) {
        service.startDelivering(); // it took the notify lease
        // Another engine commits two events later; their bus messages go elsewhere.
        for (int seq = 1; seq <= 2; seq++) {
          store
              .write(new StoreWrite().appendEvent(new StoredEvent(posted(seq), seq))
                  .markNotifyPending("g1", seq))
              .join();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> hook.accepted().size() == 2);
        await().atMost(Duration.ofSeconds(20)).until(() -> store.notifyPending(10).isEmpty());
      }
      assertThat(hook.accepted()).extracting(r -> r.body().path("seq").asLong()).containsExactly(1L, 2L);
    }
  }

  private static Event posted(long seq) {
    return Event.newBuilder()
        .setConversationId("g1")
        .setSeq(seq)
        .setTimestampMs(1_700_000_000_000L)
        .setActorUserId("alice")
        .setMessagePosted(
            MessagePosted.newBuilder()
                .setMessageId("m" + seq)
                .setContentType("text/plain")
                .setBody(ByteString.copyFromUtf8("hi")))
        .build();
  }

  private static ParleyConfig.Notify config() {
    return new ParleyConfig.Notify(
        5, Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(20), Duration.ZERO,
        Duration.ofSeconds(5), Duration.ofSeconds(1), null, null, false, null,
        "https://fcm.googleapis.com", null, null, "mailto:a@b", null, null, null, null,
        "https://api.push.apple.com");
  }
}
