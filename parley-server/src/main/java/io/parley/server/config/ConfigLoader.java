package io.parley.server.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.parley.server.auth.DevKeys;
import io.parley.server.auth.HmacSecrets;
import io.parley.server.auth.PemPublicKeys;
import io.parley.server.config.ConfigKey.Type;
import io.parley.server.gateway.tls.DevCertificate;
import io.parley.server.gateway.tls.ServerTls;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Builds the validated {@link ParleyConfig} from, lowest to highest precedence: built-in defaults
 * ({@link ConfigSchema}), the YAML file given with {@code --config}, environment variables ({@code
 * PARLEY_<SECTION>_<KEY>}, e.g. {@code PARLEY_SERVER_PORT}, {@code PARLEY_AUTH_HMAC_SECRET}; lists
 * comma-separated; empty values are ignored) and command-line flags ({@code --host}, {@code --port},
 * {@code --data-dir}).
 *
 * <p>Every problem is collected and reported together in one {@link ConfigException}: values out of
 * range or of the wrong type, unknown YAML sections and keys (with a suggestion), unreadable key
 * files, inconsistent limits and, in production mode, a missing key source or admin key.
 *
 * <p>Without a config file the server runs in <b>development mode</b>: data in {@code
 * ./parley-data} unless the flag or environment says otherwise, and the HMAC secret and admin key
 * taken from {@link DevKeys} in the data directory (generated on first start) unless the environment
 * provides them.
 *
 * <p>Stateless apart from the environment it was given; thread-safe.
 */
public final class ConfigLoader {

  /** What {@link #load} does when development mode needs keys that are not on disk yet. */
  public enum DevKeyPolicy {
    /** Generate them (the server). */
    CREATE_IF_MISSING,
    /** Fail with a clear message (tools such as {@code ./parley token} that must not invent keys). */
    REQUIRE_EXISTING
  }

  private static final String PEM_MARKER = "-----BEGIN";

  private final Map<String, String> env;

  /** @param env the process environment ({@code System.getenv()}), a parameter for testability */
  public ConfigLoader(Map<String, String> env) {
    this.env = Map.copyOf(Objects.requireNonNull(env, "env"));
  }

  /** Loads the configuration, generating development keys if needed. */
  public ParleyConfig load(ConfigOverrides overrides) throws ConfigException {
    return load(overrides, DevKeyPolicy.CREATE_IF_MISSING);
  }

