package io.parley.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code admin.port}: with a separate admin listener the admin API, the OpenAPI document and
 * {@code /metrics} are served only there and the main port answers 404 for them; without one they
 * are on the main port as before.
 */
class AdminListenerIT {
  private final HttpClient http = HttpClient.newHttpClient();

  private int status(int port, String path) throws Exception {
    return get(port, path).statusCode();
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", "Bearer " + TestServer.adminKey())
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void separateAdminPortServesTheOperatorRoutesAndTheMainPortHidesThem() throws Exception {
    try (TestServer server =
        TestServer.start(Map.of("PARLEY_ADMIN_PORT", "0", "PARLEY_ADMIN_HOST", "127.0.0.1"))) {
      int main = server.port();
      int admin = server.adminPort();
      assertThat(admin).isPositive().isNotEqualTo(main);

      assertThat(status(admin, "/v1/admin/users")).isEqualTo(200);
      assertThat(get(admin, "/metrics").body()).contains("parley_connections");
      assertThat(status(admin, "/v1/openapi.yaml")).isEqualTo(200);
      assertThat(status(admin, "/readyz")).isEqualTo(200);
      assertThat(status(admin, "/healthz")).isEqualTo(200);

      HttpResponse<String> hidden = get(main, "/v1/admin/users");
      assertThat(hidden.statusCode()).isEqualTo(404);
      assertThat(hidden.body()).contains("NOT_FOUND");
      assertThat(status(main, "/v1/admin/users/alice")).isEqualTo(404);
      assertThat(status(main, "/metrics")).isEqualTo(404);
      assertThat(status(main, "/v1/openapi.yaml")).isEqualTo(404);
      assertThat(status(main, "/readyz")).isEqualTo(200);

      // the admin listener is not a chat endpoint
      assertThat(status(admin, "/")).isEqualTo(404);
      assertThatThrownBy(
              () ->
                  WsTestClient.connect(
                      http,
                      URI.create("ws://127.0.0.1:" + admin + "/v1/ws"),
                      WsTestClient.PROTO,
                      Map.of()))
          .cause()
          .isInstanceOfSatisfying(
              WebSocketHandshakeException.class,
              e -> assertThat(e.getResponse().statusCode()).isEqualTo(404));
      WsTestClient.authenticated(main, server.token("alice"), "d1").close();
    }
  }

  @Test
  void withoutAdminPortEverythingIsOnTheMainPort() throws Exception {
    try (TestServer server = TestServer.start()) {
      assertThat(server.adminPort()).isEqualTo(-1);
      assertThat(status(server.port(), "/v1/admin/users")).isEqualTo(200);
      assertThat(status(server.port(), "/metrics")).isEqualTo(200);
      assertThat(status(server.port(), "/v1/openapi.yaml")).isEqualTo(200);
    }
  }
}
