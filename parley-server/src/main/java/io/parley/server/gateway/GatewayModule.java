package io.parley.server.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.parley.server.bus.EventBus;
import io.parley.server.gateway.live.InterestRegistry;
import io.parley.server.gateway.live.LocalInterestRegistry;
import io.parley.server.config.ParleyConfig;
import io.parley.server.gateway.http.HealthEndpoint;
import io.parley.server.gateway.http.HttpEndpoint;
import io.parley.server.gateway.http.HttpRouter;
import io.parley.server.gateway.http.ReadinessEndpoint;
import io.parley.server.gateway.proxy.ProxyProtocolHandler;
import io.parley.server.gateway.live.LiveDispatcher;
import io.parley.server.gateway.session.GatewayMetrics;
import io.parley.server.gateway.session.GatewayState;
import io.parley.server.gateway.session.RequestDispatcher;
import io.parley.server.gateway.session.Session;
import io.parley.server.gateway.session.SessionContext;
import io.parley.server.gateway.session.SessionRegistry;
import io.parley.server.gateway.session.WebSocketUpgrader;
import io.parley.server.gateway.ws.CloseCodes;
import io.parley.server.limits.ConnectionLimiter;
import io.parley.server.limits.RateLimiter;
import io.parley.server.gateway.tls.ServerTls;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Wires the gateway for the composition root. Usage:
 *
 * <pre>{@code
 * GatewayServer gateway = GatewayModule.create(config, services, bus, meterRegistry,
 *     Map.of("/v1/admin/", admin, "/metrics", new MetricsEndpoint(prometheus),
 *            "/v1/openapi.yaml", openApi, "/v1/dev/token", devToken,
 *            "/", new StaticResourceEndpoint("/", "web")),
 *     userId -> channelIdsOf(userId),
 *     Map.of("store", store::isHealthy));
 * gateway.start();
 * ...
 * gateway.drain().get(); gateway.close();
 * }</pre>
 *
 * {@code /healthz} ({@link HealthEndpoint}) and {@code /readyz} ({@link ReadinessEndpoint} with a
 * {@code gateway} check that fails while draining, plus the given checks) are registered unless
 * {@code endpoints} already has those prefixes; {@code /v1/ws} is the WebSocket endpoint.
 */
public final class GatewayModule {
  private GatewayModule() {}

  /** Same as the full overload with no extra readiness checks. */
  public static GatewayServer create(
      ParleyConfig config,
      GatewayServices services,
      EventBus bus,
      MeterRegistry registry,
      Map<String, HttpEndpoint> endpoints,
      Function<String, CompletableFuture<List<String>>> channelIdsOfUser) {
    return create(config, services, bus, registry, endpoints, channelIdsOfUser, Map.of());
  }

  /** Same as the full overload with no admin-only endpoints. */
  public static GatewayServer create(
      ParleyConfig config,
      GatewayServices services,
      EventBus bus,
      MeterRegistry registry,
      Map<String, HttpEndpoint> endpoints,
      Function<String, CompletableFuture<List<String>>> channelIdsOfUser,
      Map<String, BooleanSupplier> readinessChecks) {
    return create(
        config, services, bus, registry, endpoints, Map.of(), channelIdsOfUser, readinessChecks);
  }

  /**
   * Builds an unstarted gateway.
   *
   * @param endpoints HTTP endpoints by path prefix (longest prefix wins)
   * @param adminEndpoints endpoints for operators (admin API, metrics): on the main listener
   *     unless {@code admin.port} configures a separate one, which then serves only these plus
   *     {@code /healthz} and {@code /readyz}, while the main listener answers 404 for them
   * @param channelIdsOfUser the channels a user belongs to, loaded when a session authenticates
   * @param readinessChecks extra named checks for {@code /readyz} (e.g. the store's health)
   */
  public static GatewayServer create(
      ParleyConfig config,
      GatewayServices services,
      EventBus bus,
      MeterRegistry registry,
      Map<String, HttpEndpoint> endpoints,
      Map<String, HttpEndpoint> adminEndpoints,
      Function<String, CompletableFuture<List<String>>> channelIdsOfUser,
      Map<String, BooleanSupplier> readinessChecks) {
    return create(
        config,
        services,
        bus,
        LocalInterestRegistry.INSTANCE,
        registry,
        endpoints,
        adminEndpoints,
        channelIdsOfUser,
        readinessChecks);
  }

