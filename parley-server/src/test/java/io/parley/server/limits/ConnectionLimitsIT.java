package io.parley.server.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.gateway.testing.RawWsClient;
import io.parley.server.gateway.ws.CloseCodes;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Connection count limits per user and per address over a real in-process server. */
class ConnectionLimitsIT {

  @Test
  void aUserBeyondMaxConnectionsPerUserIsAnsweredLimitExceededAndClosedWith4029() throws Exception {
    try (TestServer server = TestServer.start(Map.of("PARLEY_LIMITS_MAX_CONNECTIONS_PER_USER", "2"))) {
      try (WsTestClient phone = WsTestClient.authenticated(server.port(), server.token("alice"), "phone");
          WsTestClient laptop = WsTestClient.authenticated(server.port(), server.token("alice"), "laptop");
          WsTestClient tablet = WsTestClient.connect(server.port())) {
        ServerFrame answer =
            tablet.call(
                b -> b.setAuthenticate(Authenticate.newBuilder().setToken(server.token("alice")).setDeviceId("tablet")));
        assertThat(answer.getError().getCode()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
        assertThat(answer.getError().getMessage()).contains("max_connections_per_user");
        assertThat(tablet.closed().get(10, TimeUnit.SECONDS)).isEqualTo(CloseCodes.CONNECTION_LIMIT);

        // The existing devices keep working, and other users are not affected.
        assertThat(phone.call(b -> b.setPing(io.parley.protocol.v1.Ping.getDefaultInstance())).hasPong()).isTrue();
        try (WsTestClient bob = WsTestClient.authenticated(server.port(), server.token("bob"), "phone")) {
          assertThat(bob.call(b -> b.setPing(io.parley.protocol.v1.Ping.getDefaultInstance())).hasPong()).isTrue();
        }

        // Once a device disconnects, its slot is free again.
        laptop.close();
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () -> {
                  try (WsTestClient again = WsTestClient.connect(server.port())) {
                    ServerFrame r =
                        again.call(
                            b -> b.setAuthenticate(Authenticate.newBuilder().setToken(server.token("alice"))));
                    assertThat(r.hasAuthenticated()).as("%s", r).isTrue();
                  }
                });
      }
    }
  }

  @Test
  void anAddressBeyondMaxConnectionsPerIpIsRefusedWith429BeforeTheUpgrade() throws Exception {
    try (TestServer server = TestServer.start(Map.of("PARLEY_LIMITS_MAX_CONNECTIONS_PER_IP", "3"))) {
      List<WsTestClient> open = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          open.add(WsTestClient.connect(server.port()));
        }
        try (RawWsClient refused = RawWsClient.open(server.port(), List.of(WsTestClient.PROTO), 0)) {
          assertThat(refused.status).isEqualTo(429);
          assertThat(refused.body).contains("\"code\":\"LIMIT_EXCEEDED\"").contains("max_connections_per_ip");
        }
        // Plain HTTP (health checks, admin API) is not counted.
        var health =
            java.net.http.HttpClient.newHttpClient()
                .send(
                    java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + server.port() + "/healthz"))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);

        open.remove(0).close();
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () -> {
                  try (RawWsClient again = RawWsClient.open(server.port(), List.of(WsTestClient.PROTO), 0)) {
                    assertThat(again.status).isEqualTo(101);
                  }
                });
      } finally {
        open.forEach(WsTestClient::close);
      }
    }
  }
}
