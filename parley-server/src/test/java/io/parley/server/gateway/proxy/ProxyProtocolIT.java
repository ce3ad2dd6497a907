package io.parley.server.gateway.proxy;

import static io.parley.server.gateway.testing.ProxiedClient.proxied;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.parley.server.gateway.testing.ProxiedClient;
import io.parley.server.gateway.testing.ProxiedClient.Reply;
import io.parley.server.gateway.tls.TestCertificates;
import io.parley.server.testing.ForkedServer;
import io.parley.server.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code server.proxy_protocol} over a real server and a real Netty client acting as the load
 * balancer: the PROXY header's source address is the client address of the per-address limits.
 */
class ProxyProtocolIT {
  private static final Pattern REJECTED =
      Pattern.compile("(?m)^parley_proxy_protocol_rejected_total (\\S+)$");
  private static final Map<String, String> PROXY_ON_TWO_PER_IP =
      Map.of("PARLEY_SERVER_PROXY_PROTOCOL", "true", "PARLEY_LIMITS_MAX_CONNECTIONS_PER_IP", "2");

  @ParameterizedTest
  @EnumSource(HAProxyProtocolVersion.class)
  void clientsBehindOneProxyEachGetTheirOwnConnectionQuota(HAProxyProtocolVersion version)
      throws Exception {
    try (TestServer server = TestServer.start(PROXY_ON_TWO_PER_IP)) {
      List<ProxiedClient> open = new ArrayList<>();
      try {
        for (String ip : List.of("10.0.0.1", "10.0.0.2", "2001:db8:1::1")) {
          for (int i = 0; i < 2; i++) {
            ProxiedClient c = ProxiedClient.connect(server.port(), proxied(version, ip, 40_000 + i));
            open.add(c);
            assertThat(c.openWebSocket().status()).as("%s #%d", ip, i).isEqualTo(101);
          }
        }
        // All came from 127.0.0.1, yet only the announced address is counted.
        try (ProxiedClient third =
            ProxiedClient.connect(server.port(), proxied(version, "10.0.0.1", 40_002))) {
          Reply refused = third.openWebSocket();
          assertThat(refused.status()).isEqualTo(429);
          assertThat(refused.body()).contains("LIMIT_EXCEEDED").contains("max_connections_per_ip");
        }
        // IPv6 clients are counted per /64, as without a proxy.
        try (ProxiedClient sameSubnet =
            ProxiedClient.connect(server.port(), proxied(version, "2001:db8:1::2", 40_003))) {
          assertThat(sameSubnet.openWebSocket().status()).isEqualTo(429);
        }
        try (ProxiedClient other =
            ProxiedClient.connect(server.port(), proxied(version, "10.0.0.3", 40_004))) {
          assertThat(other.openWebSocket().status()).isEqualTo(101);
        }
      } finally {
        open.forEach(ProxiedClient::close);
      }
    }
  }

  @Test
  void theHeaderPrecedesTlsOnATlsListener(@TempDir Path dir) throws Exception {
    TestCertificates certs = TestCertificates.generate();
    TestCertificates.Files files = certs.written(dir);
    Map<String, String> env =
        Map.of(
            "PARLEY_SERVER_PROXY_PROTOCOL", "true",
            "PARLEY_LIMITS_MAX_CONNECTIONS_PER_IP", "1",
            "PARLEY_TLS_ENABLED", "true",
            "PARLEY_TLS_CERT_PEM", files.chain().toString(),
            "PARLEY_TLS_KEY_PEM", files.key().toString());
    try (TestServer server = TestServer.start(env);
        ProxiedClient first =
            ProxiedClient.connectTls(
                server.port(),
                proxied(HAProxyProtocolVersion.V2, "10.0.0.1", 40_000),
                certs.clientContext())) {
      assertThat(first.openWebSocket().status()).isEqualTo(101);
      try (ProxiedClient again =
          ProxiedClient.connectTls(
              server.port(),
              proxied(HAProxyProtocolVersion.V1, "10.0.0.1", 40_001),
              certs.clientContext())) {
        assertThat(again.openWebSocket().status()).isEqualTo(429);
      }
      try (ProxiedClient other =
          ProxiedClient.connectTls(
              server.port(),
              proxied(HAProxyProtocolVersion.V2, "10.0.0.2", 40_002),
              certs.clientContext())) {
        assertThat(other.openWebSocket().status()).isEqualTo(101);
      }
    }
  }

