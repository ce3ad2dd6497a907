package io.parley.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.gateway.http.StaticResourceEndpoint;
import io.parley.server.gateway.testing.GatewayHarness;
import io.parley.server.gateway.testing.TestConfigs;
import io.parley.server.gateway.testing.WsClient;
import io.parley.server.gateway.ws.CloseCodes;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GatewayHttpIT {
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private GatewayHarness gw;

  @AfterEach
  void tearDown() {
    if (gw != null) {
      gw.close();
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port + path)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void healthStaticFilesAndUnknownPathsAreServedWithSecurityHeaders() throws Exception {
    gw =
        new GatewayHarness(
            TestConfigs.builder().build(),
            Map.of("/", new StaticResourceEndpoint("/", "gateway-test-web")));
    HttpResponse<String> health = get("/healthz");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("{\"status\":\"ok\"}");
    assertThat(health.headers().firstValue("x-content-type-options")).contains("nosniff");
    assertThat(health.headers().firstValue("x-frame-options")).contains("DENY");
    assertThat(health.headers().firstValue("referrer-policy")).contains("no-referrer");
    assertThat(health.headers().firstValue("cache-control")).contains("no-store");

    HttpResponse<String> index = get("/");
    assertThat(index.statusCode()).isEqualTo(200);
    assertThat(index.body()).contains("parley test");
    assertThat(get("/%2e%2e/gateway-test-secret.txt").statusCode()).isEqualTo(404);

    HttpResponse<String> ws = get("/v1/ws");
    assertThat(ws.statusCode()).isEqualTo(400);
    assertThat(ws.body()).contains("WebSocket upgrade");
  }

  @Test
  void anOversizedBodyIsRefusedWith413CarryingTheSecurityHeaders() throws Exception {
    gw = new GatewayHarness(TestConfigs.builder().build());
    HttpResponse<String> res =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port + "/healthz"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[2 * 1024 * 1024]))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(res.statusCode()).isEqualTo(413);
    assertThat(res.headers().firstValue("x-content-type-options")).contains("nosniff");
  }

  @Test
  void unknownPathsAre404JsonWithoutAStaticEndpoint() throws Exception {
    gw = new GatewayHarness(TestConfigs.builder().build());
    HttpResponse<String> missing = get("/nope");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).contains("\"code\":\"NOT_FOUND\"");
  }

  @Test
  void metricsReportConnectionsFramesErrorsAndRequestLatency() throws Exception {
    gw = new GatewayHarness(TestConfigs.builder().build());
    WsClient alice = gw.authenticated("alice");
    alice.request(ClientFrame.newBuilder().setSendMessage(SendMessage.newBuilder().setConversationId("c1")));
    alice.sendRawBinary(new byte[] {(byte) 0xff, (byte) 0xff});
    assertThat(alice.next().getError().getCode()).isEqualTo(ErrorCode.BAD_REQUEST);
    String metrics = get("/metrics").body();
    assertThat(metrics)
        .contains("parley_connections 1.0")
        .contains("parley_frames_in_total 3.0")
        .contains("parley_frames_out_total 3.0")
        .contains("parley_errors_total{code=\"BAD_REQUEST\"} 1.0")
        .contains("parley_request_seconds_count{kind=\"send_message\"} 1")
        .contains("parley_request_seconds_bucket{kind=\"send_message\"")
        .contains("parley_events_out_total 0.0");
  }

  @Test
  void aConnectionThatSendsNoRequestIsClosedAtTheHandshakeDeadline() throws Exception {
    gw = new GatewayHarness(TestConfigs.builder().handshake(Duration.ofMillis(300)).build());
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", gw.port), 5000);
      s.setSoTimeout(10_000);
      InputStream in = s.getInputStream();
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void drainSendsGoAwayTurnsReadinessOffWaitsForInFlightThenClosesWith1001() throws Exception {
    gw = new GatewayHarness(TestConfigs.builder().shutdownGrace(Duration.ofMillis(1500)).build());
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    WsClient alice = gw.authenticated("alice");
    alice.send(
        ClientFrame.newBuilder()
            .setRequestId(1)
            .setSendMessage(SendMessage.newBuilder().setConversationId("hang"))
            .build());
    await(() -> gw.server.sessions().all().size() == 1);

    var drained = gw.server.drain();
    ServerFrame goAway = alice.next();
    assertThat(goAway.getGoAway().getReconnectAfterMs()).isPositive();
    assertThat(gw.server.isReady()).isFalse();
    HttpResponse<String> readiness = get("/readyz");
    assertThat(readiness.statusCode()).isEqualTo(503);
    assertThat(readiness.body()).contains("\"gateway\":\"down\"");

    assertThat(alice.request(ClientFrame.newBuilder().setPing(Ping.getDefaultInstance())).hasPong()).isTrue();
    ServerFrame refused =
        alice.request(ClientFrame.newBuilder().setSendMessage(SendMessage.newBuilder().setConversationId("c1")));
    assertThat(refused.getError().getCode()).isEqualTo(ErrorCode.SHUTTING_DOWN);

    assertThat(alice.awaitClose().code()).isEqualTo(CloseCodes.GOING_AWAY);
    drained.get(10, TimeUnit.SECONDS);
  }

  private static void await(java.util.concurrent.Callable<Boolean> condition) {
    org.awaitility.Awaitility.await().atMost(5, TimeUnit.SECONDS).until(condition);
  }
}
