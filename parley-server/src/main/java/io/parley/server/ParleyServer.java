package io.parley.server;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.parley.server.admin.AdminModule;
import io.parley.server.admin.OpenApiEndpoint;
import io.parley.server.auth.DevTokenEndpoint;
import io.parley.server.auth.JwtTokenVerifier;
import io.parley.server.auth.TokenMinter;
import io.parley.server.bus.EventBus;
import io.parley.server.bus.local.LocalEventBus;
import io.parley.server.bus.kafka.CommandServer;
import io.parley.server.bus.kafka.EngineJournal;
import io.parley.server.bus.kafka.NotifyLeader;
import io.parley.server.bus.kafka.KafkaDeliveryBus;
import io.parley.server.bus.kafka.KafkaInterestRegistry;
import io.parley.server.bus.kafka.KafkaRoutingBus;
import io.parley.server.bus.kafka.KafkaSettings;
import io.parley.server.bus.kafka.LocalServices;
import io.parley.server.bus.kafka.RemoteEngine;
import io.parley.server.bus.kafka.RoutingSettings;
import io.parley.server.gateway.live.InterestRegistry;
import io.parley.server.gateway.live.LocalInterestRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import io.parley.server.config.ParleyConfig;
import io.parley.server.gateway.GatewayModule;
import io.parley.server.gateway.GatewayServer;
import io.parley.server.gateway.GatewayServices;
import io.parley.server.gateway.http.HttpEndpoint;
import io.parley.server.gateway.http.MetricsEndpoint;
import io.parley.server.gateway.http.StaticResourceEndpoint;
import io.parley.server.limits.RateLimiter;
import io.parley.server.messaging.EngineModule;
import io.parley.server.store.CommitStats;
import io.parley.server.notify.NotificationService;
import io.parley.server.notify.NotifyModule;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.cassandra.CassandraStore;
import io.parley.server.store.resilience.CircuitBreakingStore;
import io.parley.server.store.rocksdb.RocksDbStore;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds every module from a {@link ParleyConfig} with constructors and
 * small per-area factories, starts listening, and drains and stops on {@link #close()}. The CLI
 * ({@code ./parley server}) registers a JVM shutdown hook that calls {@link #close()}, so SIGTERM
 * drains gracefully. Tests start it in-process on port 0.
 *
 * <p>Start order is store → bus → engine → notifications → auth → gateway; close runs in reverse, after the
 * gateway has drained, so every in-flight write finishes before the store closes. Thread-safe.
 */
public final class ParleyServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ParleyServer.class);

  private final GatewayServer gateway;
  private final Deque<AutoCloseable> closeInReverse;
  private final ParleyConfig config;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final int port;
  private final int adminPort;

  private ParleyServer(
      ParleyConfig config,
      GatewayServer gateway,
      Deque<AutoCloseable> closeInReverse,
      int port,
      int adminPort) {
    this.config = config;
    this.gateway = gateway;
    this.closeInReverse = closeInReverse;
    this.port = port;
    this.adminPort = adminPort;
  }

  /**
   * The {@code /readyz} checks beyond the gateway's own: the store accepts writes, and neither
   * store circuit breaker is open (an open breaker refuses every call, so the node cannot serve).
   */
  private static Map<String, BooleanSupplier> readinessChecks(CircuitBreakingStore store) {
    Map<String, BooleanSupplier> checks = new LinkedHashMap<>();
    checks.put("store", store::isHealthy);
    checks.put("store_writes", () -> CircuitBreakingStore.admitsCalls(store.writeBreaker()));
    checks.put("store_reads", () -> CircuitBreakingStore.admitsCalls(store.readBreaker()));
    return checks;
  }

  /**
   * Builds and starts the server; returns once it accepts connections.
   *
   * @throws RuntimeException when the server cannot start (port in use, store locked, ...); every
   *     component started so far is closed again
   */
  public static ParleyServer start(ParleyConfig config) {
    return startWith(config, ParleyServer::openStore);
  }

  /**
   * Same as {@link #start(ParleyConfig)} with the RocksDB store opened by {@code storeOpener}: the
   * seam where failure tests open a real store whose commits fail on demand.
   */
  public static ParleyServer start(
      ParleyConfig config, Function<ParleyConfig.Storage, RocksDbStore> storeOpener) {
    Objects.requireNonNull(storeOpener, "storeOpener");
    return startWith(config, c -> storeOpener.apply(c.storage()));
  }

  private static ParleyServer startWith(
      ParleyConfig config, Function<ParleyConfig, ParleyStore> storeOpener) {
    Objects.requireNonNull(config, "config");
    Deque<AutoCloseable> started = new ArrayDeque<>();
    AtomicReference<ParleyServer> self = new AtomicReference<>();
    try {
      PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      started.push(metrics::close);
      ServerMetrics.bindJvm(metrics);

      ParleyConfig.Cluster cluster = config.cluster();
      boolean engineRole = cluster.runs(ParleyConfig.Role.ENGINE);
      boolean notifyRole = cluster.runs(ParleyConfig.Role.NOTIFY);
      KafkaSettings kafka =
          cluster.kafkaBootstrapServers() == null ? null : KafkaSettings.from(cluster);
      Map<String, BooleanSupplier> readiness = new LinkedHashMap<>();

      CircuitBreakingStore store = null;
      // A cluster engine on Cassandra records every batch of a shard in the shard's journal first:
      // that fences it once another engine took the shard over, and lets the new owner apply what
      // it may not have applied.
      boolean onCassandra = config.storage().engine() == ParleyConfig.StorageEngine.CASSANDRA;
      EngineJournal journal =
          kafka != null && engineRole && onCassandra
              ? new EngineJournal(kafka, ServerMetrics.journalCommits(metrics))
              : null;
      if (journal != null) {
        journal.ensureTopic();
      }
      ConversationShards conversationShards = new ConversationShards(cluster.commandPartitions());
      CassandraStore journaledStore = null;
      if (engineRole || notifyRole) {
        ParleyStore engineStore;
        if (journal != null) {
          journaledStore =
              CassandraStore.openJournaled(
                  config.cassandra(),
                  conversationShards,
                  config.storage().maxBatchWrites(),
                  journal);
          engineStore = journaledStore;
        } else {
          engineStore = storeOpener.apply(config);
        }
        started.push(engineStore);
        ServerMetrics.bindStore(metrics, (CommitStats) engineStore);
        store = CircuitBreakingStore.wrap(engineStore, config.storeBreaker(), metrics);
        readiness.putAll(readinessChecks(store));
      }

      // The bus: in one process, local. In a cluster, an engine routes what it publishes to the
      // gateways that declared interest (and to its own subscribers, e.g. notify); a gateway
      // reads only its own deliveries topic, also in a process that runs an engine too (the
      // events of the other engines' shards reach it only that way); a notify-only node learns of
      // new events from the durable marks it polls.
      EventBus bus = null;
      InterestRegistry interests = LocalInterestRegistry.INSTANCE;
      KafkaRoutingBus routing = null;
      KafkaDeliveryBus deliveries = null;
      KafkaInterestRegistry interestRegistry = null;
      if (kafka != null && engineRole) {
        routing = KafkaRoutingBus.start(kafka, RoutingSettings.DEFAULTS);
        bus = routing;
        started.push(bus);
      }
      if (kafka != null && cluster.runs(ParleyConfig.Role.GATEWAY)) {
        deliveries = KafkaDeliveryBus.start(kafka);
        started.push(deliveries);
        interestRegistry = KafkaInterestRegistry.start(kafka, RoutingSettings.DEFAULTS, deliveries);
        started.push(interestRegistry);
        interests = interestRegistry;
        readiness.put("cluster_link", interestRegistry::isLinked);
        if (bus == null) {
          bus = deliveries;
        }
      }
      if (bus == null) {
        bus = new LocalEventBus();
        started.push(bus);
      }
      EventBus sessionsBus = deliveries != null ? deliveries : bus;

      EngineShards ownership =
          kafka != null && engineRole
              ? new EngineShards(conversationShards, journal, journaledStore)
              : null;
      EngineModule engine = null;
      if (engineRole) {
        engine =
            EngineModule.create(
                store,
                bus,
                config.limits(),
                0,
                Clock.systemUTC(),
                NotifyModule.beforeSendHook(config.notifications(), metrics, Clock.systemUTC()),
                routing,
                ownership == null ? userId -> true : ownership::owns);
        started.push(engine);
        if (routing != null) {
          // Every engine follows who is connected; each announces the users of its shards.
          routing.startReportingConnectivity();
        }
      }

      // After the engine, so it closes first: no expansion runs against a closed store. An engine
      // without the notify role still serves the push-target, mute and webhook calls. In a
      // cluster exactly one process delivers: the holder of the notify lease (NotifyLeader).
      boolean deliverAsLeader = kafka != null && notifyRole;
      NotificationService notifications = null;
      if (engineRole || notifyRole) {
        notifications =
            NotifyModule.start(
                config.notifications(), store, bus, metrics, Clock.systemUTC(),
                notifyRole && !deliverAsLeader);
        started.push(notifications);
      }

      AtomicReference<NotifyLeader> notifyLeader = new AtomicReference<>();
      if (deliverAsLeader) {
        notifyLeader.set(
            NotifyLeader.start(
                kafka, notifications::startDelivering, notifications::stopDelivering));
      }

      CommandServer commands = null;
      if (kafka != null && engineRole) {
        // Closed before the engine: stops taking calls and answers the admitted ones first.
        commands =
            CommandServer.start(
                kafka, LocalServices.of(engine, notifications), ownership, () -> stopFailedEngine(self));
        started.push(commands);
        readiness.put("engine_commands", commands::isReady);
        ServerMetrics.bindEngineTransport(
            metrics, commands, routing, ownership, cluster.commandPartitions());
      }
      if (deliverAsLeader) {
        // Closed early (pushed late): gives the notify lease up before the engine stops.
        started.push(
            () -> {
              NotifyLeader leader = notifyLeader.get();
              if (leader != null) {
                leader.close();
              }
            });
        ServerMetrics.bindNotifyLeader(
            metrics,
            () -> {
              NotifyLeader leader = notifyLeader.get();
              return leader != null && leader.isLeading();
            });
      }

      JwtTokenVerifier verifier = JwtTokenVerifier.create(config.auth());
      started.push(verifier);
      TokenMinter minter =
          config.auth().hmacSecret() == null ? null : TokenMinter.fromConfig(config.auth());

      GatewayServices services;
      Function<String, CompletableFuture<List<String>>> channels;
      if (engine != null && kafka == null) {
        services =
            new GatewayServices(
                engine.conversations(),
                engine.messages(),
                engine.delivery(),
                engine.presence(),
                engine.users(),
                verifier,
                notifications);
        ChannelDirectory directory = new ChannelDirectory(store);
        started.push(directory);
        channels = directory;
      } else {
        // In a cluster every call crosses Kafka to the engine that owns its shard, also from a
        // process that runs an engine itself (it owns only some shards).
        RemoteEngine remote = RemoteEngine.start(kafka);
        started.push(remote);
        services = remote.services(verifier);
        if (deliveries != null) {
          ServerMetrics.bindGatewayTransport(metrics, remote, deliveries, interestRegistry);
        }
        channels = new RemoteChannelDirectory(services.conversations());
      }

      Map<String, HttpEndpoint> endpoints = new LinkedHashMap<>();
      // Operator endpoints: on the main port, or only on admin.port when that is configured.
      // /metrics goes with them because it reveals load and internals to whoever can reach it.
      Map<String, HttpEndpoint> adminEndpoints = new LinkedHashMap<>();
      if (engine != null) {
        // The admin API lives with the engines (a load balancer routes /v1/admin/ there); its calls
        // take the same path as the gateways' (in a cluster, to the owner of the shard).
        HttpEndpoint admin =
            AdminModule.create(
                config.admin().apiKey(),
                services.users(),
                services.conversations(),
                services.messages(),
                services.delivery(),
                notifications,
                AdminTokens.minter(minter),
                new RateLimiter(config.rateLimits(), metrics));
        adminEndpoints.put("/v1/admin/", admin);
        adminEndpoints.put(OpenApiEndpoint.PATH, new OpenApiEndpoint());
      }
      adminEndpoints.put("/metrics", new MetricsEndpoint(metrics));
      if (config.devMode() && minter != null) {
        endpoints.put(
            DevTokenEndpoint.PATH, new DevTokenEndpoint(minter, config.auth().devTokenTtl()));
      }
      // Development mode serves the demo chat app (module parley-web), which signs in through the
      // dev token endpoint; otherwise a landing page that points to the API.
      endpoints.put("/", new StaticResourceEndpoint("/", config.devMode() ? "web/app" : "web"));

      GatewayServer gateway =
          GatewayModule.create(
              config,
              services,
              sessionsBus,
              interests,
              metrics,
              endpoints,
              adminEndpoints,
              channels,
              readiness);
      started.push(gateway);
      int port = gateway.start().getPort();
      log.info(
          "Parley listening on {}:{}{} (roles {}, storage {}, TLS {})",
          config.server().host(),
          port,
          gateway.adminPort() < 0
              ? ""
              : ", admin API and metrics on " + config.admin().host() + ":" + gateway.adminPort(),
          describeRoles(config),
          store == null ? "none (requests go to the engine over Kafka)" : describe(config),
          config.tls().enabled() ? "on" : "off");
      ParleyServer server = new ParleyServer(config, gateway, started, port, gateway.adminPort());
      self.set(server);
      return server;
    } catch (RuntimeException e) {
      closeAll(started);
      throw e;
    }
  }

  /**
   * The engine's command loop failed for good (a shard could not be taken over, or the poll loop
   * broke): the process shuts down so that its supervisor restarts it (an engine that takes no
   * commands gives its shards to the others by leaving the group).
   */
  private static void stopFailedEngine(AtomicReference<ParleyServer> self) {
    log.error(
        "this engine's command loop failed: the process stops, to be restarted");
    ParleyServer server = self.get();
    if (server != null) {
      Thread t = new Thread(server::close, "parley-fenced-engine-stop");
      t.setDaemon(false);
      t.start();
    }
  }

  private static String describeRoles(ParleyConfig config) {
    StringBuilder sb = new StringBuilder();
    for (ParleyConfig.Role r : config.cluster().roles()) {
      sb.append(sb.length() == 0 ? "" : ",").append(r.configName());
    }
    return config.cluster().kafkaBootstrapServers() == null
        ? sb.toString()
        : sb + " on Kafka " + config.cluster().kafkaBootstrapServers()
            + " as node " + config.cluster().nodeId();
  }

  /** The store engine chosen by {@code storage.engine}. */
  private static ParleyStore openStore(ParleyConfig config) {
    ParleyConfig.Storage storage = config.storage();
    return switch (storage.engine()) {
      case ROCKSDB -> RocksDbStore.open(storage.dataDir(), storage.fsync(), storage.maxBatchWrites());
      case CASSANDRA ->
          CassandraStore.open(
              config.cassandra(),
              new ConversationShards(config.cluster().commandPartitions()),
              storage.maxBatchWrites());
    };
  }

  private static String describe(ParleyConfig config) {
    ParleyConfig.Storage storage = config.storage();
    return switch (storage.engine()) {
      case ROCKSDB -> "rocksdb in " + storage.dataDir() + ", fsync " + storage.fsync();
      case CASSANDRA ->
          "cassandra keyspace "
              + config.cassandra().keyspace()
              + " via "
              + config.cassandra().contactPoints()
              + ", local datacenter "
              + config.cassandra().localDatacenter();
    };
  }

  /** The bound port (differs from the configured one when that was 0). */
  public int port() {
    return port;
  }

  /** The bound port of the separate admin listener ({@code admin.port}), or -1 without one. */
  public int adminPort() {
    return adminPort;
  }

  /** Blocks until the server has shut down (after {@link #close()}). */
  public void awaitShutdown() {
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops accepting, sends GoAway to every session, waits for in-flight requests for at most
   * {@code server.shutdownGrace}, then stops the engine (finishing queued commits) and closes the
   * store. Idempotent; safe to call from a shutdown hook.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      awaitShutdown();
      return;
    }
    try {
      long graceMs = config.server().shutdownGrace().toMillis();
      gateway.drain().get(graceMs + 1000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.warn("drain did not finish cleanly: {}", e.toString());
    } finally {
      closeAll(closeInReverse);
      stopped.countDown();
      log.info("Parley stopped");
    }
  }

  private static void closeAll(Deque<AutoCloseable> started) {
    while (!started.isEmpty()) {
      AutoCloseable c = started.pop();
      try {
        c.close();
      } catch (Exception e) {
        log.warn("error while closing {}: {}", c, e.toString());
      }
    }
  }
}
