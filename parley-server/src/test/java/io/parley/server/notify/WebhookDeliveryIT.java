package io.parley.server.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
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
 * Webhooks end to end: a real server delivering to a local receiver that verifies signatures as
 * docs/notifications.md describes, through outages, restarts and the dead-letter list.
 */
class WebhookDeliveryIT {
  private static final String SECRET = "a-webhook-secret-for-tests";
  private static final Duration WAIT = Duration.ofSeconds(30);

  private TestServer server;
  private RecordingHookServer hook;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (hook != null) {
      hook.close();
    }
  }

  private AdminCalls start(int maxAttempts) throws Exception {
    hook = new RecordingHookServer(SECRET);
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_NOTIFY_MAX_ATTEMPTS", Integer.toString(maxAttempts));
    env.put("PARLEY_NOTIFY_BACKOFF_BASE", "20ms");
    env.put("PARLEY_NOTIFY_BACKOFF_MAX", "200ms");
    env.put("PARLEY_NOTIFY_POLL_INTERVAL", "20ms");
    env.put("PARLEY_NOTIFY_BREAKER_OPEN_DURATION", "100ms");
    server = TestServer.start(env);
    AdminCalls admin = new AdminCalls(server);
    admin.createUser("alice");
    admin.createUser("bob");
    return admin;
  }

  @Test
  void deliveriesAreSignedJsonWithAUniqueDeliveryIdPerEvent() throws Exception {
    AdminCalls admin = start(5);
    admin.createWebhook(hook.url(), SECRET, "message.created", "member.added");
    String conv = admin.createGroup("alice", "bob");
    long s1 = admin.send(conv, "alice", "hello");
    long s2 = admin.send(conv, "bob", "hi");

    await().atMost(WAIT).until(() -> typed(hook.accepted(), "message.created").size() == 2);

    List<RecordingHookServer.Received> messages = typed(hook.accepted(), "message.created");
    assertThat(messages).allMatch(RecordingHookServer.Received::signatureValid);
    assertThat(messages).extracting(r -> r.body().path("seq").asLong()).containsExactly(s1, s2);
    assertThat(messages).extracting(RecordingHookServer.Received::deliveryId).doesNotHaveDuplicates();
    JsonNode first = messages.get(0).body();
    assertThat(first.path("id").asText()).isEqualTo(messages.get(0).deliveryId());
    assertThat(first.path("conversation_id").asText()).isEqualTo(conv);
    assertThat(first.path("data").path("actorUserId").asText()).isEqualTo("alice");
    assertThat(first.path("data").path("messagePosted").path("contentType").asText())
        .isEqualTo("text/plain");
    // Subscribed types only: the group's ConversationCreated is not delivered, MemberJoined is.
    assertThat(hook.received()).noneMatch(r -> "conversation.created".equals(r.eventType()));
    assertThat(hook.received()).anyMatch(r -> "member.added".equals(r.eventType()));
  }

  @Test
  void afterAnOutageEveryDeliveryArrivesOnceAndInOrder() throws Exception {
    AdminCalls admin = start(1000);
    AtomicBoolean down = new AtomicBoolean(true);
    hook.respondWith(body -> down.get() ? 503 : 200);
    String webhookId = admin.createWebhook(hook.url(), SECRET, "message.created");
    String conv = admin.createGroup("alice", "bob");
    for (int i = 0; i < 5; i++) {
      admin.send(conv, "alice", "m" + i);
    }
    await().atMost(WAIT).until(() -> hook.received().size() >= 4);
    // The endpoint's breaker opened: attempts were held back instead of spent.
    await()
        .atMost(WAIT)
        .until(
            () ->
                admin.metric(
                        "resilience4j_circuitbreaker_not_permitted_calls_total",
                        "name=\"webhook:" + webhookId + "\"")
                    > 0);

    down.set(false);

    await().atMost(WAIT).until(() -> hook.accepted().size() == 5);
    List<Long> seqs = hook.accepted().stream().map(r -> r.body().path("seq").asLong()).toList();
    assertThat(seqs).isSorted().doesNotHaveDuplicates();
    assertThat(hook.received()).allMatch(RecordingHookServer.Received::signatureValid);
    // The head of the lane was retried; nothing behind it was attempted before it succeeded.
    long firstSeq = seqs.get(0);
    List<RecordingHookServer.Received> failed =
        hook.received().stream().filter(r -> r.answeredStatus() == 503).toList();
    assertThat(failed).allMatch(r -> r.body().path("seq").asLong() == firstSeq);
    assertThat(failed.stream().mapToInt(RecordingHookServer.Received::attempt).max().orElse(0))
        .isGreaterThan(1);
  }

  @Test
  void aRestartInTheMiddleOfRetriesStillDeliversEachEventExactlyOnce() throws Exception {
    AdminCalls admin = start(1000);
    AtomicBoolean down = new AtomicBoolean(true);
    hook.respondWith(body -> down.get() ? 500 : 200);
    admin.createWebhook(hook.url(), SECRET, "message.created");
    String conv = admin.createGroup("alice", "bob");
    for (int i = 0; i < 3; i++) {
      admin.send(conv, "alice", "m" + i);
    }
    await().atMost(WAIT).until(() -> hook.received().size() >= 3);

    server.restart();
    down.set(false);

    await().atMost(WAIT).until(() -> hook.accepted().size() >= 3);
    // A later event of the same lane is attempted only after every earlier one left the outbox,
    // so once it arrives no earlier duplicate can still come.
    long sentinel = new AdminCalls(server).send(conv, "bob", "sentinel");
    await()
        .atMost(WAIT)
        .until(() -> hook.accepted().stream().anyMatch(r -> r.body().path("seq").asLong() == sentinel));
    Map<String, Long> perDelivery =
        hook.accepted().stream()
            .collect(Collectors.groupingBy(RecordingHookServer.Received::deliveryId, Collectors.counting()));
    assertThat(perDelivery).hasSize(4);
    assertThat(perDelivery.values()).containsOnly(1L);
  }

  @Test
  void exhaustedDeliveriesAreDeadLetteredWithTheLastErrorAndCanBeReplayed() throws Exception {
    AdminCalls admin = start(3);
    AtomicBoolean down = new AtomicBoolean(true);
    hook.respondWith(body -> down.get() ? 500 : 200);
    admin.createWebhook(hook.url(), SECRET, "message.created");
    String conv = admin.createGroup("alice", "bob");
    long seq = admin.send(conv, "alice", "doomed");

    await()
        .atMost(WAIT)
        .until(() -> admin.call("GET", "/v1/admin/notifications/dead-letters", null).path("dead_letters").size() == 1);
    JsonNode dead = admin.call("GET", "/v1/admin/notifications/dead-letters", null).path("dead_letters").get(0);
    assertThat(dead.path("attempts").asInt()).isEqualTo(3);
    assertThat(dead.path("last_error").asText()).isEqualTo("HTTP 500");
    assertThat(dead.path("kind").asText()).isEqualTo("webhook");
    assertThat(hook.received()).hasSize(3);

    down.set(false);
    admin.call("POST", "/v1/admin/notifications/dead-letters/" + dead.path("job_id").asText() + "/replay", null);

    await().atMost(WAIT).until(() -> hook.accepted().size() == 1);
    assertThat(hook.accepted().get(0).deliveryId()).isEqualTo(dead.path("job_id").asText());
    assertThat(hook.accepted().get(0).body().path("seq").asLong()).isEqualTo(seq);
    assertThat(admin.call("GET", "/v1/admin/notifications/dead-letters", null).path("dead_letters").size())
        .isZero();
  }

  private static List<RecordingHookServer.Received> typed(
      List<RecordingHookServer.Received> all, String type) {
    return all.stream().filter(r -> type.equals(r.eventType())).toList();
  }
}
