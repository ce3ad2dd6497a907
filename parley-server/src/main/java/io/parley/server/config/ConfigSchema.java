package io.parley.server.config;

import io.parley.server.config.ConfigKey.Type;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every configuration setting with its default, bounds and description, in file order. Immutable.
 */
public final class ConfigSchema {
  private static final long MS = 1;
  private static final long S = 1_000;
  private static final long MIN = 60_000;
  private static final long H = 3_600_000;
  private static final long D = 86_400_000;
  private static final long KIB = 1024;
  private static final long MIB = 1024 * 1024;
  private static final long INT_MAX = Integer.MAX_VALUE;

  /** Every setting, grouped by section, in the order of the template. */
  public static final List<ConfigKey> KEYS =
      List.of(
          key("server", "host", Type.STRING, "0.0.0.0", 0, 0, "address to listen on (0.0.0.0 = all interfaces)"),
          key("server", "port", Type.INT, "8080", 0, 65535, "TCP port for WebSocket, admin API, metrics and demo (0 = any free port)"),
          key("server", "shutdown_grace", Type.DURATION, "10s", 0, 10 * MIN, "how long a shutdown waits for sessions and in-flight writes to drain"),
          key("server", "proxy_protocol", Type.BOOL, "false", 0, 0, "every connection to server.port starts with a PROXY protocol v1/v2 header (HAProxy send-proxy-v2) whose source is the client address; others are closed"),
          key("server", "roles", Type.STRING_LIST, "[gateway, engine, notify]", 0, 0, "what this process runs: gateway (WebSocket sessions), engine (sequencing and storage), notify (webhooks and pushes); a process without all three needs cluster.kafka"),
          key("storage", "engine", Type.STRING, "rocksdb", 0, 0, "storage engine: rocksdb (embedded, one node) or cassandra (a cluster, see cassandra.*)"),
          key("storage", "data_dir", Type.PATH, "./parley-data", 0, 0, "directory of the embedded store (and of the dev-mode keys)"),
          key("storage", "fsync", Type.BOOL, "true", 0, 0, "acknowledge a write only after it is fsynced (keep true in production)"),
          key("storage", "max_batch_writes", Type.INT, "1024", 1, 100_000, "most writes grouped into one commit (group commit)"),
          key("storage", "breaker_failure_rate", Type.INT, "50", 1, 100, "percent of failed store calls (reads and writes counted apart) that opens the store circuit breaker"),
          key("storage", "breaker_window", Type.INT, "20", 1, 10_000, "how many recent store calls the breaker's failure rate covers (and the minimum before it opens)"),
          key("storage", "breaker_open_duration", Type.DURATION, "5s", 100 * MS, 10 * MIN, "how long an open store breaker refuses calls before probing the store again"),
          key("cassandra", "contact_points", Type.STRING_LIST, "[]", 0, 0, "host:port of Cassandra nodes to connect to (required when storage.engine is cassandra)"),
          key("cassandra", "local_datacenter", Type.STRING, "datacenter1", 0, 0, "the Cassandra datacenter of this server; reads and writes use LOCAL_QUORUM there"),
          key("cassandra", "keyspace", Type.STRING, "parley", 0, 0, "keyspace holding Parley's tables (created with its schema at start if missing)"),
          key("cassandra", "replication", Type.STRING, "SimpleStrategy:1", 0, 0, "replication of a newly created keyspace: NetworkTopologyStrategy:dc1=3,dc2=3 (production) or SimpleStrategy:<n>"),
          key("cluster", "kafka.bootstrap_servers", Type.OPTIONAL_STRING, null, 0, 0, "Kafka brokers (host:port,host:port) connecting the processes of a cluster; required unless this process runs all three roles"),
          key("cluster", "kafka.topic_prefix", Type.STRING, "parley.", 0, 0, "prefix of every Kafka topic and consumer group Parley creates (clusters sharing brokers need different prefixes)"),
          key("cluster", "kafka.command_partitions", Type.INT, "16", 1, 1024, "partitions of the command topic = conversation shards, created once: fixed for the life of the cluster"),
          key("cluster", "kafka.replication_factor", Type.INT, "3", 1, 32_767, "replication factor of the topics Parley creates (at most the number of brokers)"),
          key("cluster", "node_id", Type.OPTIONAL_STRING, null, 0, 0, "this process's unique id in the cluster, letters, digits, '.', '_', '-' (null = <hostname>-<pid>)"),
          key("cluster", "request_timeout", Type.DURATION, "10s", 100 * MS, 10 * MIN, "how long a gateway waits for an engine before answering UNAVAILABLE"),
          key("auth", "hmac_secret", Type.OPTIONAL_STRING, null, 0, 0, "HS256 shared secret, base64, at least 32 bytes (openssl rand -base64 32)"),
          key("auth", "public_keys_pem", Type.STRING_LIST, "[]", 0, 0, "PEM public keys (RSA >= 2048 bits, EC P-256, Ed25519): inline PEM text or file paths"),
          key("auth", "jwks_urls", Type.STRING_LIST, "[]", 0, 0, "OIDC JWKS endpoints (http or https) whose keys are accepted"),
          key("auth", "jwks_cache_ttl", Type.DURATION, "5m", S, D, "how long a fetched JWKS is used before it is fetched again"),
          key("auth", "issuer", Type.OPTIONAL_STRING, null, 0, 0, "required token iss claim (null = accept any)"),
          key("auth", "audience", Type.OPTIONAL_STRING, null, 0, 0, "required token aud claim (null = accept any)"),
          key("auth", "clock_skew", Type.DURATION, "60s", 0, 10 * MIN, "tolerance when checking token exp and nbf"),
          key("auth", "dev_token_ttl", Type.DURATION, "24h", S, 366 * D, "lifetime of tokens minted by ./parley token and the dev endpoint"),
          key("admin", "api_key", Type.OPTIONAL_STRING, null, 0, 0, "admin API bearer key, at least 32 characters (openssl rand -hex 32)"),
          key("admin", "port", Type.INT, "-1", -1, 65535, "separate listener for the admin API, OpenAPI document and /metrics (-1 = on server.port, 0 = any free port)"),
          key("admin", "host", Type.STRING, "127.0.0.1", 0, 0, "address of the separate admin listener (used when admin.port is not -1)"),
          key("tls", "enabled", Type.BOOL, "false", 0, 0, "serve wss:// and https:// (TLS 1.2/1.3) on every listener"),
          key("tls", "cert_pem", Type.OPTIONAL_STRING, null, 0, 0, "PEM file with the certificate chain, leaf first (required when tls.enabled)"),
          key("tls", "key_pem", Type.OPTIONAL_STRING, null, 0, 0, "PEM file with the private key of the leaf certificate (PKCS#8, or PKCS#1/SEC1)"),
          key("tls", "self_signed", Type.BOOL, "false", 0, 0, "development only: enable TLS with a self-signed certificate kept in the data directory"),
          key("limits", "max_frame_bytes", Type.BYTES, "128KiB", KIB, 16 * MIB, "largest WebSocket frame a client may send"),
          key("limits", "max_message_bytes", Type.BYTES, "64KiB", 1, 16 * MIB, "largest message content (must be below max_frame_bytes)"),
          key("limits", "max_group_members", Type.INT, "1000", 2, 1_000_000, "most members of a group conversation"),
          key("limits", "max_history_page", Type.INT, "200", 1, 100_000, "most events returned by one history request"),
          key("limits", "max_sync_page", Type.INT, "500", 1, 100_000, "most events returned by one sync page"),
          key("limits", "max_inflight_per_connection", Type.INT, "64", 1, 100_000, "most unanswered requests per connection"),
          key("limits", "outbound_buffer_bytes", Type.BYTES, "1MiB", 64 * KIB, 1024 * MIB, "bytes queued to a slow client before it must resync"),
          key("limits", "max_conversations_per_user", Type.INT, "10000", 1, INT_MAX, "most conversations (channels included) one user may belong to"),
          key("limits", "max_connections_per_user", Type.INT, "20", 1, 1_000_000, "most WebSocket connections (devices) of one user at a time, per node"),
          key("limits", "max_connections_per_ip", Type.INT, "1000", 1, 10_000_000, "most WebSocket connections from one IP address (IPv6: one /64) at a time, per node"),
          key("rate_limits", "enabled", Type.BOOL, "true", 0, 0, "enforce the request rates below (keep true in production)"),
          key("rate_limits", "send_per_user", Type.RATE, "50/10s", 0, 0, "message sends, edits, deletes and reactions of one user"),
          key("rate_limits", "send_per_ip", Type.RATE, "1000/10s", 0, 0, "message sends, edits, deletes and reactions from one IP address"),
          key("rate_limits", "typing_per_user", Type.RATE, "30/10s", 0, 0, "typing indicators of one user"),
          key("rate_limits", "typing_per_ip", Type.RATE, "600/10s", 0, 0, "typing indicators from one IP address"),
          key("rate_limits", "presence_per_user", Type.RATE, "30/1m", 0, 0, "presence updates and presence subscriptions of one user"),
          key("rate_limits", "presence_per_ip", Type.RATE, "600/1m", 0, 0, "presence updates and presence subscriptions from one IP address"),
          key("rate_limits", "join_per_user", Type.RATE, "60/1m", 0, 0, "conversation creation, direct opens, channel joins and member adds of one user"),
          key("rate_limits", "join_per_ip", Type.RATE, "600/1m", 0, 0, "conversation creation, direct opens, channel joins and member adds from one IP address"),
          key("rate_limits", "admin_per_key", Type.RATE, "2000/1s", 0, 0, "admin API calls made with the admin API key"),
          key("rate_limits", "admin_per_ip", Type.RATE, "2000/1s", 0, 0, "admin API calls from one IP address (checked before the key)"),
          key("rate_limits", "max_tracked_keys", Type.INT, "100000", 16, 100_000_000, "most users or addresses whose buckets each limit remembers (least recently used forgotten first)"),
          key("timeouts", "handshake", Type.DURATION, "10s", MS, H, "time a new connection has to send its HTTP request and then to authenticate"),
          key("timeouts", "idle", Type.DURATION, "60s", S, D, "a connection silent for this long is closed"),
          key("timeouts", "ping_interval", Type.DURATION, "25s", S, D, "how often the server pings (must be below idle)"),
          key("timeouts", "token_expiry_warning", Type.DURATION, "60s", 0, D, "how long before token expiry the session is warned"),
          key("notify", "max_attempts", Type.INT, "12", 1, 1000, "attempts of a webhook or push delivery before it moves to the dead-letter list"),
          key("notify", "backoff_base", Type.DURATION, "1s", MS, H, "first retry delay cap; doubles per attempt (full jitter)"),
          key("notify", "backoff_max", Type.DURATION, "10m", MS, D, "largest retry delay cap"),
          key("notify", "poll_interval", Type.DURATION, "200ms", MS, MIN, "how often the outbox is checked for due jobs"),
          key("notify", "push_delay", Type.DURATION, "3s", 0, H, "how long a member's devices have to receive an event over their sockets before a push is sent"),
          key("notify", "http_timeout", Type.DURATION, "10s", 100 * MS, 10 * MIN, "timeout of one webhook or push provider request"),
          key("notify", "breaker_open_duration", Type.DURATION, "30s", 10 * MS, H, "how long an endpoint's circuit breaker stays open before a trial request"),
          key("notify", "push_webhook_url", Type.OPTIONAL_STRING, null, 0, 0, "generic push provider: the app's push gateway URL (null = provider off)"),
          key("notify", "push_webhook_secret", Type.OPTIONAL_STRING, null, 0, 0, "generic push provider: HMAC-SHA256 key requests to the gateway are signed with"),
          key("notify", "push_preview", Type.BOOL, "false", 0, 0, "include the text of text/* messages in pushes (opaque bodies never are)"),
          key("notify", "fcm_service_account_file", Type.OPTIONAL_STRING, null, 0, 0, "FCM: path of the Firebase service-account JSON key (null = FCM off)"),
          key("notify", "fcm_base_url", Type.STRING, "https://fcm.googleapis.com", 0, 0, "FCM: base URL of the HTTP v1 API"),
          key("notify", "webpush_vapid_public_key", Type.OPTIONAL_STRING, null, 0, 0, "Web Push: VAPID public key, base64url uncompressed P-256 point (null = Web Push off)"),
          key("notify", "webpush_vapid_private_key", Type.OPTIONAL_STRING, null, 0, 0, "Web Push: VAPID private key, base64url 32-byte scalar"),
          key("notify", "webpush_subject", Type.STRING, "mailto:admin@localhost", 0, 0, "Web Push: VAPID contact (mailto: or https: URL) for push service operators"),
          key("notify", "apns_key_file", Type.OPTIONAL_STRING, null, 0, 0, "APNs: path of the AuthKey_<key id>.p8 signing key (null = APNs off)"),
          key("notify", "apns_key_id", Type.OPTIONAL_STRING, null, 0, 0, "APNs: the key id of that key"),
          key("notify", "apns_team_id", Type.OPTIONAL_STRING, null, 0, 0, "APNs: the Apple developer team id"),
          key("notify", "apns_topic", Type.OPTIONAL_STRING, null, 0, 0, "APNs: the app's bundle id"),
          key("notify", "apns_base_url", Type.STRING, "https://api.push.apple.com", 0, 0, "APNs: base URL (https://api.sandbox.push.apple.com for development builds)"),
          key("notify", "before_send_url", Type.OPTIONAL_STRING, null, 0, 0, "before-send moderation hook: URL asked to allow, reject or rewrite each new or edited message (null = no hook)"),
          key("notify", "before_send_secret", Type.OPTIONAL_STRING, null, 0, 0, "before-send hook: HMAC-SHA256 key its requests are signed with (webhook signature scheme)"),
          key("notify", "before_send_timeout", Type.DURATION, "300ms", 10 * MS, 10 * S, "before-send hook: how long a message waits for the answer before the policy applies"),
          key("notify", "before_send_policy", Type.STRING, "fail_open", 0, 0, "before-send hook down, slow or breaker open: fail_open (store as sent) or fail_closed (refuse with UNAVAILABLE)"));

  private static final Map<String, ConfigKey> BY_PATH = index();

  private ConfigSchema() {}

  /** The setting at a dotted path such as {@code server.port}. */
  public static Optional<ConfigKey> find(String path) {
    return Optional.ofNullable(BY_PATH.get(path));
  }

  /** The section names in file order. */
  public static List<String> sections() {
    return KEYS.stream().map(ConfigKey::section).distinct().toList();
  }

  private static ConfigKey key(
      String section, String name, Type type, String def, long min, long max, String comment) {
    return new ConfigKey(section, name, type, def, min, max, comment);
  }

  private static Map<String, ConfigKey> index() {
    Map<String, ConfigKey> m = new LinkedHashMap<>();
    for (ConfigKey k : KEYS) {
      m.put(k.path(), k);
    }
    return Map.copyOf(m);
  }
}