  @Test
  void aConnectionWithoutAHeaderIsClosedAndCountedWhileTheAdminListenerNeedsNone()
      throws Exception {
    Map<String, String> env =
        Map.of("PARLEY_SERVER_PROXY_PROTOCOL", "true", "PARLEY_ADMIN_PORT", "0");
    try (TestServer server = TestServer.start(env)) {
      try (ProxiedClient direct = ProxiedClient.connect(server.port(), null)) {
        assertThatThrownBy(direct::openWebSocket).isInstanceOf(ExecutionException.class);
        direct.closed().get(10, TimeUnit.SECONDS);
      }
      try (ProxiedClient direct = ProxiedClient.connect(server.port(), null)) {
        assertThatThrownBy(() -> direct.get("/healthz")).isInstanceOf(ExecutionException.class);
      }
      // The node is fine and serves connections that come through the proxy.
      try (ProxiedClient viaProxy =
          ProxiedClient.connect(
              server.port(), proxied(HAProxyProtocolVersion.V2, "10.0.0.1", 40_000))) {
        assertThat(viaProxy.get("/healthz").status()).isEqualTo(200);
      }
      // The separate admin listener is reached directly, without a header.
      HttpResponse<String> metrics =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + server.adminPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("parley_proxy_protocol_rejected_total 2.0");
    }
  }

