package io.parley.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The server's whole configuration, validated at start by {@link ConfigLoader}. Immutable; passed
 * into the composition root and from there into each module's constructor (no static state).
 *
 * @param devMode true when started without a config file: data under ./parley-data, generated
 *     signing and admin keys, the dev token endpoint enabled
 */
public record ParleyConfig(
    boolean devMode,
    Server server,
    Storage storage,
    Cassandra cassandra,
    Auth auth,
    Admin admin,
    Limits limits,
    Timeouts timeouts,
    RateLimits rateLimits,
    Tls tls,
    StoreBreaker storeBreaker,
    Notify notifications,
    Cluster cluster) {

  /** A single-process configuration (every role, no Kafka: {@link Cluster#DEFAULTS}). */
  public ParleyConfig(
      boolean devMode,
      Server server,
      Storage storage,
      Cassandra cassandra,
      Auth auth,
      Admin admin,
      Limits limits,
      Timeouts timeouts,
      RateLimits rateLimits,
      Tls tls,
      StoreBreaker storeBreaker,
      Notify notifications) {
    this(
        devMode,
        server,
        storage,
        cassandra,
        auth,
        admin,
        limits,
        timeouts,
        rateLimits,
        tls,
        storeBreaker,
        notifications,
        Cluster.DEFAULTS);
  }

  /** A configuration that does not use Cassandra ({@link Cassandra#unused()}). */
  public ParleyConfig(
      boolean devMode,
      Server server,
      Storage storage,
      Auth auth,
      Admin admin,
      Limits limits,
      Timeouts timeouts,
      RateLimits rateLimits,
      Tls tls,
      StoreBreaker storeBreaker) {
    this(
        devMode,
        server,
        storage,
        Cassandra.unused(),
        auth,
        admin,
        limits,
        timeouts,
        rateLimits,
        tls,
        storeBreaker,
        Notify.DEFAULTS);
  }

  public ParleyConfig {
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(storeBreaker, "storeBreaker");
    Objects.requireNonNull(server, "server");
    Objects.requireNonNull(storage, "storage");
    Objects.requireNonNull(cassandra, "cassandra");
    Objects.requireNonNull(auth, "auth");
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(timeouts, "timeouts");
    Objects.requireNonNull(rateLimits, "rateLimits");
    Objects.requireNonNull(notifications, "notifications");
    Objects.requireNonNull(cluster, "cluster");
  }

  /** A configuration with TLS off, the default store circuit breaker and notification settings (tests, tools). */
  public ParleyConfig(
      boolean devMode,
      Server server,
      Storage storage,
      Auth auth,
      Admin admin,
      Limits limits,
      Timeouts timeouts,
      RateLimits rateLimits) {
    this(
        devMode,
        server,
        storage,
        auth,
        admin,
        limits,
        timeouts,
        rateLimits,
        Tls.disabled(),
        StoreBreaker.defaults());
  }

  /**
   * Network listener. Port 0 picks a free port (tests).
   *
   * @param proxyProtocol every connection to the main listener starts with a PROXY protocol (v1 or
   *     v2) header whose source address is the client's (behind HAProxy or another balancer)
   */
  public record Server(String host, int port, Duration shutdownGrace, boolean proxyProtocol) {
    /** A listener reached directly (no PROXY protocol). */
    public Server(String host, int port, Duration shutdownGrace) {
      this(host, port, shutdownGrace, false);
    }
  }

  /** The storage engines the server can run on. */
  public enum StorageEngine {
    /** The embedded RocksDB store in {@code storage.data_dir} (one node). */
    ROCKSDB,
    /** An Apache Cassandra cluster (see {@link Cassandra}). */
    CASSANDRA
  }

  /**
   * Storage.
   *
   * @param engine where the data lives; {@code dataDir} still holds the dev-mode keys
   * @param fsync whether a commit waits for fsync before acknowledging (true in production)
   * @param maxBatchWrites most writes grouped into one commit
   */
  public record Storage(StorageEngine engine, Path dataDir, boolean fsync, int maxBatchWrites) {
    public Storage {
      Objects.requireNonNull(engine, "engine");
    }

    /** The embedded engine, as configured before engines were selectable. */
    public Storage(Path dataDir, boolean fsync, int maxBatchWrites) {
      this(StorageEngine.ROCKSDB, dataDir, fsync, maxBatchWrites);
    }
  }

  /**
   * The Cassandra cluster used when {@code storage.engine} is {@code cassandra}.
   *
   * @param contactPoints {@code host:port} of nodes to bootstrap from
   * @param localDatacenter the datacenter whose replicas serve LOCAL_QUORUM reads and writes
   * @param keyspace created at start if missing
   * @param replication the keyspace's replication map as CQL wants it, e.g. {@code {class:
   *     NetworkTopologyStrategy, dc1: 3}}; used only when the keyspace is created
   */
  public record Cassandra(
      List<String> contactPoints,
      String localDatacenter,
      String keyspace,
      Map<String, String> replication) {
    public Cassandra {
      contactPoints = List.copyOf(contactPoints);
      replication = Map.copyOf(replication);
    }

    /** Settings for a deployment that does not use Cassandra. */
    public static Cassandra unused() {
      return new Cassandra(
          List.of(),
          "datacenter1",
          "parley",
          Map.of("class", "SimpleStrategy", "replication_factor", "1"));
    }
  }

  /**
   * JWT verification. At least one key source must be configured.
   *
   * @param hmacSecret base64 HS256 secret, or null
   * @param publicKeysPem PEM public keys (RSA, EC or Ed25519), each accepted
   * @param jwksUrls OIDC JWKS endpoints, cached for {@code jwksCacheTtl}
   * @param issuer required {@code iss}, or null to accept any
   * @param audience required {@code aud}, or null to accept any
   * @param devSigningKeyFile dev mode only: where the generated HS256 key is kept
   */
  public record Auth(
      String hmacSecret,
      List<String> publicKeysPem,
      List<String> jwksUrls,
      Duration jwksCacheTtl,
      String issuer,
      String audience,
      Duration clockSkew,
      Duration devTokenTtl) {
    public Auth {
      publicKeysPem = List.copyOf(publicKeysPem);
      jwksUrls = List.copyOf(jwksUrls);
    }
  }

  /**
   * Admin API: requests must carry {@code Authorization: Bearer <apiKey>}.
   *
   * @param host address of the separate admin listener (only used when {@code port >= 0})
   * @param port port of the separate admin listener serving the admin API, the OpenAPI document
   *     and {@code /metrics}; {@value #SHARED_LISTENER} serves them on the main port, 0 picks a free
   *     port
   */
  public record Admin(String apiKey, String host, int port) {
    /** {@link #port} value meaning: no separate listener, admin routes on the main port. */
    public static final int SHARED_LISTENER = -1;

    /** Admin routes on the main listener. */
    public Admin(String apiKey) {
      this(apiKey, "127.0.0.1", SHARED_LISTENER);
    }

    /** True when the admin routes are served only by their own listener. */
    public boolean separateListener() {
      return port != SHARED_LISTENER;
    }
  }

  /**
   * TLS for every listener (WebSocket, HTTP and the admin listener).
   *
   * @param enabled whether the listeners speak TLS ({@code wss://}, {@code https://})
   * @param certChainPem PEM file with the certificate chain, leaf first (null when disabled)
   * @param privateKeyPem PEM file with the leaf's private key (null when disabled)
   * @param selfSigned the chain and key were generated for development ({@code tls.self_signed})
   */
  public record Tls(boolean enabled, Path certChainPem, Path privateKeyPem, boolean selfSigned) {
    public Tls {
      if (enabled) {
        Objects.requireNonNull(certChainPem, "certChainPem");
        Objects.requireNonNull(privateKeyPem, "privateKeyPem");
      }
    }

    public static Tls disabled() {
      return new Tls(false, null, null, false);
    }
  }

  /**
   * The circuit breakers around store reads and writes.
   *
   * @param failureRatePercent failure rate over the window at which a breaker opens
   * @param windowCalls how many recent calls the failure rate is computed over (also the minimum
   *     number of calls before a breaker can open)
   * @param openDuration how long an open breaker refuses calls before it lets probes through
   */
  public record StoreBreaker(int failureRatePercent, int windowCalls, Duration openDuration) {
    public static StoreBreaker defaults() {
      return new StoreBreaker(50, 20, Duration.ofSeconds(5));
    }
  }

  /** Size and count limits; each violation is answered with a typed error. */
  public record Limits(
      int maxFrameBytes,
      int maxMessageBytes,
      int maxGroupMembers,
      int maxHistoryPage,
      int maxSyncPage,
      int maxInflightPerConnection,
      int outboundBufferBytes,
      int maxConversationsPerUser,
      int maxConnectionsPerUser,
      int maxConnectionsPerIp) {}

  /**
   * A token-bucket rate: a bucket of {@code permits} tokens refilled at {@code permits} per {@code
   * period}, so a client may burst {@code permits} requests and then sustain {@code permits/period}.
   * {@link #OFF} means no limit.
   */
  public record Rate(long permits, Duration period) {
    /** No limit. */
    public static final Rate OFF = new Rate(0, Duration.ZERO);

    public Rate {
      Objects.requireNonNull(period, "period");
      if (permits < 0 || (permits > 0 && period.isZero())) {
        throw new IllegalArgumentException("invalid rate " + permits + "/" + period);
      }
    }

    public boolean isOff() {
      return permits == 0;
    }
  }

  /**
   * Request rates per user and per client IP address (IPv6: per /64); an excess request is
   * answered with {@code RATE_LIMITED} and a {@code retry_after_ms} taken from the bucket.
   *
   * @param sendPerUser sends, edits, deletes and reactions
   * @param typingPerUser typing indicators
   * @param presencePerUser presence updates and presence subscriptions
   * @param joinPerUser conversation creation, direct opens, channel joins and member adds
   * @param adminPerKey admin API calls made with the admin key
   * @param adminPerIp admin API calls from one address, checked before the key
   * @param maxTrackedKeys most users or addresses whose buckets one limit keeps
   */
  public record RateLimits(
      boolean enabled,
      Rate sendPerUser,
      Rate sendPerIp,
      Rate typingPerUser,
      Rate typingPerIp,
      Rate presencePerUser,
      Rate presencePerIp,
      Rate joinPerUser,
      Rate joinPerIp,
      Rate adminPerKey,
      Rate adminPerIp,
      int maxTrackedKeys) {
    /** No rate limits at all (tests that measure or flood on purpose). */
    public static RateLimits disabled() {
      Rate off = Rate.OFF;
      return new RateLimits(false, off, off, off, off, off, off, off, off, off, off, 16);
    }
  }

  /** Connection timing. */
  public record Timeouts(
      Duration handshake, Duration idle, Duration pingInterval, Duration tokenExpiryWarning) {}

  /**
   * Notification outbox, webhooks and push (see docs/notifications.md).
   *
   * @param pushWebhookUrl the generic push provider's gateway URL, or null when it is off
   * @param pushWebhookSecret HMAC key for requests to that gateway, or null
   * @param fcmServiceAccountFile the Firebase service-account key file, or null when FCM is off
   * @param webpushVapidPublicKey VAPID public key (base64url), or null when Web Push is off
   * @param apnsKeyFile the APNs .p8 key, or null when APNs is off
   */
  public record Notify(
      int maxAttempts,
      Duration backoffBase,
      Duration backoffMax,
      Duration pollInterval,
      Duration pushDelay,
      Duration httpTimeout,
      Duration breakerOpenDuration,
      String pushWebhookUrl,
      String pushWebhookSecret,
      boolean pushPreview,
      String fcmServiceAccountFile,
      String fcmBaseUrl,
      String webpushVapidPublicKey,
      String webpushVapidPrivateKey,
      String webpushSubject,
      String apnsKeyFile,
      String apnsKeyId,
      String apnsTeamId,
      String apnsTopic,
      String apnsBaseUrl,
      BeforeSend beforeSend) {
    public Notify {
      java.util.Objects.requireNonNull(beforeSend, "beforeSend");
    }

    /** Without a before-send hook. */
    public Notify(
        int maxAttempts,
        Duration backoffBase,
        Duration backoffMax,
        Duration pollInterval,
        Duration pushDelay,
        Duration httpTimeout,
        Duration breakerOpenDuration,
        String pushWebhookUrl,
        String pushWebhookSecret,
        boolean pushPreview,
        String fcmServiceAccountFile,
        String fcmBaseUrl,
        String webpushVapidPublicKey,
        String webpushVapidPrivateKey,
        String webpushSubject,
        String apnsKeyFile,
        String apnsKeyId,
        String apnsTeamId,
        String apnsTopic,
        String apnsBaseUrl) {
      this(
          maxAttempts,
          backoffBase,
          backoffMax,
          pollInterval,
          pushDelay,
          httpTimeout,
          breakerOpenDuration,
          pushWebhookUrl,
          pushWebhookSecret,
          pushPreview,
          fcmServiceAccountFile,
          fcmBaseUrl,
          webpushVapidPublicKey,
          webpushVapidPrivateKey,
          webpushSubject,
          apnsKeyFile,
          apnsKeyId,
          apnsTeamId,
          apnsTopic,
          apnsBaseUrl,
          BeforeSend.OFF);
    }

    /** The defaults of {@link ConfigSchema}. */
    public static final Notify DEFAULTS =
        new Notify(
            12,
            Duration.ofSeconds(1),
            Duration.ofMinutes(10),
            Duration.ofMillis(200),
            Duration.ofSeconds(3),
            Duration.ofSeconds(10),
            Duration.ofSeconds(30),
            null,
            null,
            false,
            null,
            "https://fcm.googleapis.com",
            null,
            null,
            "mailto:admin@localhost",
            null,
            null,
            null,
            null,
            "https://api.push.apple.com");
  }

  /**
   * The synchronous before-send moderation hook (see docs/notifications.md).
   *
   * @param url the hook's URL, or null when there is no hook
   * @param secret HMAC key the requests are signed with, or null (then they are not signed)
   * @param timeout how long a message waits for the hook's answer before the policy applies
   * @param failClosed true: refuse messages ({@code UNAVAILABLE}) when the hook cannot answer;
   *     false: store them as sent
   */
  public record BeforeSend(String url, String secret, Duration timeout, boolean failClosed) {
    public static final BeforeSend OFF = new BeforeSend(null, null, Duration.ofMillis(300), false);

    public BeforeSend {
      java.util.Objects.requireNonNull(timeout, "timeout");
    }
  }

  /** The parts a Parley process can run ({@code server.roles}). */
  public enum Role {
    /** Holds the clients' WebSocket sessions; stateless. */
    GATEWAY,
    /** Sequences and persists (on Cassandra when not every role runs in this process). */
    ENGINE,
    /** Delivers the notification outbox (webhooks and pushes). */
    NOTIFY;

    /** The name used in configuration, e.g. {@code gateway}. */
    public String configName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * The roles this process runs and how it reaches the other processes of a cluster (see
   * docs/architecture.md, "Cluster"). A process running every role needs no Kafka.
   *
   * @param roles the roles of this process ({@code server.roles}); never empty
   * @param kafkaBootstrapServers comma-separated {@code host:port} of Kafka brokers, or null
   * @param topicPrefix prefix of every topic Parley creates
   * @param commandPartitions partitions of the command topic (fixed for the life of a cluster)
   * @param replicationFactor replication of the topics Parley creates
   * @param nodeId this process's unique id in the cluster (names its reply topic)
   * @param requestTimeout how long a gateway waits for an engine's answer
   */
  public record Cluster(
      java.util.Set<Role> roles,
      String kafkaBootstrapServers,
      String topicPrefix,
      int commandPartitions,
      int replicationFactor,
      String nodeId,
      Duration requestTimeout) {
    /** The defaults of {@link ConfigSchema}: every role in one process, no Kafka. */
    public static final Cluster DEFAULTS =
        new Cluster(
            java.util.EnumSet.allOf(Role.class),
            null,
            "parley.",
            16,
            3,
            NodeIds.local(),
            Duration.ofSeconds(10));

    public Cluster {
      roles = java.util.Collections.unmodifiableSet(java.util.EnumSet.copyOf(roles));
      Objects.requireNonNull(topicPrefix, "topicPrefix");
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(requestTimeout, "requestTimeout");
    }

    /** True when this process runs the role. */
    public boolean runs(Role role) {
      return roles.contains(role);
    }

    /** True when this process runs gateway, engine and notify itself (no Kafka needed). */
    public boolean runsAllRoles() {
      return roles.size() == Role.values().length;
    }
  }
}