  /**
   * Loads and validates the configuration.
   *
   * @throws ConfigException listing every problem found
   */
  public ParleyConfig load(ConfigOverrides overrides, DevKeyPolicy devKeyPolicy)
      throws ConfigException {
    Objects.requireNonNull(overrides, "overrides");
    Objects.requireNonNull(devKeyPolicy, "devKeyPolicy");
    boolean devMode = overrides.configFile() == null;
    List<String> problems = new ArrayList<>();
    Map<String, Setting> settings = new LinkedHashMap<>();
    for (ConfigKey key : ConfigSchema.KEYS) {
      settings.put(key.path(), new Setting(defaultValue(key), null));
    }
    if (!devMode) {
      readYaml(overrides.configFile(), settings, problems);
    }
    for (ConfigKey key : ConfigSchema.KEYS) {
      String value = env.get(key.envVar());
      if (value != null && !value.isEmpty()) {
        Object raw = key.type() == Type.STRING_LIST ? splitList(value) : value;
        settings.put(key.path(), new Setting(raw, key.envVar()));
      }
    }
    if (overrides.host() != null) {
      settings.put("server.host", new Setting(overrides.host(), "--host"));
    }
    if (overrides.port() != null) {
      settings.put("server.port", new Setting((long) overrides.port(), "--port"));
    }
    if (overrides.dataDir() != null) {
      settings.put("storage.data_dir", new Setting(overrides.dataDir().toString(), "--data-dir"));
    }
    if (overrides.devTls()) {
      settings.put("tls.self_signed", new Setting(Boolean.TRUE, "--dev-tls"));
    }
    if (overrides.roles() != null) {
      settings.put("server.roles", new Setting(overrides.roles(), "--roles"));
    }

    Values v = new Values(settings, problems);
    ParleyConfig.Server server =
        new ParleyConfig.Server(
            v.string("server.host"),
            v.integer("server.port"),
            v.duration("server.shutdown_grace"),
            v.bool("server.proxy_protocol"));
    ParleyConfig.Storage storage =
        new ParleyConfig.Storage(
            engine(v, problems),
            v.path("storage.data_dir"),
            v.bool("storage.fsync"),
            v.integer("storage.max_batch_writes"));
    ParleyConfig.Cassandra cassandra = CassandraSettings.read(v::list, v::string, v::origin, problems);
    if (storage.engine() == ParleyConfig.StorageEngine.CASSANDRA
        && cassandra.contactPoints().isEmpty()) {
      problems.add(
          "cassandra.contact_points must list at least one host:port when storage.engine is"
              + " cassandra (or set PARLEY_CASSANDRA_CONTACT_POINTS)");
    }
    ParleyConfig.Cluster cluster = ClusterSettings.read(v, storage.engine(), problems);
    String hmacSecret = v.optional("auth.hmac_secret");
    if (hmacSecret != null) {
      try {
        HmacSecrets.decode(hmacSecret);
      } catch (IllegalArgumentException e) {
        problems.add("auth.hmac_secret is invalid: " + e.getMessage() + v.origin("auth.hmac_secret"));
      }
    }
    List<String> pems = publicKeys(v.list("auth.public_keys_pem"), v.origin("auth.public_keys_pem"), problems);
    List<String> jwksUrls = v.list("auth.jwks_urls");
    for (int i = 0; i < jwksUrls.size(); i++) {
      String problem = urlProblem(jwksUrls.get(i));
      if (problem != null) {
        problems.add("auth.jwks_urls[" + i + "] " + problem + v.origin("auth.jwks_urls"));
      }
    }
    String adminKey = v.optional("admin.api_key");
    if (adminKey != null && adminKey.length() < 32) {
      problems.add(
          "admin.api_key must be at least 32 characters, got "
              + adminKey.length()
              + v.origin("admin.api_key"));
    }
    ParleyConfig.Admin admin =
        new ParleyConfig.Admin(adminKey, v.string("admin.host"), v.integer("admin.port"));
    ParleyConfig.StoreBreaker breaker =
        new ParleyConfig.StoreBreaker(
            v.integer("storage.breaker_failure_rate"),
            v.integer("storage.breaker_window"),
            v.duration("storage.breaker_open_duration"));
    boolean selfSigned = v.bool("tls.self_signed");
    ParleyConfig.Tls tls = tls(v, selfSigned, problems);
    ParleyConfig.Limits limits =
        new ParleyConfig.Limits(
            v.bytes("limits.max_frame_bytes"),
            v.bytes("limits.max_message_bytes"),
            v.integer("limits.max_group_members"),
            v.integer("limits.max_history_page"),
            v.integer("limits.max_sync_page"),
            v.integer("limits.max_inflight_per_connection"),
            v.bytes("limits.outbound_buffer_bytes"),
            v.integer("limits.max_conversations_per_user"),
            v.integer("limits.max_connections_per_user"),
            v.integer("limits.max_connections_per_ip"));
    if (limits.maxMessageBytes() >= limits.maxFrameBytes()) {
      problems.add(
          "limits.max_message_bytes ("
              + ByteSizes.format(limits.maxMessageBytes())
              + ") must be smaller than limits.max_frame_bytes ("
              + ByteSizes.format(limits.maxFrameBytes())
              + ")");
    }
    ParleyConfig.Timeouts timeouts =
        new ParleyConfig.Timeouts(
            v.duration("timeouts.handshake"),
            v.duration("timeouts.idle"),
            v.duration("timeouts.ping_interval"),
            v.duration("timeouts.token_expiry_warning"));
    if (timeouts.pingInterval().compareTo(timeouts.idle()) >= 0) {
      problems.add(
          "timeouts.ping_interval ("
              + Durations.format(timeouts.pingInterval())
              + ") must be shorter than timeouts.idle ("
              + Durations.format(timeouts.idle())
              + ")");
    }
    ParleyConfig.RateLimits rateLimits =
        new ParleyConfig.RateLimits(
            v.bool("rate_limits.enabled"),
            v.rate("rate_limits.send_per_user"),
            v.rate("rate_limits.send_per_ip"),
            v.rate("rate_limits.typing_per_user"),
            v.rate("rate_limits.typing_per_ip"),
            v.rate("rate_limits.presence_per_user"),
            v.rate("rate_limits.presence_per_ip"),
            v.rate("rate_limits.join_per_user"),
            v.rate("rate_limits.join_per_ip"),
            v.rate("rate_limits.admin_per_key"),
            v.rate("rate_limits.admin_per_ip"),
            v.integer("rate_limits.max_tracked_keys"));
    ParleyConfig.Notify notify =
        new ParleyConfig.Notify(
            v.integer("notify.max_attempts"),
            v.duration("notify.backoff_base"),
            v.duration("notify.backoff_max"),
            v.duration("notify.poll_interval"),
            v.duration("notify.push_delay"),
            v.duration("notify.http_timeout"),
            v.duration("notify.breaker_open_duration"),
            v.optional("notify.push_webhook_url"),
            v.optional("notify.push_webhook_secret"),
            v.bool("notify.push_preview"),
            v.optional("notify.fcm_service_account_file"),
            v.string("notify.fcm_base_url"),
            v.optional("notify.webpush_vapid_public_key"),
            v.optional("notify.webpush_vapid_private_key"),
            v.string("notify.webpush_subject"),
            v.optional("notify.apns_key_file"),
            v.optional("notify.apns_key_id"),
            v.optional("notify.apns_team_id"),
            v.optional("notify.apns_topic"),
            v.string("notify.apns_base_url"),
            new ParleyConfig.BeforeSend(
                v.optional("notify.before_send_url"),
                v.optional("notify.before_send_secret"),
                v.duration("notify.before_send_timeout"),
                "fail_closed".equals(v.string("notify.before_send_policy"))));
    String policy = v.string("notify.before_send_policy");
    if (!policy.equals("fail_open") && !policy.equals("fail_closed")) {
      problems.add("notify.before_send_policy must be fail_open or fail_closed, not " + policy);
    }
    if (notify.beforeSend().url() != null) {
      try {
        java.net.URI u = java.net.URI.create(notify.beforeSend().url());
        if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
          problems.add("notify.before_send_url must be an http(s) URL");
        }
      } catch (IllegalArgumentException e) {
        problems.add("notify.before_send_url is not a URL: " + e.getMessage());
      }
    }
    if (notify.apnsKeyFile() != null
        && (notify.apnsKeyId() == null || notify.apnsTeamId() == null || notify.apnsTopic() == null)) {
      problems.add(
          "notify.apns_key_file needs notify.apns_key_id, notify.apns_team_id and notify.apns_topic");
    }
    if ((notify.webpushVapidPublicKey() == null) != (notify.webpushVapidPrivateKey() == null)) {
      problems.add(
          "notify.webpush_vapid_public_key and notify.webpush_vapid_private_key must be set together");
    }
    if (notify.fcmServiceAccountFile() != null
        && !java.nio.file.Files.isReadable(java.nio.file.Path.of(notify.fcmServiceAccountFile()))) {
      problems.add(
          "notify.fcm_service_account_file "
              + notify.fcmServiceAccountFile()
              + " is not a readable file"
              + v.origin("notify.fcm_service_account_file"));
    }
    String fcmUrlProblem = urlProblem(notify.fcmBaseUrl());
    if (fcmUrlProblem != null) {
      problems.add("notify.fcm_base_url " + fcmUrlProblem + v.origin("notify.fcm_base_url"));
    }
    if (notify.pushWebhookUrl() != null) {
      String problem = urlProblem(notify.pushWebhookUrl());
      if (problem != null) {
        problems.add("notify.push_webhook_url " + problem + v.origin("notify.push_webhook_url"));
      }
      if (notify.pushWebhookSecret() == null || notify.pushWebhookSecret().length() < 16) {
        problems.add("notify.push_webhook_secret must be set (at least 16 characters) when notify.push_webhook_url is");
      }
    }
    if (notify.backoffMax().compareTo(notify.backoffBase()) < 0) {
      problems.add("notify.backoff_max must not be shorter than notify.backoff_base");
    }
    boolean hasKeySource = hmacSecret != null || !pems.isEmpty() || !jwksUrls.isEmpty();
    if (!devMode) {
      if (!hasKeySource) {
        problems.add(
            "no token key source: set auth.hmac_secret, auth.public_keys_pem or auth.jwks_urls"
                + " (or PARLEY_AUTH_HMAC_SECRET, PARLEY_AUTH_PUBLIC_KEYS_PEM, PARLEY_AUTH_JWKS_URLS)");
      }
      if (adminKey == null) {
        problems.add(
            "admin.api_key is required outside development mode (at least 32 characters, e.g."
                + " from 'openssl rand -hex 32'; or set PARLEY_ADMIN_API_KEY)");
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }

    if (devMode && (hmacSecret == null || adminKey == null)) {
      DevKeys keys = devKeys(storage.dataDir(), devKeyPolicy);
      hmacSecret = hmacSecret == null ? keys.hmacSecret() : hmacSecret;
      adminKey = adminKey == null ? keys.adminApiKey() : adminKey;
    }
    ParleyConfig.Auth auth =
        new ParleyConfig.Auth(
            hmacSecret,
            pems,
            jwksUrls,
            v.duration("auth.jwks_cache_ttl"),
            v.optional("auth.issuer"),
            v.optional("auth.audience"),
            v.duration("auth.clock_skew"),
            v.duration("auth.dev_token_ttl"));
    if (selfSigned) {
      tls = devCertificate(storage.dataDir(), server.host());
    }
    return new ParleyConfig(
        devMode,
        server,
        storage,
        cassandra,
        auth,
        new ParleyConfig.Admin(adminKey, admin.host(), admin.port()),
        limits,
        timeouts,
        rateLimits,
        tls,
        breaker,
        notify,
        cluster);
  }

