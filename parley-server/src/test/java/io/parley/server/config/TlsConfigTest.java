package io.parley.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.server.gateway.tls.DevCertificate;
import io.parley.server.gateway.tls.ServerTls;
import io.parley.server.gateway.tls.TestCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tls.*, admin.* listener and storage.breaker_* settings as the loader reads and checks them. */
class TlsConfigTest {
  private static final Map<String, String> ENV =
      Map.of(
          "PARLEY_AUTH_HMAC_SECRET", Base64.getEncoder().encodeToString(new byte[32]),
          "PARLEY_ADMIN_API_KEY", "k".repeat(40));

  @TempDir Path tmp;

  private ParleyConfig load(String yaml) throws Exception {
    return new ConfigLoader(ENV).load(new ConfigOverrides(write(yaml), null, null, null));
  }

  private Path write(String yaml) throws IOException {
    Path file = tmp.resolve("parley.yaml");
    Files.writeString(file, "storage:\n  data_dir: " + tmp.resolve("data") + "\n" + yaml);
    return file;
  }

  private String problems(String yaml) {
    try {
      load(yaml);
    } catch (ConfigException e) {
      return e.getMessage();
    } catch (Exception e) {
      throw new AssertionError("expected a ConfigException, got " + e, e);
    }
    throw new AssertionError("expected a ConfigException");
  }

  @Test
  void tlsIsOffAndAdminSharesTheMainPortByDefault() throws Exception {
    ParleyConfig config = load("");
    assertThat(config.tls()).isEqualTo(ParleyConfig.Tls.disabled());
    assertThat(config.admin().separateListener()).isFalse();
    assertThat(config.storeBreaker()).isEqualTo(ParleyConfig.StoreBreaker.defaults());
  }

  @Test
  void configuredCertificateAndKeyAreAccepted() throws Exception {
    TestCertificates.Files files = TestCertificates.generate().written(tmp);
    ParleyConfig config =
        load("tls:\n  enabled: true\n  cert_pem: " + files.chain() + "\n  key_pem: " + files.key() + "\n");
    assertThat(config.tls()).isEqualTo(new ParleyConfig.Tls(true, files.chain(), files.key(), false));
  }

  @Test
  void missingCertificateFileIsAClearConfigError() throws Exception {
    TestCertificates.Files files = TestCertificates.generate().written(tmp);
    Path missing = tmp.resolve("nope.pem");
    String message =
        problems("tls:\n  enabled: true\n  cert_pem: " + missing + "\n  key_pem: " + files.key() + "\n");
    assertThat(message)
        .contains("tls.cert_pem: cannot read PEM file '" + missing + "': no such file")
        .contains("(in parley.yaml)");
  }

  @Test
  void keyThatDoesNotMatchTheCertificateIsRejected() throws Exception {
    TestCertificates.Files a = TestCertificates.generate().written(Files.createDirectory(tmp.resolve("a")));
    TestCertificates.Files b = TestCertificates.generate().written(Files.createDirectory(tmp.resolve("b")));
    String message =
        problems("tls:\n  enabled: true\n  cert_pem: " + a.chain() + "\n  key_pem: " + b.key() + "\n");
    assertThat(message)
        .contains("tls.cert_pem / tls.key_pem: the private key in " + b.key())
        .contains("does not belong to the first certificate in " + a.chain());
  }

  @Test
  void garbageInsteadOfPemIsRejected() throws Exception {
    Path junk = Files.writeString(tmp.resolve("junk.pem"), "not a certificate");
    String message =
        problems("tls:\n  enabled: true\n  cert_pem: " + junk + "\n  key_pem: " + junk + "\n");
    assertThat(message).contains("tls.cert_pem / tls.key_pem: cannot load");
  }

  @Test
  void enabledWithoutFilesNamesBothSettings() {
    String message = problems("tls:\n  enabled: true\n");
    assertThat(message)
        .contains("tls.cert_pem is required when tls.enabled is true")
        .contains("tls.key_pem is required when tls.enabled is true");
  }

