package io.parley.server.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MarkDelivered;
import io.parley.protocol.v1.PushPreview;
import io.parley.protocol.v1.RegisterPushTarget;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SetConversationMuted;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Push to offline devices end to end through the generic webhook push provider, against a local
 * push gateway that verifies the documented signature and answers 410 for an unregistered token.
 */
class PushNotificationIT {
  private static final String SECRET = "push-gateway-secret-for-tests";
  private static final Duration WAIT = Duration.ofSeconds(30);

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

  @Test
  void offlineMembersGetOnePushWithTheirUnreadTotalAndNobodyElseDoes() throws Exception {
    gateway = new RecordingHookServer(SECRET);
    gateway.respondWith(body -> body.path("token").asText().equals("gone-token") ? 410 : 200);
    server =
        TestServer.start(
            Map.of(
                "PARLEY_NOTIFY_PUSH_WEBHOOK_URL", gateway.url(),
                "PARLEY_NOTIFY_PUSH_WEBHOOK_SECRET", SECRET,
                "PARLEY_NOTIFY_PUSH_DELAY", "2s",
                "PARLEY_NOTIFY_POLL_INTERVAL", "20ms"));
    AdminCalls admin = new AdminCalls(server);
    for (String u : List.of("alice", "bob", "carol", "dave", "erin")) {
      admin.createUser(u);
    }
    String main = admin.createGroup("alice", "bob", "carol", "dave", "erin");
    String other = admin.createGroup("alice", "bob");
    admin.call("PUT", "/v1/admin/users/dave/mutes/" + main, "{\"muted\":true}");
    // Muting "other" keeps its message from pushing but not from counting as unread.
    admin.call("PUT", "/v1/admin/users/bob/mutes/" + other, "{\"muted\":true}");
    for (String u : List.of("alice", "bob", "carol", "dave")) {
      register(admin, u, u + "-token");
    }
    register(admin, "erin", "gone-token");

    try (WsTestClient carol =
        WsTestClient.authenticated(server.port(), server.token("carol"), "carol-laptop")) {
      admin.send(other, "alice", "earlier");
      long seq = admin.send(main, "alice", "hello");
      // Carol's device gets the message over its socket and acknowledges it.
      awaitMessage(carol, main, seq);
      carol.call(
          f ->
              f.setMarkDelivered(
                  MarkDelivered.newBuilder().setConversationId(main).setSeq(seq).build()));

      await()
          .atMost(WAIT)
          .until(() -> metric("parley_notify_jobs_total", "kind=\"push_fanout\"") >= 2);
      await()
          .atMost(WAIT)
          .until(
              () ->
                  pushesFinished() >= metric("parley_notify_pushes_prepared_total", ""));
    }

    List<RecordingHookServer.Received> pushes = gateway.received();
    assertThat(pushes).allMatch(RecordingHookServer.Received::signatureValid);
    assertThat(pushes)
        .extracting(r -> r.body().path("token").asText())
        .containsExactlyInAnyOrder("bob-token", "gone-token");
    RecordingHookServer.Received bob =
        pushes.stream().filter(r -> r.body().path("token").asText().equals("bob-token")).findFirst().orElseThrow();
    assertThat(bob.body().path("notification").path("badge").asLong()).isEqualTo(2);
    assertThat(bob.body().path("notification").path("body").asText()).isEqualTo("New message");
    assertThat(bob.body().path("data").path("conversation_id").asText()).isEqualTo(main);
    assertThat(bob.body().path("collapse_key").asText()).isEqualTo(main);
    assertThat(bob.deliveryId()).isEqualTo(bob.body().path("id").asText());
    // The invalid token was removed after the gateway's 410.
    assertThat(admin.call("GET", "/v1/admin/users/erin/push-targets", null).path("push_targets").size())
        .isZero();
    assertThat(admin.call("GET", "/v1/admin/users/bob/push-targets", null).path("push_targets").size())
        .isEqualTo(1);
  }

  @Test
  void devicesRegisterAndMuteOverTheProtocolAndOpaqueBodiesAreNeverPreviewed() throws Exception {
    gateway = new RecordingHookServer(SECRET);
    server =
        TestServer.start(
            Map.of(
                "PARLEY_NOTIFY_PUSH_WEBHOOK_URL", gateway.url(),
                "PARLEY_NOTIFY_PUSH_WEBHOOK_SECRET", SECRET,
                "PARLEY_NOTIFY_PUSH_DELAY", "200ms",
                "PARLEY_NOTIFY_PUSH_PREVIEW", "true",
                "PARLEY_NOTIFY_POLL_INTERVAL", "20ms"));
    AdminCalls admin = new AdminCalls(server);
    admin.createUser("alice");
    admin.createUser("bob");
    String chat = admin.createGroup("alice", "bob");
    String noisy = admin.createGroup("alice", "bob");

    try (WsTestClient bob =
        WsTestClient.authenticated(server.port(), server.token("bob"), "bob-phone")) {
      ServerFrame registered =
          bob.call(
              f ->
                  f.setRegisterPushTarget(
                      RegisterPushTarget.newBuilder().setProvider("webhook").setToken("bob-ws-token")));
      assertThat(registered.getPushTarget().getDeviceId()).isEqualTo("bob-phone");
      ServerFrame unknownProvider =
          bob.call(
              f ->
                  f.setRegisterPushTarget(
                      RegisterPushTarget.newBuilder().setProvider("fcm").setToken("t")));
      assertThat(unknownProvider.getError().getCode()).isEqualTo(ErrorCode.BAD_REQUEST);
      ServerFrame muted =
          bob.call(
              f ->
                  f.setSetConversationMuted(
                      SetConversationMuted.newBuilder().setConversationId(noisy).setMuted(true)));
      assertThat(muted.hasAck()).isTrue();
    }
    assertThat(admin.call("GET", "/v1/admin/users/bob/push-targets", null).path("push_targets").get(0).path("device_id").asText())
        .isEqualTo("bob-phone");

    admin.send(chat, "alice", "see you at eight");
    admin.call(
        "POST",
        "/v1/admin/conversations/" + chat + "/messages",
        "{\"as_user\":\"alice\",\"client_msg_id\":\"e2ee-1\",\"content_type\":\"application/x-parley-e2ee\",\"body_base64\":\"c2VjcmV0\"}");
    admin.send(noisy, "alice", "muted chatter");

    await()
        .atMost(WAIT)
        .until(() -> metric("parley_notify_jobs_total", "kind=\"push_fanout\"") >= 3);
    await().atMost(WAIT).until(() -> pushesFinished() >= metric("parley_notify_pushes_prepared_total", ""));
    assertThat(gateway.accepted())
        .extracting(r -> r.body().path("notification").path("body").asText())
        .containsExactlyInAnyOrder("see you at eight", "New message");
    assertThat(gateway.accepted()).allMatch(r -> r.body().path("token").asText().equals("bob-ws-token"));
  }

