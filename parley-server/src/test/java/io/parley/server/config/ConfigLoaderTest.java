package io.parley.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.server.auth.DevKeys;
import io.parley.server.config.ConfigLoader.DevKeyPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  static final String SECRET = Base64.getEncoder().encodeToString(bytes(32));
  static final String ADMIN_KEY = "a".repeat(40);

  @TempDir Path tmp;

  /** The defaults the brief asks for, written out independently of the schema. */
  static ParleyConfig expectedDefaults(boolean devMode, String secret, String adminKey) {
    return new ParleyConfig(
        devMode,
        new ParleyConfig.Server("0.0.0.0", 8080, Duration.ofSeconds(10)),
        new ParleyConfig.Storage(Path.of("./parley-data"), true, 1024),
        new ParleyConfig.Auth(
            secret,
            List.of(),
            List.of(),
            Duration.ofMinutes(5),
            null,
            null,
            Duration.ofSeconds(60),
            Duration.ofHours(24)),
        new ParleyConfig.Admin(adminKey),
        new ParleyConfig.Limits(128 * 1024, 64 * 1024, 1000, 200, 500, 64, 1024 * 1024, 10_000, 20, 1000),
        new ParleyConfig.Timeouts(
            Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(25), Duration.ofSeconds(60)),
        new ParleyConfig.RateLimits(
            true,
            rate(50, Duration.ofSeconds(10)),
            rate(1000, Duration.ofSeconds(10)),
            rate(30, Duration.ofSeconds(10)),
            rate(600, Duration.ofSeconds(10)),
            rate(30, Duration.ofMinutes(1)),
            rate(600, Duration.ofMinutes(1)),
            rate(60, Duration.ofMinutes(1)),
            rate(600, Duration.ofMinutes(1)),
            rate(2000, Duration.ofSeconds(1)),
            rate(2000, Duration.ofSeconds(1)),
            100_000));
  }

  private static ParleyConfig.Rate rate(long permits, Duration period) {
    return new ParleyConfig.Rate(permits, period);
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    new SecureRandom().nextBytes(b);
    return b;
  }

  private Path yaml(String text) throws IOException {
    Path file = tmp.resolve("parley.yaml");
    Files.writeString(file, text);
    return file;
  }

  private static ConfigOverrides file(Path configFile) {
    return new ConfigOverrides(configFile, null, null, null);
  }

  private static Map<String, String> prodEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_AUTH_HMAC_SECRET", SECRET);
    env.put("PARLEY_ADMIN_API_KEY", ADMIN_KEY);
    return env;
  }

  private static ConfigException failure(ConfigLoader loader, ConfigOverrides o) {
    try {
      loader.load(o);
    } catch (ConfigException e) {
      return e;
    }
    throw new AssertionError("expected a ConfigException");
  }

  @Test
  void devModeUsesBuiltInDefaults() throws Exception {
    ParleyConfig config =
        new ConfigLoader(prodEnv()).load(ConfigOverrides.none(), DevKeyPolicy.REQUIRE_EXISTING);
    assertThat(config).isEqualTo(expectedDefaults(true, SECRET, ADMIN_KEY));
  }

  @Test
  void devModeTakesSecretAndAdminKeyFromDevKeysInTheDataDir() throws Exception {
    Path dataDir = tmp.resolve("data");
    ConfigLoader loader = new ConfigLoader(Map.of());
    ParleyConfig first = loader.load(new ConfigOverrides(null, null, null, dataDir));
    DevKeys keys = DevKeys.loadExisting(dataDir).orElseThrow();

    assertThat(first.devMode()).isTrue();
    assertThat(first.storage().dataDir()).isEqualTo(dataDir);
    assertThat(first.auth().hmacSecret()).isEqualTo(keys.hmacSecret());
    assertThat(first.admin().apiKey()).isEqualTo(keys.adminApiKey());
    ParleyConfig second = loader.load(new ConfigOverrides(null, null, null, dataDir));
    assertThat(second).isEqualTo(first);
  }

  @Test
  void devModeDataDirComesFromTheEnvironmentToo() throws Exception {
    Path dataDir = tmp.resolve("env-data");
    ParleyConfig config =
        new ConfigLoader(Map.of("PARLEY_STORAGE_DATA_DIR", dataDir.toString()))
            .load(ConfigOverrides.none());
    assertThat(config.storage().dataDir()).isEqualTo(dataDir);
    assertThat(dataDir.resolve(DevKeys.SIGNING_KEY_FILE)).exists();
  }

  @Test
  void devModeWithoutKeysAndRequireExistingSaysHowToCreateThem() {
    Path dataDir = tmp.resolve("empty");
    assertThatThrownBy(
            () ->
                new ConfigLoader(Map.of())
                    .load(new ConfigOverrides(null, null, null, dataDir), DevKeyPolicy.REQUIRE_EXISTING))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("no development keys in " + dataDir)
        .hasMessageContaining("./parley server");
    assertThat(dataDir).doesNotExist();
  }

  @Test
  void yamlFileOverridesDefaultsAndSelectsProductionMode() throws Exception {
    Path file =
        yaml(
            """
            server:
              port: 9090
              host: 127.0.0.1
            storage:
              data_dir: /var/lib/parley
              fsync: false
            auth:
              hmac_secret: %s
              issuer: https://id.example
              audience: parley
              clock_skew: PT30S
              jwks_urls: [https://id.example/jwks.json]
            admin:
              api_key: %s
            limits:
              max_frame_bytes: 256KiB
              max_message_bytes: 100000
            timeouts:
              idle: 2m
              handshake: 500ms
            """
                .formatted(SECRET, ADMIN_KEY));
    ParleyConfig c = new ConfigLoader(Map.of()).load(file(file));

    assertThat(c.devMode()).isFalse();
    assertThat(c.server().port()).isEqualTo(9090);
    assertThat(c.server().host()).isEqualTo("127.0.0.1");
    assertThat(c.storage().dataDir()).isEqualTo(Path.of("/var/lib/parley"));
    assertThat(c.storage().fsync()).isFalse();
    assertThat(c.auth().hmacSecret()).isEqualTo(SECRET);
    assertThat(c.auth().issuer()).isEqualTo("https://id.example");
    assertThat(c.auth().audience()).isEqualTo("parley");
    assertThat(c.auth().clockSkew()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.auth().jwksUrls()).containsExactly("https://id.example/jwks.json");
    assertThat(c.admin().apiKey()).isEqualTo(ADMIN_KEY);
    assertThat(c.limits().maxFrameBytes()).isEqualTo(256 * 1024);
    assertThat(c.limits().maxMessageBytes()).isEqualTo(100_000);
    assertThat(c.timeouts().idle()).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.timeouts().handshake()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.timeouts().pingInterval()).isEqualTo(Duration.ofSeconds(25));
  }

  @Test
  void environmentOverridesTheFileAndFlagsOverrideTheEnvironment() throws Exception {
    Path file = yaml("server:\n  port: 8081\n  host: 10.0.0.1\nstorage:\n  data_dir: /from/file\n");
    Map<String, String> env = prodEnv();
    env.put("PARLEY_SERVER_PORT", "9000");
    env.put("PARLEY_STORAGE_DATA_DIR", "/from/env");
    env.put("PARLEY_AUTH_JWKS_URLS", "https://a.example/jwks, https://b.example/jwks");
    env.put("PARLEY_TIMEOUTS_IDLE", "90s");
    ConfigLoader loader = new ConfigLoader(env);

    ParleyConfig fromEnv = loader.load(file(file));
    assertThat(fromEnv.server().port()).isEqualTo(9000);
    assertThat(fromEnv.server().host()).isEqualTo("10.0.0.1");
    assertThat(fromEnv.storage().dataDir()).isEqualTo(Path.of("/from/env"));
    assertThat(fromEnv.auth().jwksUrls())
        .containsExactly("https://a.example/jwks", "https://b.example/jwks");
    assertThat(fromEnv.timeouts().idle()).isEqualTo(Duration.ofSeconds(90));

    ParleyConfig fromFlags =
        loader.load(new ConfigOverrides(file, "127.0.0.1", 7000, Path.of("/from/flag")));
    assertThat(fromFlags.server().port()).isEqualTo(7000);
    assertThat(fromFlags.server().host()).isEqualTo("127.0.0.1");
    assertThat(fromFlags.storage().dataDir()).isEqualTo(Path.of("/from/flag"));
  }

  @Test
  void rateLimitsComeFromFileAndEnvironmentAndBadRatesAreReported() throws Exception {
    Map<String, String> env = prodEnv();
    env.put("PARLEY_RATE_LIMITS_TYPING_PER_USER", "off");
    ParleyConfig c =
        new ConfigLoader(env)
            .load(file(yaml("rate_limits:\n  send_per_user: 5/1s\n  max_tracked_keys: 500\n")));
    assertThat(c.rateLimits().sendPerUser()).isEqualTo(new ParleyConfig.Rate(5, Duration.ofSeconds(1)));
    assertThat(c.rateLimits().typingPerUser().isOff()).isTrue();
    assertThat(c.rateLimits().maxTrackedKeys()).isEqualTo(500);

    env.put("PARLEY_RATE_LIMITS_JOIN_PER_IP", "lots");
    assertThatThrownBy(
            () -> new ConfigLoader(env).load(file(yaml("rate_limits:\n  send_per_user: 10\n"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("rate_limits.send_per_user must be a rate")
        .hasMessageContaining("rate_limits.join_per_ip must be a rate")
        .hasMessageContaining("PARLEY_RATE_LIMITS_JOIN_PER_IP");
  }

  @Test
  void emptyEnvironmentValuesAreIgnored() throws Exception {
    Map<String, String> env = prodEnv();
    env.put("PARLEY_SERVER_PORT", "");
    ParleyConfig c = new ConfigLoader(env).load(file(yaml("server:\n  port: 8081\n")));
    assertThat(c.server().port()).isEqualTo(8081);
  }

  @Test
  void everyEnvironmentVariableFollowsTheYamlPath() {
    assertThat(ConfigSchema.find("server.port").orElseThrow().envVar()).isEqualTo("PARLEY_SERVER_PORT");
    assertThat(ConfigSchema.find("storage.data_dir").orElseThrow().envVar())
        .isEqualTo("PARLEY_STORAGE_DATA_DIR");
    assertThat(ConfigSchema.find("auth.hmac_secret").orElseThrow().envVar())
        .isEqualTo("PARLEY_AUTH_HMAC_SECRET");
    assertThat(ConfigSchema.find("admin.api_key").orElseThrow().envVar())
        .isEqualTo("PARLEY_ADMIN_API_KEY");
    assertThat(ConfigSchema.find("limits.max_inflight_per_connection").orElseThrow().envVar())
        .isEqualTo("PARLEY_LIMITS_MAX_INFLIGHT_PER_CONNECTION");
  }

  @Test
  void validationReportsEveryProblemWithTheSettingAndValue() throws Exception {
    Path file =
        yaml(
            """
            server:
              port: 70000
            storage:
              fsync: yes please
              max_batch_writes: many
            limits:
              max_frame_bytes: 10MB
            timeouts:
              idle: 60
              handshake: soon
            """);
    Map<String, String> env = prodEnv();
    env.put("PARLEY_LIMITS_MAX_SYNC_PAGE", "0");
    ConfigException e = failure(new ConfigLoader(env), file(file));

    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "server.port must be 0..65535, got 70000 (in parley.yaml)",
            "storage.fsync must be true or false, got 'yes please' (in parley.yaml)",
            "storage.max_batch_writes must be a whole number, got 'many' (in parley.yaml)",
            "limits.max_frame_bytes must be a size such as 65536, 64KiB or 1MiB, got '10MB' (in parley.yaml)",
            "timeouts.idle must be a duration such as 30s, 500ms, 5m or PT30S, got 60 (in parley.yaml)",
            "timeouts.handshake must be a duration such as 30s, 500ms, 5m, 1h30m or PT30S, got 'soon' (in parley.yaml)",
            "limits.max_sync_page must be 1..100000, got 0 (from PARLEY_LIMITS_MAX_SYNC_PAGE)");
    assertThat(e.getMessage()).startsWith("invalid configuration (7 problems):");
  }

  @Test
  void cassandraEngineIsSelectedAndItsSettingsRead() throws Exception {
    Path file =
        yaml(
            """
            storage:
              engine: cassandra
            cassandra:
              contact_points: [ "10.0.0.1:9042", "cass-2.internal:9142" ]
              local_datacenter: eu-west
              keyspace: parley_prod
              replication: "NetworkTopologyStrategy:eu-west=3,us-east=2"
            """);

    ParleyConfig c = new ConfigLoader(prodEnv()).load(file(file));

    assertThat(c.storage().engine()).isEqualTo(ParleyConfig.StorageEngine.CASSANDRA);
    assertThat(c.cassandra())
        .isEqualTo(
            new ParleyConfig.Cassandra(
                List.of("10.0.0.1:9042", "cass-2.internal:9142"),
                "eu-west",
                "parley_prod",
                Map.of("class", "NetworkTopologyStrategy", "eu-west", "3", "us-east", "2")));
  }

  @Test
  void cassandraSettingsAreValidatedAtStart() throws Exception {
    Path file =
        yaml(
            """
            storage:
              engine: cassandra
            cassandra:
              keyspace: 9lives
              local_datacenter: "dc 1"
              replication: "NetworkTopologyStrategy:dc1=0"
            """);
    Map<String, String> env = prodEnv();
    env.put("PARLEY_CASSANDRA_CONTACT_POINTS", "db1,db2:99999");

    ConfigException e = failure(new ConfigLoader(env), file(file));

    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "cassandra.contact_points[0] must be host:port, got 'db1' (from PARLEY_CASSANDRA_CONTACT_POINTS)",
            "cassandra.contact_points[1] has port 99999 outside 1..65535 (from PARLEY_CASSANDRA_CONTACT_POINTS)",
            "cassandra.local_datacenter is not a datacenter name: 'dc 1' (in parley.yaml)",
            "cassandra.keyspace must be a letter followed by at most 47 letters, digits or underscores, got '9lives' (in parley.yaml)",
            "cassandra.replication replica count must be 1..99, got '0' (in parley.yaml)");
  }

  @Test
  void cassandraEngineNeedsContactPointsAndEnginesAreChecked() throws Exception {
    ConfigException missing =
        failure(new ConfigLoader(prodEnv()), file(yaml("storage:\n  engine: Cassandra\n")));
    assertThat(missing.problems())
        .containsExactly(
            "cassandra.contact_points must list at least one host:port when storage.engine is"
                + " cassandra (or set PARLEY_CASSANDRA_CONTACT_POINTS)");

    ConfigException unknown =
        failure(new ConfigLoader(prodEnv()), file(yaml("storage:\n  engine: mysql\n")));
    assertThat(unknown.problems())
        .containsExactly("storage.engine must be rocksdb or cassandra, got 'mysql' (in parley.yaml)");
    assertThat(CassandraSettings.replication("SimpleStrategy:3"))
        .isEqualTo(Map.of("class", "SimpleStrategy", "replication_factor", "3"));
    assertThatThrownBy(() -> CassandraSettings.replication("EverywhereStrategy:1"))
        .hasMessageContaining("strategy must be SimpleStrategy or NetworkTopologyStrategy");
  }

  @Test
  void flagValuesAreValidatedToo() {
    ConfigException e =
        failure(new ConfigLoader(prodEnv()), new ConfigOverrides(null, null, 70000, tmp));
    assertThat(e.problems()).containsExactly("server.port must be 0..65535, got 70000 (from --port)");
  }

  @Test
  void unknownKeysAndSectionsAreErrorsWithSuggestions() throws Exception {
    Path file = yaml("server:\n  prot: 9000\nstorge:\n  fsync: true\nlimits:\n  banana: 1\n");
    ConfigException e = failure(new ConfigLoader(prodEnv()), file(file));
    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "unknown key 'server.prot' (did you mean 'server.port'?) (in parley.yaml)",
            "unknown section 'storge' (did you mean 'storage'?) (in parley.yaml)",
            "unknown key 'limits.banana' (in parley.yaml)");
  }

  @Test
  void durationsAcceptIsoAndShortForms() throws Exception {
    Map<String, String> env = prodEnv();
    env.put("PARLEY_TIMEOUTS_HANDSHAKE", "PT3S");
    env.put("PARLEY_TIMEOUTS_TOKEN_EXPIRY_WARNING", "500ms");
    env.put("PARLEY_AUTH_JWKS_CACHE_TTL", "1h30m");
    ParleyConfig c = new ConfigLoader(env).load(file(yaml("")));
    assertThat(c.timeouts().handshake()).isEqualTo(Duration.ofSeconds(3));
    assertThat(c.timeouts().tokenExpiryWarning()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.auth().jwksCacheTtl()).isEqualTo(Duration.ofMinutes(90));
  }

  @Test
  void productionModeRequiresAKeySourceAndAnAdminKey() throws Exception {
    ConfigException e = failure(new ConfigLoader(Map.of()), file(yaml("server:\n  port: 8080\n")));
    assertThat(e.problems()).hasSize(2);
    assertThat(e.problems().get(0)).startsWith("no token key source");
    assertThat(e.problems().get(1)).startsWith("admin.api_key is required outside development mode");
  }

  @Test
  void productionModeRejectsShortAdminKeysAndWeakSecrets() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_ADMIN_API_KEY", "short");
    env.put("PARLEY_AUTH_HMAC_SECRET", Base64.getEncoder().encodeToString(bytes(16)));
    ConfigException e = failure(new ConfigLoader(env), file(yaml("")));
    assertThat(e.problems())
        .anySatisfy(p -> assertThat(p).isEqualTo("admin.api_key must be at least 32 characters, got 5 (from PARLEY_ADMIN_API_KEY)"))
        .anySatisfy(p -> assertThat(p).startsWith("auth.hmac_secret is invalid").contains("at least 32 bytes"));
  }

  @Test
  void inconsistentLimitsAndTimeoutsAreReported() throws Exception {
    Path file =
        yaml("limits:\n  max_frame_bytes: 64KiB\n  max_message_bytes: 64KiB\ntimeouts:\n  ping_interval: 2m\n");
    ConfigException e = failure(new ConfigLoader(prodEnv()), file(file));
    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "limits.max_message_bytes (64KiB) must be smaller than limits.max_frame_bytes (64KiB)",
            "timeouts.ping_interval (2m) must be shorter than timeouts.idle (1m)");
  }

  @Test
  void missingOrMalformedConfigFileIsReported() throws Exception {
    assertThat(failure(new ConfigLoader(prodEnv()), file(tmp.resolve("nope.yaml"))).problems())
        .containsExactly("config file not found: " + tmp.resolve("nope.yaml"));
    ConfigException e = failure(new ConfigLoader(prodEnv()), file(yaml("server:\n  port: [1\n")));
    assertThat(e.problems().get(0)).startsWith("cannot parse " + tmp.resolve("parley.yaml"));
    ConfigException dup = failure(new ConfigLoader(prodEnv()), file(yaml("server:\n  port: 1\n  port: 2\n")));
    assertThat(dup.problems().get(0)).contains("Duplicate field 'port'");
  }

  @Test
  void publicKeysMayBeInlineOrFilesAndAreValidated() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("Ed25519");
    String pem =
        "-----BEGIN PUBLIC KEY-----\n"
            + Base64.getMimeEncoder().encodeToString(gen.generateKeyPair().getPublic().getEncoded())
            + "\n-----END PUBLIC KEY-----\n";
    Path pemFile = tmp.resolve("issuer.pem");
    Files.writeString(pemFile, pem);
    Path file =
        yaml(
            "auth:\n  public_keys_pem:\n    - "
                + pemFile
                + "\n    - |\n"
                + pem.indent(6)
                + "admin:\n  api_key: "
                + ADMIN_KEY
                + "\n");
    ParleyConfig c = new ConfigLoader(Map.of()).load(file(file));
    assertThat(c.auth().publicKeysPem()).hasSize(2).allSatisfy(p -> assertThat(p).contains("BEGIN PUBLIC KEY"));

    Path bad = yaml("auth:\n  public_keys_pem: [" + tmp.resolve("missing.pem") + ", 'x-----BEGIN'" + "]\n");
    ConfigException e = failure(new ConfigLoader(prodEnv()), file(bad));
    assertThat(e.problems())
        .anySatisfy(p -> assertThat(p).startsWith("auth.public_keys_pem[0]: cannot read PEM file"))
        .anySatisfy(p -> assertThat(p).startsWith("auth.public_keys_pem[1]: no '-----BEGIN PUBLIC KEY-----' block"));
  }

  @Test
  void jwksUrlsMustBeHttp() throws Exception {
    Map<String, String> env = prodEnv();
    env.put("PARLEY_AUTH_JWKS_URLS", "ftp://x.example/jwks,https://ok.example/jwks");
    ConfigException e = failure(new ConfigLoader(env), file(yaml("")));
    assertThat(e.problems())
        .containsExactly(
            "auth.jwks_urls[0] must be an http or https URL, got 'ftp://x.example/jwks' (from PARLEY_AUTH_JWKS_URLS)");
  }
}