  @Test
  void selfSignedTogetherWithFilesIsAContradiction() throws Exception {
    TestCertificates.Files files = TestCertificates.generate().written(tmp);
    String message =
        problems("tls:\n  self_signed: true\n  cert_pem: " + files.chain() + "\n  key_pem: " + files.key() + "\n");
    assertThat(message).contains("tls.self_signed (or --dev-tls) generates its own certificate");
  }

  @Test
  void devTlsGeneratesAStableSelfSignedCertificateInTheDataDir() throws Exception {
    Path dataDir = tmp.resolve("dev");
    ConfigLoader loader = new ConfigLoader(Map.of());
    ParleyConfig first = loader.load(new ConfigOverrides(null, null, null, dataDir, true));
    assertThat(first.tls().enabled()).isTrue();
    assertThat(first.tls().selfSigned()).isTrue();
    assertThat(first.tls().certChainPem())
        .isEqualTo(dataDir.resolve(DevCertificate.DIRECTORY).resolve(DevCertificate.CERT_FILE));
    assertThat(ServerTls.check(first.tls().certChainPem(), first.tls().privateKeyPem())).isNull();
    String fingerprint = DevCertificate.loadOrCreate(dataDir, "0.0.0.0").fingerprint();
    byte[] certBytes = Files.readAllBytes(first.tls().certChainPem());

    ParleyConfig second = loader.load(new ConfigOverrides(null, null, null, dataDir, true));
    assertThat(second.tls()).isEqualTo(first.tls());
    assertThat(Files.readAllBytes(second.tls().certChainPem())).isEqualTo(certBytes);
    assertThat(DevCertificate.loadOrCreate(dataDir, "0.0.0.0").fingerprint()).isEqualTo(fingerprint);
    assertThat(fingerprint).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
  }

  @Test
  void selfSignedCertificateNamesLoopbackAndTheConfiguredHost() throws Exception {
    DevCertificate dev = DevCertificate.loadOrCreate(tmp.resolve("h"), "10.1.2.3");
    assertThat(dev.certificate().getSubjectAlternativeNames())
        .extracting(san -> String.valueOf(san.get(1)))
        .contains("localhost", "127.0.0.1", "10.1.2.3");
    assertThat(Files.readString(dev.privateKeyPem())).startsWith("-----BEGIN PRIVATE KEY-----");
  }

  @Test
  void selfSignedCertificateIsReplacedWhenTheHostChanges() throws Exception {
    Path dataDir = tmp.resolve("moved");
    String before = DevCertificate.loadOrCreate(dataDir, "127.0.0.1").fingerprint();
    assertThat(DevCertificate.loadOrCreate(dataDir, "::1").fingerprint()).isEqualTo(before);
    DevCertificate moved = DevCertificate.loadOrCreate(dataDir, "chat.internal");
    assertThat(moved.fingerprint()).isNotEqualTo(before);
    assertThat(moved.certificate().getSubjectAlternativeNames())
        .extracting(san -> String.valueOf(san.get(1)))
        .contains("chat.internal");
    assertThat(DevCertificate.loadOrCreate(dataDir, "chat.internal").fingerprint())
        .isEqualTo(moved.fingerprint());
  }

  @Test
  void separateAdminListenerAndBreakerSettingsAreRead() throws Exception {
    Map<String, String> env = new java.util.HashMap<>(ENV);
    env.put("PARLEY_STORAGE_BREAKER_WINDOW", "4");
    env.put("PARLEY_STORAGE_BREAKER_FAILURE_RATE", "75");
    env.put("PARLEY_STORAGE_BREAKER_OPEN_DURATION", "250ms");
    ParleyConfig config =
        new ConfigLoader(env)
            .load(new ConfigOverrides(write("admin:\n  port: 9090\n  host: 10.0.0.5\n"), null, null, null));
    assertThat(config.admin()).isEqualTo(new ParleyConfig.Admin("k".repeat(40), "10.0.0.5", 9090));
    assertThat(config.admin().separateListener()).isTrue();
    assertThat(config.storeBreaker())
        .isEqualTo(new ParleyConfig.StoreBreaker(75, 4, java.time.Duration.ofMillis(250)));
  }

  @Test
  void adminPortBelowMinusOneIsRejected() {
    assertThat(problems("admin:\n  port: -2\n")).contains("admin.port must be -1..65535, got -2");
  }
}
