package io.parley.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.parley.server.auth.DevKeys;
import io.parley.server.auth.JwtTokenVerifier;
import io.parley.server.auth.VerifiedToken;
import io.parley.server.config.ConfigTemplate;
import io.parley.server.config.ParleyConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParleyCliTest {
  @TempDir Path tmp;

  private final List<ParleyConfig> started = new ArrayList<>();
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(Map<String, String> env, String... args) {
    ServerRunner fake =
        (config, w) -> {
          started.add(config);
          return 0;
        };
    return ParleyCli.run(
        args, new CliEnvironment(env, fake), new PrintWriter(out, true), new PrintWriter(err, true));
  }

  private int run(String... args) {
    return run(Map.of(), args);
  }

  private static String secret() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return Base64.getEncoder().encodeToString(b);
  }

  private static VerifiedToken verify(String secret, String token) throws Exception {
    ParleyConfig.Auth auth =
        new ParleyConfig.Auth(
            secret, List.of(), List.of(), Duration.ofMinutes(5), null, null, Duration.ofSeconds(60), Duration.ofHours(24));
    try (JwtTokenVerifier verifier = JwtTokenVerifier.create(auth)) {
      return verifier.verify(token).get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void helpListsEveryCommand() {
    assertThat(run("--help")).isEqualTo(0);
    assertThat(out.toString())
        .contains("Usage: parley")
        .contains("server")
        .contains("token")
        .contains("config")
        .contains("version");
  }

  @Test
  void noCommandPrintsHelpAndIsAUsageError() {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString()).contains("Usage: parley");
  }

  @Test
  void configInitPrintsTheTemplate() {
    assertThat(run("config", "init")).isEqualTo(0);
    assertThat(out.toString()).isEqualTo(ConfigTemplate.render());
  }

  @Test
  void versionPrintsTheBuildVersion() {
    assertThat(run("version")).isEqualTo(0);
    assertThat(out.toString()).startsWith("parley ").doesNotContain("${");
  }

  @Test
  void tokenSignsWithTheDevKeyOfTheDataDir() throws Exception {
    DevKeys keys = DevKeys.loadOrCreate(tmp);
    assertThat(run("token", "--user", "alice", "--data-dir", tmp.toString(), "--ttl", "1h")).isEqualTo(0);

    String token = out.toString().strip();
    assertThat(verify(keys.hmacSecret(), token).userId()).isEqualTo("alice");
    JWTClaimsSet claims = SignedJWT.parse(token).getJWTClaimsSet();
    assertThat(claims.getExpirationTime().getTime() - claims.getIssueTime().getTime())
        .isEqualTo(3_600_000L);
  }

  @Test
  void tokenWithoutDevKeysOrConfigExplainsWhatToDo() {
    Path empty = tmp.resolve("empty");
    assertThat(run("token", "--user", "alice", "--data-dir", empty.toString())).isEqualTo(2);
    assertThat(err.toString())
        .contains("no development keys in " + empty)
        .contains("./parley server")
        .contains("--config")
        .doesNotContain("Exception");
    assertThat(empty).doesNotExist();
  }

  @Test
  void tokenWithConfigUsesTheConfiguredSecretIssuerAndAudience() throws Exception {
    String secret = secret();
    Path file = tmp.resolve("parley.yaml");
    Files.writeString(
        file,
        "auth:\n  hmac_secret: " + secret + "\n  issuer: parley-test\n  audience: app\n"
            + "admin:\n  api_key: " + "k".repeat(32) + "\n");

    assertThat(run("token", "--user", "bob", "--config", file.toString())).isEqualTo(0);

    String token = out.toString().strip();
    assertThat(verify(secret, token).userId()).isEqualTo("bob");
    JWTClaimsSet claims = SignedJWT.parse(token).getJWTClaimsSet();
    assertThat(claims.getIssuer()).isEqualTo("parley-test");
    assertThat(claims.getAudience()).containsExactly("app");
  }

  @Test
  void tokenWithAConfigThatHasNoHmacSecretIsRefused() throws Exception {
    Path file = tmp.resolve("parley.yaml");
    Files.writeString(
        file,
        "auth:\n  jwks_urls: [https://id.example/jwks]\nadmin:\n  api_key: " + "k".repeat(32) + "\n");
    assertThat(run("token", "--user", "bob", "--config", file.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("auth.hmac_secret is not set");
  }

  @Test
  void badArgumentsAreUsageErrors() {
    assertThat(run("server", "--bogus")).isEqualTo(2);
    assertThat(run("server", "--port", "abc")).isEqualTo(2);
    assertThat(run("token")).isEqualTo(2);
    assertThat(run("token", "--user", "alice", "--ttl", "forever")).isEqualTo(2);
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(run("token", "--user", "a b", "--data-dir", tmp.toString())).isEqualTo(2);
    assertThat(err.toString()).doesNotContain("\tat ");
    assertThat(started).isEmpty();
  }

  @Test
  void serverPassesFlagsIntoTheConfiguration() {
    Path dataDir = tmp.resolve("data");
    int status =
        run(
            Map.of("PARLEY_LIMITS_MAX_SYNC_PAGE", "42"),
            "server", "--data-dir", dataDir.toString(), "--port", "0", "--host", "127.0.0.1");
    assertThat(status).isEqualTo(0);
    assertThat(started).hasSize(1);
    ParleyConfig config = started.get(0);
    assertThat(config.devMode()).isTrue();
    assertThat(config.server().port()).isEqualTo(0);
    assertThat(config.server().host()).isEqualTo("127.0.0.1");
    assertThat(config.storage().dataDir()).isEqualTo(dataDir);
    assertThat(config.limits().maxSyncPage()).isEqualTo(42);
    assertThat(config.auth().hmacSecret()).isNotNull();
  }

  @Test
  void rolesFlagSelectsTheRolesOfThisProcess() {
    int status =
        run(
            Map.of("PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092"),
            "server", "--data-dir", tmp.resolve("roles").toString(), "--roles", "gateway");
    assertThat(status).isEqualTo(0);
    assertThat(started.get(0).cluster().roles()).containsExactly(ParleyConfig.Role.GATEWAY);

    assertThat(run("server", "--data-dir", tmp.resolve("roles2").toString(), "--roles", "engine"))
        .isEqualTo(2);
    assertThat(err.toString())
        .contains("cluster.kafka.bootstrap_servers")
        .contains("storage.engine: cassandra");
  }

  @Test
  void devTlsTurnsOnTlsWithASelfSignedCertificateAndTheBannerShowsItsFingerprint()
      throws Exception {
    Path dataDir = tmp.resolve("tls-data");
    assertThat(run("server", "--dev-tls", "--data-dir", dataDir.toString(), "--port", "0"))
        .isEqualTo(0);
    ParleyConfig config = started.get(0);
    assertThat(config.tls().enabled()).isTrue();
    assertThat(config.tls().selfSigned()).isTrue();
    assertThat(config.tls().certChainPem().getParent()).isEqualTo(dataDir.resolve("tls"));
    String fingerprint =
        io.parley.server.gateway.tls.DevCertificate.loadOrCreate(dataDir, "0.0.0.0").fingerprint();
    assertThat(DevModeBanner.render(config, 8443, -1))
        .contains("https://localhost:8443/")
        .contains("SHA-256 " + fingerprint);
  }

  @Test
  void serverWithInvalidConfigurationExitsWithTwoAndAClearMessage() throws Exception {
    Path file = tmp.resolve("parley.yaml");
    Files.writeString(file, "server:\n  port: 70000\n");
    assertThat(run("server", "--config", file.toString())).isEqualTo(2);
    assertThat(err.toString())
        .contains("server.port must be 0..65535, got 70000")
        .contains("no token key source")
        .contains("admin.api_key is required")
        .doesNotContain("\tat ");
    assertThat(started).isEmpty();
  }

  @Test
  void serverWithAMissingTlsCertificateExitsWithTwoNamingTheSetting() throws Exception {
    Path file = tmp.resolve("tls.yaml");
    Path missing = tmp.resolve("missing-chain.pem");
    Files.writeString(
        file,
        "storage:\n  data_dir: " + tmp.resolve("d") + "\ntls:\n  enabled: true\n  cert_pem: "
            + missing + "\n  key_pem: " + missing + "\n");
    assertThat(
            run(
                Map.of("PARLEY_AUTH_HMAC_SECRET", secret(), "PARLEY_ADMIN_API_KEY", "x".repeat(40)),
                "server", "--config", file.toString()))
        .isEqualTo(2);
    assertThat(err.toString())
        .contains("tls.cert_pem: cannot read PEM file '" + missing + "': no such file")
        .contains("tls.key_pem: cannot read PEM file")
        .doesNotContain("\tat ");
    assertThat(started).isEmpty();
  }

  @Test
  void devModeBannerIsLabelledAndSaysHowToMintTokens() {
    ParleyConfig config =
        new ParleyConfig(
            true,
            new ParleyConfig.Server("0.0.0.0", 8080, Duration.ofSeconds(10)),
            new ParleyConfig.Storage(Path.of("parley-data"), true, 1024),
            new ParleyConfig.Auth(secret(), List.of(), List.of(), Duration.ofMinutes(5), null, null, Duration.ofSeconds(60), Duration.ofHours(24)),
            new ParleyConfig.Admin("x".repeat(43)),
            new ParleyConfig.Limits(131072, 65536, 1000, 200, 500, 64, 1 << 20, 10000, 20, 1000),
            new ParleyConfig.Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(25), Duration.ofSeconds(60)),
            ParleyConfig.RateLimits.disabled());
    String banner = DevModeBanner.render(config, 8080, -1);
    assertThat(banner)
        .contains("DEVELOPMENT MODE")
        .contains("http://localhost:8080/")
        .contains("http://localhost:8080/v1/admin/...")
        .contains("./parley token --user alice")
        .contains(Path.of("parley-data", "dev-admin.key").toString())
        .doesNotContain(config.admin().apiKey());
    assertThat(DevModeBanner.render(config, 8080, 9090))
        .as("with a separate admin listener the admin curl line names it")
        .contains("http://127.0.0.1:9090/v1/admin/...")
        .doesNotContain("http://localhost:8080/v1/admin/");
  }
}
