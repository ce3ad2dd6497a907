package io.parley.server.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.server.testing.TestServer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Push through the generic webhook provider while the push gateway is down: the provider's
 * circuit breaker ({@code push:webhook}) holds attempts back so an outage longer than the retry
 * budget dead-letters nothing, and after the gateway recovers, or after a restart in the middle of
 * the retries, every (event, device) push arrives exactly once under its stable delivery id.
 */
class PushOutageIT {
  private static final String SECRET = "push-gateway-secret-for-tests";
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final List<String> DEVICES = List.of("bob-phone", "bob-tablet", "carol-phone");
  private static final String BREAKER = "name=\"push:webhook\"";

  private TestServer server;
  private RecordingHookServer gateway;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (gateway != null) {
      gateway.close();
    }
  }

  /**
   * Retries are fast and the attempt budget is small: without the breaker the outage below would
   * exhaust it many times over (an attempt every few tens of ms), so "nothing dead-lettered" tests
   * that the open breaker really holds attempts back.
   */
  private AdminCalls start(AtomicBoolean down) throws Exception {
    gateway = new RecordingHookServer(SECRET);
    gateway.respondWith(body -> down.get() ? 503 : 200);
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_NOTIFY_PUSH_WEBHOOK_URL", gateway.url());
    env.put("PARLEY_NOTIFY_PUSH_WEBHOOK_SECRET", SECRET);
    env.put("PARLEY_NOTIFY_PUSH_DELAY", "100ms");
    env.put("PARLEY_NOTIFY_MAX_ATTEMPTS", "10");
    env.put("PARLEY_NOTIFY_BACKOFF_BASE", "10ms");
    env.put("PARLEY_NOTIFY_BACKOFF_MAX", "50ms");
    env.put("PARLEY_NOTIFY_POLL_INTERVAL", "20ms");
    env.put("PARLEY_NOTIFY_BREAKER_OPEN_DURATION", "1s");
    server = TestServer.start(env);
    AdminCalls admin = new AdminCalls(server);
    for (String u : List.of("alice", "bob", "carol")) {
      admin.createUser(u);
    }
    for (String device : DEVICES) {
      String user = device.substring(0, device.indexOf('-'));
      admin.call(
          "POST",
          "/v1/admin/users/" + user + "/push-targets",
          "{\"device_id\":\"" + device + "\",\"provider\":\"webhook\",\"token\":\"" + device + "-token\"}");
    }
    return admin;
  }

  @Test
  void anOutageOpensTheBreakerDeadLettersNothingAndEveryPushArrivesOnceAfterRecovery()
      throws Exception {
    AtomicBoolean down = new AtomicBoolean(true);
    AdminCalls admin = start(down);
    String conv = admin.createGroup("alice", "bob", "carol");
    long last = 0;
    for (int i = 0; i < 3; i++) {
      last = admin.send(conv, "alice", "m" + i);
    }
    int expected = 3 * DEVICES.size();

    await()
        .atMost(WAIT)
        .until(() -> admin.metric("resilience4j_circuitbreaker_state", BREAKER + ",state=\"open\"") == 1);
    await()
        .atMost(WAIT)
        .until(() -> admin.metric("resilience4j_circuitbreaker_not_permitted_calls_total", BREAKER) > 0);
    // Stay down across at least one failed trial call, so the breaker re-opens once.
    int failedBefore = failed().size();
    await().atMost(WAIT).until(() -> failed().size() > failedBefore);
    assertThat(admin.metric("parley_notify_pushes_prepared_total", "")).isEqualTo(expected);

    down.set(false);

    await()
        .atMost(WAIT)
        .until(
            () ->
                admin.metric("parley_notify_jobs_total", "kind=\"push\",result=\"delivered\"")
                    >= expected);
    assertThat(admin.metric("parley_notify_jobs_total", "kind=\"push\",result=\"delivered\""))
        .isEqualTo(expected);
    assertThat(admin.metric("parley_notify_jobs_total", "result=\"dead_lettered\"")).isZero();
    assertThat(admin.call("GET", "/v1/admin/notifications/dead-letters", null).path("dead_letters").size())
        .isZero();
    assertThat(admin.metric("resilience4j_circuitbreaker_state", BREAKER + ",state=\"closed\""))
        .isEqualTo(1);
    assertThat(failed().size()).isLessThan(10);

    assertExactlyOncePerEventAndDevice(expected);
    assertThat(gateway.received()).allMatch(RecordingHookServer.Received::signatureValid);
    // Retries reuse the delivery id: every failed attempt belongs to a push that later arrived.
    assertThat(failed())
        .extracting(RecordingHookServer.Received::deliveryId)
        .isSubsetOf(gateway.accepted().stream().map(RecordingHookServer.Received::deliveryId).toList());
    long lastSeq = last;
    List<RecordingHookServer.Received> lastPushes =
        gateway.accepted().stream().filter(r -> r.body().path("data").path("seq").asLong() == lastSeq).toList();
    assertThat(lastPushes).hasSize(DEVICES.size());
    assertThat(lastPushes).allMatch(r -> r.body().path("notification").path("badge").asLong() == 3);
  }

  @Test
  void aRestartInTheMiddleOfRetriesDeliversEachPushExactlyOnce() throws Exception {
    AtomicBoolean down = new AtomicBoolean(true);
    AdminCalls admin = start(down);
    String conv = admin.createGroup("alice", "bob", "carol");
    for (int i = 0; i < 2; i++) {
      admin.send(conv, "alice", "m" + i);
    }
    int expected = 2 * DEVICES.size();
    await().atMost(WAIT).until(() -> admin.metric("parley_notify_pushes_prepared_total", "") == expected);
    // Every device's lane has been tried and failed at least once.
    await()
        .atMost(WAIT)
        .until(
            () ->
                failed().stream().map(r -> r.body().path("device_id").asText()).distinct().count()
                    == DEVICES.size());

    server.stop();
    down.set(false);
    server.restart();

    AdminCalls restarted = new AdminCalls(server);
    await().atMost(WAIT).until(() -> gateway.accepted().size() >= expected);
    // A device's pushes of one conversation are sent in seq order, one at a time: once the
    // sentinel's push arrives on every device no earlier duplicate can still come.
    long sentinel = restarted.send(conv, "alice", "sentinel");
    await()
        .atMost(WAIT)
        .until(
            () ->
                gateway.accepted().stream()
                        .filter(r -> r.body().path("data").path("seq").asLong() == sentinel)
                        .count()
                    == DEVICES.size());
    assertExactlyOncePerEventAndDevice(expected + DEVICES.size());
    assertThat(restarted.call("GET", "/v1/admin/notifications/dead-letters", null).path("dead_letters").size())
        .isZero();
  }

  private List<RecordingHookServer.Received> failed() {
    return gateway.received().stream().filter(r -> r.answeredStatus() >= 500).toList();
  }

  private void assertExactlyOncePerEventAndDevice(int expected) {
    List<RecordingHookServer.Received> accepted = gateway.accepted();
    Map<String, Long> perDeliveryId =
        accepted.stream()
            .collect(Collectors.groupingBy(RecordingHookServer.Received::deliveryId, Collectors.counting()));
    Map<String, Long> perEventAndDevice =
        accepted.stream()
            .collect(
                Collectors.groupingBy(
                    r -> r.body().path("data").path("seq").asLong() + "/" + r.body().path("device_id").asText(),
                    Collectors.counting()));
    assertThat(perDeliveryId).hasSize(expected);
    assertThat(perDeliveryId.values()).containsOnly(1L);
    assertThat(perEventAndDevice).hasSize(expected);
    assertThat(perEventAndDevice.values()).containsOnly(1L);
    assertThat(accepted).allMatch(r -> r.deliveryId().equals(r.body().path("id").asText()));
  }
}