  private static ParleyConfig.StorageEngine engine(Values v, List<String> problems) {
    String text = v.string("storage.engine").strip();
    for (ParleyConfig.StorageEngine e : ParleyConfig.StorageEngine.values()) {
      if (e.name().equalsIgnoreCase(text)) {
        return e;
      }
    }
    problems.add(
        "storage.engine must be rocksdb or cassandra, got '" + text + "'" + v.origin("storage.engine"));
    return ParleyConfig.StorageEngine.ROCKSDB;
  }

  /**
   * The TLS settings from configured files; each file must be readable and the pair must load as
   * a server certificate and key, so a wrong path or a mismatched key stops the start here with a
   * message naming the setting instead of failing at the first handshake.
   */
  private static ParleyConfig.Tls tls(Values v, boolean selfSigned, List<String> problems) {
    boolean enabled = v.bool("tls.enabled");
    String cert = v.optional("tls.cert_pem");
    String key = v.optional("tls.key_pem");
    if (selfSigned) {
      if (cert != null || key != null) {
        problems.add(
            "tls.self_signed (or --dev-tls) generates its own certificate: remove tls.cert_pem and"
                + " tls.key_pem, or turn tls.self_signed off"
                + v.origin("tls.self_signed"));
      }
      return ParleyConfig.Tls.disabled();
    }
    if (!enabled) {
      return ParleyConfig.Tls.disabled();
    }
    boolean filesOk = true;
    for (String path : List.of("tls.cert_pem", "tls.key_pem")) {
      String file = v.optional(path);
      if (file == null) {
        problems.add(path + " is required when tls.enabled is true" + v.origin("tls.enabled"));
        filesOk = false;
      } else if (!Files.isReadable(Path.of(file))) {
        problems.add(
            path
                + ": cannot read PEM file '"
                + file
                + "': "
                + (Files.exists(Path.of(file)) ? "not readable" : "no such file")
                + v.origin(path));
        filesOk = false;
      }
    }
    if (!filesOk) {
      return ParleyConfig.Tls.disabled();
    }
    String problem = ServerTls.check(Path.of(cert), Path.of(key));
    if (problem != null) {
      problems.add("tls.cert_pem / tls.key_pem: " + problem + v.origin("tls.cert_pem"));
      return ParleyConfig.Tls.disabled();
    }
    return new ParleyConfig.Tls(true, Path.of(cert), Path.of(key), false);
  }

