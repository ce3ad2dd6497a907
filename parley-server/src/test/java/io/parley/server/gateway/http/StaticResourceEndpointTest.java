package io.parley.server.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StaticResourceEndpointTest {
  private final StaticResourceEndpoint endpoint =
      new StaticResourceEndpoint("/", "gateway-test-web", getClass().getClassLoader(), Runnable::run);

  private HttpReply get(String path) {
    return endpoint.handle(new HttpCall("GET", path, Map.of(), Map.of(), new byte[0], "")).join();
  }

  @Test
  void rootServesIndexHtml() {
    HttpReply r = get("/");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.contentType()).isEqualTo("text/html; charset=utf-8");
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("parley test");
  }

  @Test
  void filesGetContentTypesFromTheirExtension() {
    assertThat(get("/app.js").contentType()).startsWith("text/javascript");
    assertThat(get("/style.css").contentType()).startsWith("text/css");
    assertThat(get("/sub/").contentType()).startsWith("text/html");
  }

  @Test
  void missingFilesAndDirectoriesWithoutSlashAre404() {
    assertThat(get("/nope.js").status()).isEqualTo(404);
    assertThat(get("/sub").status()).isEqualTo(404);
  }

  @Test
  void traversalNeverLeavesTheBase() {
    assertThat(get("/../gateway-test-secret.txt").status()).isEqualTo(404);
    assertThat(get("/sub/../../gateway-test-secret.txt").status()).isEqualTo(404);
    assertThat(get("/./app.js").status()).isEqualTo(404);
    assertThat(get("//gateway-test-secret.txt").status()).isEqualTo(404);
    assertThat(get("/..\\gateway-test-secret.txt").status()).isEqualTo(404);
    assertThat(get("/C:/x").status()).isEqualTo(404);
    assertThat(endpoint.resourceName("/../gateway-test-secret.txt")).isEmpty();
  }

  @Test
  void onlyGetAndHeadAreAllowed() {
    HttpReply r = endpoint.handle(new HttpCall("POST", "/app.js", Map.of(), Map.of(), new byte[0], "")).join();
    assertThat(r.status()).isEqualTo(405);
    assertThat(r.headers()).containsEntry("Allow", "GET, HEAD");
  }

  @Test
  void mountedUnderAPrefixStripsIt() {
    StaticResourceEndpoint mounted =
        new StaticResourceEndpoint("/demo/", "/gateway-test-web/", getClass().getClassLoader(), Runnable::run);
    assertThat(mounted.resourceName("/demo/app.js")).contains("gateway-test-web/app.js");
    assertThat(mounted.resourceName("/demo/")).contains("gateway-test-web/index.html");
  }
}
