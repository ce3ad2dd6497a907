package io.parley.server.bus.kafka;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.server.bus.BusMessage;
import io.parley.server.gateway.GatewayModule;
import io.parley.server.gateway.GatewayServer;
import io.parley.server.gateway.testing.FakeServices;
import io.parley.server.gateway.testing.TestConfigs;
import io.parley.server.gateway.testing.WsClient;
import io.parley.server.gateway.ws.Subprotocol;
import io.parley.server.gateway.live.InterestRegistry.Interest;
import io.parley.server.gateway.live.InterestRegistry.Kind;
import io.parley.server.testing.KafkaTestBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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

  /**
   * A gateway node serving real WebSocket sessions on a free port: {@link FakeServices} stand in
   * for the engine's request path (built separately), live delivery comes through the routing.
   */
  WsGateway wsGateway(String nodeId, Map<String, List<String>> channelsOfUser) {
    WsGateway g = new WsGateway(nodeId, channelsOfUser);
    open.add(g);
    return g;
  }

  final class WsGateway implements AutoCloseable {
    final Gateway node;
    final GatewayServer server;
    final int port;
    private final List<WsClient> clients = new CopyOnWriteArrayList<>();

    WsGateway(String nodeId, Map<String, List<String>> channelsOfUser) {
      node = new Gateway(nodeId);
      server =
          GatewayModule.create(
              TestConfigs.builder().build(),
              new FakeServices().services(),
              node.bus,
              node.interests,
              new SimpleMeterRegistry(),
              Map.of(),
              Map.of(),
              user ->
                  CompletableFuture.completedFuture(channelsOfUser.getOrDefault(user, List.of())),
              Map.of());
      port = server.start().getPort();
    }

    /** A client authenticated as the user; authentication completes once routing is in force. */
    WsClient authenticated(String userId) {
      WsClient c = WsClient.connect(port, Subprotocol.PROTO);
      clients.add(c);
      if (!c.authenticate("u:" + userId).hasAuthenticated()) {
        throw new AssertionError("authentication failed for " + userId);
      }
      return c;
    }

    @Override
    public void close() {
      clients.forEach(WsClient::close);
      server.close();
      node.close();
    }
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