  /**
   * Builds an unstarted gateway that declares its sessions' interest to {@code interests} (a
   * cluster gateway: {@code bus.kafka.KafkaInterestRegistry}, with {@code bus} its {@code
   * KafkaDeliveryBus}); the other parameters are those of the overload without it.
   */
  public static GatewayServer create(
      ParleyConfig config,
      GatewayServices services,
      EventBus bus,
      InterestRegistry interests,
      MeterRegistry registry,
      Map<String, HttpEndpoint> endpoints,
      Map<String, HttpEndpoint> adminEndpoints,
      Function<String, CompletableFuture<List<String>>> channelIdsOfUser,
      Map<String, BooleanSupplier> readinessChecks) {
    Objects.requireNonNull(adminEndpoints, "adminEndpoints");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(services, "services");
    Objects.requireNonNull(bus, "bus");
    Objects.requireNonNull(interests, "interests");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(endpoints, "endpoints");
    Objects.requireNonNull(channelIdsOfUser, "channelIdsOfUser");
    Objects.requireNonNull(readinessChecks, "readinessChecks");

    GatewayState state = new GatewayState();
    GatewayMetrics metrics = new GatewayMetrics(registry, state);
    SessionRegistry sessions = new SessionRegistry(interests);
    // Lost routing means lost live events: clients must reconnect, which syncs the gap.
    interests.addLossListener(
        () -> {
          for (Session s : sessions.all()) {
            s.close(CloseCodes.GOING_AWAY, "live routing to this node was interrupted; reconnect");
          }
        });
    RequestDispatcher dispatcher =
        new RequestDispatcher(
            services.conversations(),
            services.messages(),
            services.delivery(),
            services.presence(),
            services.users(),
            services.notifications());
    SessionContext context =
        new SessionContext(
            services.tokens(),
            services.users(),
            services.presence(),
            dispatcher,
            sessions,
            metrics,
            state,
            channelIdsOfUser,
            config.limits(),
            config.timeouts(),
            new RateLimiter(config.rateLimits(), registry),
            new ConnectionLimiter(config.limits().maxConnectionsPerIp()));
    ChannelGroup connections = new DefaultChannelGroup("parley-connections", GlobalEventExecutor.INSTANCE);

    Map<String, BooleanSupplier> checks = new LinkedHashMap<>();
    checks.put("gateway", () -> !state.isDraining());
    checks.putAll(readinessChecks);
    HealthEndpoint health = new HealthEndpoint();
    ReadinessEndpoint readiness = new ReadinessEndpoint(checks);
    boolean separateAdmin = config.admin().separateListener();
    HttpRouter.Builder routes =
        HttpRouter.builder()
            .register("/healthz", health)
            .register("/readyz", readiness)
            .registerAll(endpoints);
    // A node without the gateway role (an engine or notify node of a cluster) serves only its
    // HTTP endpoints; /v1/ws answers 404 there.
    if (config.cluster().runs(ParleyConfig.Role.GATEWAY)) {
      routes.upgrade(WebSocketUpgrader.PATH, new WebSocketUpgrader(context));
    }
    if (!separateAdmin) {
      routes.registerAll(adminEndpoints);
    }
    ServerTls tls = config.tls().enabled() ? ServerTls.create(config.tls()) : null;
    ProxyProtocolHandler proxyProtocol = null;
    if (config.server().proxyProtocol()) {
      proxyProtocol =
          new ProxyProtocolHandler(
              Counter.builder("parley.proxy_protocol.rejected")
                  .description("Connections closed for a missing or malformed PROXY protocol header")
                  .register(registry));
    }
    // The separate admin listener is for operators reaching the node directly: no PROXY header.
    GatewayPipeline pipeline =
        new GatewayPipeline(config.timeouts(), routes.build(), connections, tls, proxyProtocol);
    GatewayPipeline adminPipeline = null;
    if (separateAdmin) {
      HttpRouter adminRoutes =
          HttpRouter.builder()
              .register("/healthz", health)
              .register("/readyz", readiness)
              .registerAll(adminEndpoints)
              .build();
      adminPipeline = new GatewayPipeline(config.timeouts(), adminRoutes, connections, tls);
    }
    return new GatewayServer(
        config,
        pipeline,
        adminPipeline,
        connections,
        sessions,
        state,
        new LiveDispatcher(sessions),
        bus);
  }
}