  @ParameterizedTest
  @EnumSource(HAProxyProtocolVersion.class)
  void healthChecksWithoutAClientAddressKeepTheSocketPeer(HAProxyProtocolVersion version)
      throws Exception {
    try (TestServer server = TestServer.start(PROXY_ON_TWO_PER_IP)) {
      try (ProxiedClient check = ProxiedClient.healthCheck(server.port(), version)) {
        assertThat(check.get("/healthz").status()).isEqualTo(200);
        assertThat(check.get("/readyz").status()).isEqualTo(200);
      }
      // LOCAL / UNKNOWN connections are counted under the peer (127.0.0.1), not under a client.
      List<ProxiedClient> open = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) {
          ProxiedClient c = ProxiedClient.healthCheck(server.port(), version);
          open.add(c);
          assertThat(c.openWebSocket().status()).isEqualTo(101);
        }
        try (ProxiedClient third = ProxiedClient.healthCheck(server.port(), version)) {
          assertThat(third.openWebSocket().status()).isEqualTo(429);
        }
        try (ProxiedClient client =
            ProxiedClient.connect(server.port(), proxied(version, "127.0.0.1", 40_000))) {
          assertThat(client.openWebSocket().status()).as("the peer's quota is used up").isEqualTo(429);
        }
        try (ProxiedClient client =
            ProxiedClient.connect(server.port(), proxied(version, "10.0.0.1", 40_000))) {
          assertThat(client.openWebSocket().status()).isEqualTo(101);
        }
      } finally {
        open.forEach(ProxiedClient::close);
      }
    }
  }

  @Test
  void withTheOptionOffThePeerIsTheClientAndAHeaderIsNotTrusted() throws Exception {
    try (TestServer server =
        TestServer.start(Map.of("PARLEY_LIMITS_MAX_CONNECTIONS_PER_IP", "1"))) {
      try (ProxiedClient first = ProxiedClient.connect(server.port(), null)) {
        assertThat(first.openWebSocket().status()).isEqualTo(101);
        try (ProxiedClient second = ProxiedClient.connect(server.port(), null)) {
          assertThat(second.openWebSocket().status()).isEqualTo(429);
        }
        for (HAProxyProtocolVersion version : HAProxyProtocolVersion.values()) {
          try (ProxiedClient spoofing =
              ProxiedClient.connect(server.port(), proxied(version, "10.0.0.9", 40_000))) {
            int status;
            try {
              status = spoofing.openWebSocket().status();
            } catch (ExecutionException closed) {
              status = -1;
            }
            assertThat(status).as("%s header on a listener without PROXY protocol", version)
                .isNotEqualTo(101);
          }
        }
      }
    }
  }

  @Test
  void theServerJarTakesTheOptionFromTheEnvironmentAndAnswersHealthChecks(@TempDir Path dir)
      throws Exception {
    // What the cluster tests' gateways run: readiness and /metrics asked with a LOCAL header.
    try (ForkedServer server =
        ForkedServer.start(
            dir.resolve("data"), Map.of("PARLEY_SERVER_PROXY_PROTOCOL", "true"), List.of())) {
      assertThat(server.get("/metrics").body()).contains("parley_connections ");
      try (ProxiedClient client =
          ProxiedClient.connect(
              server.port(), proxied(HAProxyProtocolVersion.V2, "10.0.0.1", 40_000))) {
        assertThat(client.openWebSocket().status()).isEqualTo(101);
      }
      try (ProxiedClient direct = ProxiedClient.connect(server.port(), null)) {
        assertThatThrownBy(direct::openWebSocket).isInstanceOf(ExecutionException.class);
      }
    }
  }

  @Test
  void garbageBeforeOrInsteadOfTheHeaderNeverHurtsTheNode() throws Exception {
    Random random = new Random(20261205L);
    byte[] v2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    byte[] v1Prefix = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    try (TestServer server = TestServer.start(PROXY_ON_TWO_PER_IP)) {
      List<ProxiedClient> garbage = new ArrayList<>();
      try {
        for (int i = 0; i < 60; i++) {
          byte[] noise = new byte[random.nextInt(400)];
          random.nextBytes(noise);
          // A third starts like a v2 header, a third like a v1 header, a third is pure noise.
          byte[] prefix = i % 3 == 0 ? v2Signature : i % 3 == 1 ? v1Prefix : new byte[0];
          byte[] bytes = new byte[prefix.length + noise.length];
          System.arraycopy(prefix, 0, bytes, 0, prefix.length);
          System.arraycopy(noise, 0, bytes, prefix.length, noise.length);
          ProxiedClient c = ProxiedClient.connect(server.port(), null);
          c.sendRaw(bytes);
          garbage.add(c);
        }
        // Garbage after a valid header is the HTTP layer's business and must not hurt either.
        try (ProxiedClient c =
            ProxiedClient.connect(
                server.port(), proxied(HAProxyProtocolVersion.V1, "10.0.0.7", 40_000))) {
          byte[] noise = new byte[300];
          random.nextBytes(noise);
          c.sendRaw(noise);
          c.sendRaw("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () -> {
                  try (ProxiedClient metrics =
                      ProxiedClient.connect(
                          server.port(), proxied(HAProxyProtocolVersion.V2, "10.0.0.8", 1))) {
                    Matcher m = REJECTED.matcher(metrics.get("/metrics").body());
                    assertThat(m.find()).isTrue();
                    assertThat(Double.parseDouble(m.group(1))).isGreaterThanOrEqualTo(10);
                  }
                });
        for (HAProxyProtocolVersion version : HAProxyProtocolVersion.values()) {
          try (ProxiedClient ok =
              ProxiedClient.connect(server.port(), proxied(version, "10.0.0.1", 40_000))) {
            assertThat(ok.openWebSocket().status()).isEqualTo(101);
          }
          try (ProxiedClient ok =
              ProxiedClient.connect(server.port(), proxied(version, "10.0.0.2", 40_000))) {
            assertThat(ok.get("/healthz").status()).isEqualTo(200);
          }
        }
      } finally {
        garbage.forEach(ProxiedClient::close);
      }
    }
  }
}