  private static ParleyConfig.Tls devCertificate(Path dataDir, String host)
      throws ConfigException {
    try {
      DevCertificate dev = DevCertificate.loadOrCreate(dataDir, host);
      return new ParleyConfig.Tls(true, dev.certChainPem(), dev.privateKeyPem(), true);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(
          "cannot set up the development TLS certificate in " + dataDir + ": " + describe(e));
    }
  }

  private static DevKeys devKeys(Path dataDir, DevKeyPolicy policy) throws ConfigException {
    try {
      if (policy == DevKeyPolicy.CREATE_IF_MISSING) {
        return DevKeys.loadOrCreate(dataDir);
      }
      Optional<DevKeys> existing = DevKeys.loadExisting(dataDir);
      if (existing.isEmpty()) {
        throw new ConfigException(
            "no development keys in "
                + dataDir
                + " ("
                + DevKeys.SIGNING_KEY_FILE
                + "): start './parley server' once to create them, or pass --config <file>");
      }
      return existing.get();
    } catch (IOException e) {
      throw new ConfigException(
          "cannot set up development keys in " + dataDir + ": " + describe(e));
    }
  }

  // ---- YAML ----------------------------------------------------------------------------------

  private static void readYaml(Path file, Map<String, Setting> settings, List<String> problems) {
    JsonNode root;
    try {
      ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
      yaml.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      root = yaml.readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      problems.add("config file not found: " + file);
      return;
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      problems.add(
          "cannot parse "
              + file
              + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
              + ": "
              + e.getOriginalMessage());
      return;
    } catch (IOException e) {
      problems.add("cannot read config file " + file + ": " + describe(e));
      return;
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return;
    }
    String where = " (in " + file.getFileName() + ")";
    if (!root.isObject()) {
      problems.add(file + " must be a YAML mapping of sections (server:, storage:, auth:, ...)");
      return;
    }
    List<String> sections = ConfigSchema.sections();
    for (Map.Entry<String, JsonNode> section : root.properties()) {
      if (!sections.contains(section.getKey())) {
        problems.add(
            "unknown section '" + section.getKey() + "'" + suggestion(section.getKey(), sections) + where);
        continue;
      }
      JsonNode body = section.getValue();
      if (body.isNull()) {
        continue;
      }
      if (!body.isObject()) {
        problems.add("section '" + section.getKey() + "' must be a mapping of keys" + where);
        continue;
      }
      readKeys(section.getKey(), body, settings, problems, file, where);
    }
  }

