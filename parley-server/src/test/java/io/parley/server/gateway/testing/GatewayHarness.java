package io.parley.server.gateway.testing;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.parley.server.bus.local.LocalEventBus;
import io.parley.server.config.ParleyConfig;
import io.parley.server.gateway.GatewayModule;
import io.parley.server.gateway.GatewayServer;
import io.parley.server.gateway.http.HttpEndpoint;
import io.parley.server.gateway.http.MetricsEndpoint;
import io.parley.server.gateway.session.Session;
import io.parley.server.gateway.ws.Subprotocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A started gateway on a free loopback port with {@link FakeServices}, an in-process bus and a
 * Prometheus registry; closes everything (clients included) on {@link #close()}.
 */
public final class GatewayHarness implements AutoCloseable {
  public final FakeServices services = new FakeServices();
  public final LocalEventBus bus = new LocalEventBus();
  public final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  public final Map<String, List<String>> channelsOfUser = new ConcurrentHashMap<>();
  public final GatewayServer server;
  public final int port;
  private final List<WsClient> clients = new ArrayList<>();

  public GatewayHarness(ParleyConfig config) {
    this(config, Map.of());
  }

  public GatewayHarness(ParleyConfig config, Map<String, HttpEndpoint> extraEndpoints) {
    Map<String, HttpEndpoint> endpoints = new HashMap<>(extraEndpoints);
    endpoints.put("/metrics", new MetricsEndpoint(meters));
    server =
        GatewayModule.create(
            config,
            services.services(),
            bus,
            meters,
            endpoints,
            user -> CompletableFuture.completedFuture(channelsOfUser.getOrDefault(user, List.of())));
    port = server.start().getPort();
  }

  public WsClient client(Subprotocol subprotocol) {
    WsClient c = WsClient.connect(port, subprotocol);
    synchronized (clients) {
      clients.add(c);
    }
    return c;
  }

  public WsClient client(Subprotocol subprotocol, Map<String, String> headers, String query) {
    WsClient c = WsClient.connect(port, subprotocol, headers, query);
    synchronized (clients) {
      clients.add(c);
    }
    return c;
  }

  /** A client authenticated as the user (protobuf subprotocol). */
  public WsClient authenticated(String userId) {
    WsClient c = client(Subprotocol.PROTO);
    if (!c.authenticate("u:" + userId).hasAuthenticated()) {
      throw new AssertionError("authentication failed for " + userId);
    }
    return c;
  }

  /** The only session of a user (fails if there is not exactly one). */
  public Session sessionOf(String userId) {
    List<Session> s = List.copyOf(server.sessions().sessionsOf(userId));
    if (s.size() != 1) {
      throw new AssertionError("expected one session of " + userId + " but found " + s.size());
    }
    return s.get(0);
  }

  @Override
  public void close() {
    synchronized (clients) {
      clients.forEach(WsClient::close);
    }
    server.close();
    bus.close();
    meters.close();
  }
}