  @Test
  void aConversationsPushPreviewSettingOverridesTheServerDefault() throws Exception {
    gateway = new RecordingHookServer(SECRET);
    server =
        TestServer.start(
            Map.of(
                "PARLEY_NOTIFY_PUSH_WEBHOOK_URL", gateway.url(),
                "PARLEY_NOTIFY_PUSH_WEBHOOK_SECRET", SECRET,
                "PARLEY_NOTIFY_PUSH_DELAY", "200ms",
                "PARLEY_NOTIFY_PUSH_PREVIEW", "false",
                "PARLEY_NOTIFY_POLL_INTERVAL", "20ms"));
    AdminCalls admin = new AdminCalls(server);
    admin.createUser("alice");
    admin.createUser("bob");
    String previewed = admin.createGroup("alice", "bob");
    String plain = admin.createGroup("alice", "bob");
    register(admin, "bob", "bob-token");

    try (WsTestClient alice =
        WsTestClient.authenticated(server.port(), server.token("alice"), "alice-laptop")) {
      ServerFrame updated =
          alice.call(
              f ->
                  f.setUpdateConversation(
                      UpdateConversation.newBuilder()
                          .setConversationId(previewed)
                          .setMetadata(
                              ConversationMetadata.newBuilder()
                                  .setTitle("Previewed")
                                  .setPushPreview(PushPreview.PUSH_PREVIEW_FULL))));
      assertThat(updated.hasConversation()).as(updated.toString()).isTrue();
      ServerFrame invalid =
          alice.call(
              f ->
                  f.setUpdateConversation(
                      UpdateConversation.newBuilder()
                          .setConversationId(plain)
                          .setMetadata(ConversationMetadata.newBuilder().setPushPreviewValue(99))));
      assertThat(invalid.getError().getCode()).isEqualTo(ErrorCode.BAD_REQUEST);
    }

    admin.send(previewed, "alice", "dinner at eight");
    admin.send(plain, "alice", "not shown");
    admin.call(
        "POST",
        "/v1/admin/conversations/" + previewed + "/messages",
        "{\"as_user\":\"alice\",\"client_msg_id\":\"e2ee-1\",\"content_type\":\"application/x-parley-e2ee\",\"body_base64\":\"c2VjcmV0\"}");

    await()
        .atMost(WAIT)
        .until(() -> metric("parley_notify_jobs_total", "kind=\"push_fanout\"") >= 3);
    await().atMost(WAIT).until(() -> pushesFinished() >= metric("parley_notify_pushes_prepared_total", ""));
    assertThat(gateway.accepted())
        .extracting(
            r ->
                r.body().path("data").path("conversation_id").asText().equals(previewed)
                    + ":"
                    + r.body().path("notification").path("body").asText())
        .containsExactlyInAnyOrder("true:dinner at eight", "false:New message", "true:New message");
  }

  private static void register(AdminCalls admin, String user, String token) {
    admin.call(
        "POST",
        "/v1/admin/users/" + user + "/push-targets",
        "{\"device_id\":\"" + user + "-phone\",\"provider\":\"webhook\",\"token\":\"" + token + "\"}");
  }

  private static void awaitMessage(WsTestClient client, String conversationId, long seq)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      for (Event e : client.awaitEvents(1, Duration.ofSeconds(1), null)) {
        if (e.getConversationId().equals(conversationId) && e.getSeq() == seq) {
          return;
        }
      }
    }
    throw new AssertionError("no live event " + conversationId + "#" + seq);
  }

  /** Push jobs that reached a final result. */
  private double pushesFinished() throws Exception {
    double total = 0;
    for (String result : List.of("delivered", "invalid_token", "target_removed", "dead_lettered")) {
      total += metric("parley_notify_jobs_total", "kind=\"push\",result=\"" + result + "\"");
    }
    return total;
  }

  /** Sum of the samples of a metric whose labels contain {@code labels}. */
  private double metric(String name, String labels) throws Exception {
    String text =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    double sum = 0;
    Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(text);
    while (m.find()) {
      String l = m.group(1) == null ? "" : m.group(1);
      if (l.contains(labels)) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
  }
}