  /** Reads the keys of a section, or of a group nested in one ({@code cluster: kafka: ...}). */
  private static void readKeys(
      String prefix,
      JsonNode body,
      Map<String, Setting> settings,
      List<String> problems,
      Path file,
      String where) {
    for (Map.Entry<String, JsonNode> entry : body.properties()) {
      String path = prefix + "." + entry.getKey();
      if (ConfigSchema.find(path).isEmpty() && isGroup(path)) {
        if (entry.getValue().isObject()) {
          readKeys(path, entry.getValue(), settings, problems, file, where);
        } else if (!entry.getValue().isNull()) {
          problems.add("'" + path + "' must be a mapping of keys" + where);
        }
        continue;
      }
      Optional<ConfigKey> key = ConfigSchema.find(path);
      if (key.isEmpty()) {
        List<String> known =
            ConfigSchema.KEYS.stream().map(ConfigKey::path).toList();
        problems.add("unknown key '" + path + "'" + suggestion(path, known) + where);
        continue;
      }
      Object raw = yamlValue(entry.getValue(), key.get(), problems, where);
      if (raw != Invalid.VALUE) {
        settings.put(path, new Setting(raw, "file:" + file.getFileName()));
      }
    }
  }

  private static boolean isGroup(String path) {
    return ConfigSchema.KEYS.stream().anyMatch(k -> k.path().startsWith(path + "."));
  }

