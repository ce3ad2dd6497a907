package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.server.config.ParleyConfig;
import io.parley.server.testing.KafkaExtension;
import io.parley.server.testing.KafkaTestBroker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two notify processes against a real (forked) Kafka broker: only the holder of the notify lease
 * delivers, the other stands by and takes over when the holder stops; a holder that a successor
 * fenced learns it lost the lease.
 */
@ExtendWith(KafkaExtension.class)
class NotifyLeaderIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private KafkaSettings settings;

  @BeforeEach
  void start(KafkaTestBroker kafka) {
    String prefix = "nl" + UUID.randomUUID().toString().substring(0, 8) + ".";
    settings =
        new KafkaSettings(kafka.bootstrapServers(), prefix, 4, (short) 1, "notify-1", Duration.ofSeconds(3));
  }

  @Test
  void onlyOneProcessDeliversAndAStandbyTakesOverWhenItStops() throws Exception {
    AtomicInteger firstStarts = new AtomicInteger();
    AtomicInteger secondStarts = new AtomicInteger();
    AtomicBoolean lost = new AtomicBoolean();
    NotifyLeader first =
        NotifyLeader.start(settings, firstStarts::incrementAndGet, () -> lost.set(true));
    await().atMost(WAIT).until(first::isLeading);
    NotifyLeader second =
        NotifyLeader.start(settings, secondStarts::incrementAndGet, () -> lost.set(true));
    try {
      // Longer than a vacancy and a takeover together: the second one only watches.
      Thread.sleep(RoleLease.VACANCY.plus(RoleLease.TAKEOVER_DELAY).plusSeconds(1).toMillis());
      assertThat(second.isLeading()).isFalse();
      assertThat(secondStarts).hasValue(0);
      assertThat(firstStarts).hasValue(1);

      first.close(); // a clean stop releases the lease: the standby goes on at once
      await().atMost(WAIT).until(second::isLeading);
      assertThat(secondStarts).hasValue(1);
      assertThat(lost).isFalse();
    } finally {
      second.close();
    }
  }

  @Test
  void aLeaderThatASuccessorFencedStopsDeliveringAndStandsByAgain() throws Exception {
    AtomicInteger starts = new AtomicInteger();
    AtomicInteger stops = new AtomicInteger();
    NotifyLeader leader = NotifyLeader.start(settings, starts::incrementAndGet, stops::incrementAndGet);
    try {
      await().atMost(WAIT).until(leader::isLeading);

      fenceLikeASuccessor();

      await().atMost(WAIT).until(() -> stops.get() == 1);
      assertThat(leader.isLeading()).isFalse();
      // The "successor" never heartbeats: after a vacancy the leader takes the lease again.
      await().atMost(WAIT).until(() -> starts.get() == 2 && leader.isLeading());
      assertThat(stops).hasValue(1);
    } finally {
      leader.close();
    }
  }

  /**
   * Two standbys that see the same silence both take the lease, one a moment after the other; the
   * first is fenced during its takeover delay, before it delivered anything. It must neither start
   * nor "stop" delivering: it just stands by again.
   */
  @Test
  void aLeaseLostDuringTheTakeoverDelayWasNeverUsed() throws Exception {
    AtomicInteger starts = new AtomicInteger();
    AtomicInteger stops = new AtomicInteger();
    try (KafkaConsumer<String, String> watch = leaseWatch()) {
      NotifyLeader leader =
          NotifyLeader.start(settings, starts::incrementAndGet, stops::incrementAndGet);
      try {
        // Its first heartbeat follows initTransactions at once: the takeover delay has begun.
        await().atMost(WAIT).until(() -> !watch.poll(Duration.ofMillis(100)).isEmpty());
        fenceLikeASuccessor();

        Thread.sleep(RoleLease.TAKEOVER_DELAY.plusSeconds(1).toMillis());
        assertThat(starts).hasValue(0);
        assertThat(stops).hasValue(0);
        // The fencer never heartbeats: after a vacancy the leader takes the lease for good.
        await().atMost(WAIT).until(() -> starts.get() == 1 && leader.isLeading());
        assertThat(stops).hasValue(0);
      } finally {
        leader.close();
      }
    }
  }

  /** What a successor's RoleLease.acquire does: it takes the lease's transactional id. */
  private void fenceLikeASuccessor() {
    Map<String, Object> props = KafkaClients.producer(settings, "successor");
    props.put(
        ProducerConfig.TRANSACTIONAL_ID_CONFIG,
        RoleLease.leaseName(settings, ParleyConfig.Role.NOTIFY));
    try (KafkaProducer<String, byte[]> successor =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      successor.initTransactions();
    }
  }

  /** Reads the notify lease topic from its start (it appears once the leader created it). */
  private KafkaConsumer<String, String> leaseWatch() {
    Map<String, Object> props = KafkaClients.consumer(settings, "lease-watch", null);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    KafkaConsumer<String, String> c =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    c.assign(List.of(new TopicPartition(RoleLease.leaseName(settings, ParleyConfig.Role.NOTIFY), 0)));
    return c;
  }
}
