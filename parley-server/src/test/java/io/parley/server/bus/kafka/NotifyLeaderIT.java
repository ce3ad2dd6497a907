package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.server.config.ParleyConfig;
import io.parley.server.testing.KafkaExtension;
import io.parley.server.testing.KafkaTestBroker;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
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
  void aLeaderThatASuccessorFencedLearnsItLostTheLease() throws Exception {
    AtomicBoolean lost = new AtomicBoolean();
    NotifyLeader leader = NotifyLeader.start(settings, () -> {}, () -> lost.set(true));
    try {
      await().atMost(WAIT).until(leader::isLeading);

      // What a successor's RoleLease.acquire does once the leader's heartbeats stop.
      Map<String, Object> props = KafkaClients.producer(settings, "successor");
      props.put(
          ProducerConfig.TRANSACTIONAL_ID_CONFIG,
          RoleLease.leaseName(settings, ParleyConfig.Role.NOTIFY));
      try (KafkaProducer<String, byte[]> successor =
          new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
        successor.initTransactions();
      }

      await().atMost(WAIT).untilTrue(lost);
      assertThat(leader.isLeading()).isFalse();
    } finally {
      leader.close();
    }
  }
}