  private enum Invalid {
    VALUE
  }

  private static Object yamlValue(JsonNode node, ConfigKey key, List<String> problems, String where) {
    if (node.isNull()) {
      return key.type() == Type.STRING_LIST ? List.of() : null;
    }
    if (key.type() == Type.STRING_LIST) {
      if (!node.isArray()) {
        problems.add(key.path() + " must be a list" + where);
        return Invalid.VALUE;
      }
      List<String> items = new ArrayList<>();
      for (JsonNode item : node) {
        if (!item.isValueNode() || item.isNull()) {
          problems.add(key.path() + " must be a list of strings" + where);
          return Invalid.VALUE;
        }
        items.add(item.asText());
      }
      return items;
    }
    if (!node.isValueNode()) {
      problems.add(key.path() + " must be a single value, not a list or mapping" + where);
      return Invalid.VALUE;
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isIntegralNumber()) {
      return node.longValue();
    }
    return node.asText();
  }

  // ---- public keys and URLs --------------------------------------------------------------------

  private static List<String> publicKeys(List<String> entries, String origin, List<String> problems) {
    List<String> pems = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      String entry = entries.get(i).strip();
      String label = "auth.public_keys_pem[" + i + "]";
      String pem;
      if (entry.contains(PEM_MARKER)) {
        pem = entry;
      } else {
        try {
          pem = Files.readString(Path.of(entry));
        } catch (IOException | RuntimeException e) {
          problems.add(label + ": cannot read PEM file '" + entry + "': " + describe(e) + origin);
          continue;
        }
      }
      try {
        PemPublicKeys.parse(pem);
        pems.add(pem);
      } catch (IllegalArgumentException e) {
        problems.add(label + ": " + e.getMessage() + origin);
      }
    }
    return pems;
  }

  private static String urlProblem(String url) {
    try {
      URI uri = new URI(url);
      if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) {
        return "must be an http or https URL, got '" + url + "'";
      }
      if (uri.getHost() == null) {
        return "has no host: '" + url + "'";
      }
      uri.toURL();
      return null;
    } catch (Exception e) {
      return "is not a valid URL: '" + url + "'";
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static Object defaultValue(ConfigKey key) {
    if (key.type() == Type.STRING_LIST) {
      return defaultList(key.defaultText());
    }
    return key.defaultText();
  }

  /** A list default as the template writes it, {@code [a, b]}. */
  static List<String> defaultList(String text) {
    if (text == null) {
      return List.of();
    }
    String inner = text.strip();
    if (inner.startsWith("[") && inner.endsWith("]")) {
      inner = inner.substring(1, inner.length() - 1);
    }
    return splitList(inner);
  }

  private static List<String> splitList(String value) {
    List<String> items = new ArrayList<>();
    for (String part : value.split(",")) {
      if (!part.isBlank()) {
        items.add(part.strip());
      }
    }
    return items;
  }

  private static String describe(Exception e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  private static String suggestion(String given, List<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = distance(given, c);
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    return best != null && bestDistance <= Math.max(2, given.length() / 4)
        ? " (did you mean '" + best + "'?)"
        : "";
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** A raw value and where it came from (null origin: the built-in default). */
  private record Setting(Object raw, String origin) {}

  /**
   * Typed access to the merged settings. A value that does not convert records a problem and yields
   * the key's default, so that loading continues and every problem is reported.
   */
  static final class Values {
    private final Map<String, Setting> settings;
    private final List<String> problems;

    Values(Map<String, Setting> settings, List<String> problems) {
      this.settings = settings;
      this.problems = problems;
    }

    String origin(String path) {
      String origin = settings.get(path).origin();
      if (origin == null) {
        return "";
      }
      if (origin.startsWith("file:")) {
        return " (in " + origin.substring(5) + ")";
      }
      return " (from " + origin + ")";
    }

    private ConfigKey key(String path) {
      return ConfigSchema.find(path).orElseThrow();
    }

    private Object raw(String path) {
      return settings.get(path).raw();
    }

    private void problem(String path, String what) {
      problems.add(path + " " + what + origin(path));
    }

    String string(String path) {
      Object raw = raw(path);
      if (raw == null || raw.toString().isBlank()) {
        problem(path, "must not be empty");
        return key(path).defaultText();
      }
      return raw.toString();
    }

    String optional(String path) {
      Object raw = raw(path);
      return raw == null || raw.toString().isBlank() ? null : raw.toString().strip();
    }

    Path path(String path) {
      return Path.of(string(path));
    }

    boolean bool(String path) {
      Object raw = raw(path);
      if (raw instanceof Boolean b) {
        return b;
      }
      String text = String.valueOf(raw).strip();
      if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
        return Boolean.parseBoolean(text);
      }
      problem(path, "must be true or false, got '" + text + "'");
      return Boolean.parseBoolean(key(path).defaultText());
    }

    int integer(String path) {
      ConfigKey key = key(path);
      Object raw = raw(path);
      long value;
      if (raw instanceof Long l) {
        value = l;
      } else {
        try {
          value = Long.parseLong(String.valueOf(raw).strip());
        } catch (NumberFormatException e) {
          problem(path, "must be a whole number, got '" + raw + "'");
          return Integer.parseInt(key.defaultText());
        }
      }
      if (value < key.min() || value > key.max()) {
        problem(path, "must be " + key.min() + ".." + key.max() + ", got " + value);
        return Integer.parseInt(key.defaultText());
      }
      return (int) value;
    }

    int bytes(String path) {
      ConfigKey key = key(path);
      Object raw = raw(path);
      long value;
      try {
        value = raw instanceof Long l ? l : ByteSizes.parse(String.valueOf(raw));
      } catch (IllegalArgumentException e) {
        problem(path, e.getMessage());
        return (int) ByteSizes.parse(key.defaultText());
      }
      if (value < key.min() || value > key.max()) {
        problem(
            path,
            "must be between "
                + ByteSizes.format(key.min())
                + " and "
                + ByteSizes.format(key.max())
                + ", got "
                + ByteSizes.format(value));
        return (int) ByteSizes.parse(key.defaultText());
      }
      return (int) value;
    }

    Duration duration(String path) {
      ConfigKey key = key(path);
      Object raw = raw(path);
      Duration value;
      if (raw instanceof Long || raw instanceof Boolean) {
        problem(path, "must be a duration such as 30s, 500ms, 5m or PT30S, got " + raw);
        return Durations.parse(key.defaultText());
      }
      try {
        value = Durations.parse(String.valueOf(raw));
      } catch (IllegalArgumentException e) {
        problem(path, e.getMessage());
        return Durations.parse(key.defaultText());
      }
      if (value.toMillis() < key.min() || value.toMillis() > key.max()) {
        problem(
            path,
            "must be between "
                + Durations.format(Duration.ofMillis(key.min()))
                + " and "
                + Durations.format(Duration.ofMillis(key.max()))
                + ", got "
                + Durations.format(value));
        return Durations.parse(key.defaultText());
      }
      return value;
    }

    ParleyConfig.Rate rate(String path) {
      ConfigKey key = key(path);
      Object raw = raw(path);
      if (raw instanceof Long || raw instanceof Boolean) {
        problem(path, "must be a rate such as 50/10s or 600/1m, or off; got " + raw);
        return Rates.parse(key.defaultText());
      }
      try {
        return Rates.parse(String.valueOf(raw));
      } catch (IllegalArgumentException e) {
        problem(path, e.getMessage());
        return Rates.parse(key.defaultText());
      }
    }

    @SuppressWarnings("unchecked")
    List<String> list(String path) {
      Object raw = raw(path);
      return raw == null ? List.of() : List.copyOf((List<String>) raw);
    }
  }
}
