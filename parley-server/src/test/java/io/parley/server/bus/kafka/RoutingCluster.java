package io.parley.server.bus.kafka;

import io.parley.server.bus.BusMessage;
import io.parley.server.gateway.live.InterestRegistry.Interest;
import io.parley.server.gateway.live.InterestRegistry.Kind;
import io.parley.server.testing.KafkaTestBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Engines and gateways of one routing cluster on the test broker, each with its own Kafka
 * clients, under a topic prefix of their own (so test cases never see each other's records).
 */
final class RoutingCluster implements AutoCloseable {
  final KafkaTestBroker kafka;
  final String prefix = "rt" + UUID.randomUUID().toString().substring(0, 8) + ".";
  final RoutingSettings routing;
  final Duration requestTimeout;
  private final List<AutoCloseable> open = new ArrayList<>();

  RoutingCluster(KafkaTestBroker kafka, RoutingSettings routing, Duration requestTimeout) {
    this.kafka = kafka;
    this.routing = routing;
    this.requestTimeout = requestTimeout;
  }

  KafkaSettings settings(String nodeId) {
    return new KafkaSettings(
        kafka.bootstrapServers(), prefix, 1, (short) 1, nodeId, requestTimeout);
  }

  KafkaRoutingBus engine(String nodeId) {
    KafkaRoutingBus e = KafkaRoutingBus.start(settings(nodeId), routing);
    open.add(e);
    return e;
  }

  Gateway gateway(String nodeId) {
    Gateway g = new Gateway(nodeId);
    open.add(g);
    return g;
  }

  /** A gateway node: its deliveries bus, its interest registry and what its subscriber got. */
  final class Gateway implements AutoCloseable {
    final String nodeId;
    final KafkaDeliveryBus bus;
    final KafkaInterestRegistry interests;
    final List<BusMessage> received = new CopyOnWriteArrayList<>();

    Gateway(String nodeId) {
      this.nodeId = nodeId;
      bus = KafkaDeliveryBus.start(settings(nodeId));
      interests = KafkaInterestRegistry.start(settings(nodeId), routing, bus);
      bus.subscribe(received::add);
    }

    /** Declares the interests and waits until the engines confirm them. */
    void interested(Kind kind, String... ids) throws Exception {
      List<Interest> list = new ArrayList<>();
      for (String id : ids) {
        Interest i = new Interest(kind, id);
        interests.declare(i);
        list.add(i);
      }
      interests.inForce(list).get(60, TimeUnit.SECONDS);
    }

    /** Stops as {@code kill -9} would: no withdrawal, no more heartbeats or reads. */
    void crash() {
      interests.crash();
      bus.close();
    }

    @Override
    public void close() {
      interests.close();
      bus.close();
    }
  }

  @Override
  public void close() {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        // best effort: the broker outlives the test
      }
    }
  }
}
