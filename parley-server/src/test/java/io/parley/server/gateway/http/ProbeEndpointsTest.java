package io.parley.server.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class ProbeEndpointsTest {
  private static final HttpCall GET = new HttpCall("GET", "/x", Map.of(), Map.of(), new byte[0], "");

  private static String text(HttpReply r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void healthIsAlwaysOk() {
    HttpReply r = new HealthEndpoint().handle(GET).join();
    assertThat(r.status()).isEqualTo(200);
    assertThat(text(r)).isEqualTo("{\"status\":\"ok\"}");
  }

  @Test
  void readinessListsChecksAndFailsWhenOneIsDown() {
    AtomicBoolean store = new AtomicBoolean(true);
    Map<String, BooleanSupplier> checks = new LinkedHashMap<>();
    checks.put("gateway", () -> true);
    checks.put("store", store::get);
    ReadinessEndpoint readiness = new ReadinessEndpoint(checks);

    HttpReply ready = readiness.handle(GET).join();
    assertThat(ready.status()).isEqualTo(200);
    assertThat(text(ready)).isEqualTo("{\"checks\":{\"gateway\":\"up\",\"store\":\"up\"},\"status\":\"ready\"}");

    store.set(false);
    HttpReply notReady = readiness.handle(GET).join();
    assertThat(notReady.status()).isEqualTo(503);
    assertThat(text(notReady)).contains("\"store\":\"down\"").contains("not_ready");
  }

  @Test
  void aThrowingCheckCountsAsDown() {
    ReadinessEndpoint readiness =
        new ReadinessEndpoint(Map.of("broken", () -> { throw new IllegalStateException(); }));
    assertThat(readiness.handle(GET).join().status()).isEqualTo(503);
  }

  @Test
  void metricsServePrometheusText() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Counter.builder("parley.test.things").register(registry).increment(3);
    HttpReply r = new MetricsEndpoint(registry).handle(GET).join();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.contentType()).startsWith("text/plain");
    assertThat(text(r)).contains("parley_test_things_total 3.0");
    registry.close();
  }
}
