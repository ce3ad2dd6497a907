package io.parley.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendTyping;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SetPresence;
import io.parley.protocol.v1.SubscribePresence;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every rate limit over a real in-process server: the request beyond the bucket is answered with
 * {@code RATE_LIMITED} and a {@code retry_after_ms} from the bucket, the connection stays usable,
 * and the admin API answers 429 with {@code Retry-After}. The periods are long (1 minute), so no
 * bucket refills during a test and nothing here depends on timing.
 */
class RateLimitsIT {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server =
        TestServer.start(
            Map.ofEntries(
                Map.entry("PARLEY_RATE_LIMITS_SEND_PER_USER", "5/1m"),
                Map.entry("PARLEY_RATE_LIMITS_SEND_PER_IP", "off"),
                Map.entry("PARLEY_RATE_LIMITS_TYPING_PER_USER", "3/1m"),
                Map.entry("PARLEY_RATE_LIMITS_TYPING_PER_IP", "5/1m"),
                Map.entry("PARLEY_RATE_LIMITS_PRESENCE_PER_USER", "2/1m"),
                Map.entry("PARLEY_RATE_LIMITS_PRESENCE_PER_IP", "off"),
                Map.entry("PARLEY_RATE_LIMITS_JOIN_PER_USER", "3/1m"),
                Map.entry("PARLEY_RATE_LIMITS_JOIN_PER_IP", "off"),
                Map.entry("PARLEY_RATE_LIMITS_ADMIN_PER_KEY", "3/1m"),
                Map.entry("PARLEY_RATE_LIMITS_ADMIN_PER_IP", "off")));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String unique(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static WsTestClient login(String user) {
    return WsTestClient.authenticated(server.port(), server.token(user), "phone");
  }

  private static ServerFrame send(WsTestClient c, String conversationId) {
    return c.call(
        b ->
            b.setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId(conversationId)
                    .setClientMsgId(UUID.randomUUID().toString())
                    .setContentType("text/plain")
                    .setBody(ByteString.copyFromUtf8("hi"))));
  }

  private static void assertRateLimited(ServerFrame f, long periodMs) {
    assertThat(f.hasError()).as("%s", f).isTrue();
    assertThat(f.getError().getCode()).isEqualTo(ErrorCode.RATE_LIMITED);
    assertThat(f.getError().getRetryAfterMs()).isBetween(1L, periodMs);
  }

  @Test
  void sendsBeyondTheUsersBucketAreRateLimitedAndNotStored() {
    String alice = unique("alice");
    try (WsTestClient a = login(alice)) {
      String group =
          a.call(f -> f.setCreateGroup(CreateGroup.getDefaultInstance()))
              .getConversation()
              .getConversation()
              .getId();
      for (int i = 0; i < 5; i++) {
        assertThat(send(a, group).hasSendResult()).as("send %d", i).isTrue();
      }
      ServerFrame refused = send(a, group);
      assertRateLimited(refused, 60_000);
      // 5 per minute: the next token is about 12 s away.
      assertThat(refused.getError().getRetryAfterMs()).isBetween(1L, 12_000L);
      assertThat(refused.getError().getMessage()).contains("send");
      // Nothing was stored for the refused send, and reads are not rate-limited.
      ServerFrame history =
          a.call(
              f ->
                  f.setGetHistory(
                      io.parley.protocol.v1.GetHistory.newBuilder()
                          .setConversationId(group)
                          .setLimit(100)));
      assertThat(history.getHistory().getEventsList().stream().filter(e -> e.hasMessagePosted()))
          .hasSize(5);
      // Another user's bucket is untouched.
      try (WsTestClient b = login(unique("bob"))) {
        String other =
            b.call(f -> f.setCreateGroup(CreateGroup.getDefaultInstance()))
                .getConversation()
                .getConversation()
                .getId();
        assertThat(send(b, other).hasSendResult()).isTrue();
      }
    }
  }

  @Test
  void typingIsLimitedPerUserAndPerAddress() {
    try (WsTestClient a = login(unique("alice"));
        WsTestClient b = login(unique("bob"))) {
      String group =
          a.call(f -> f.setCreateGroup(CreateGroup.getDefaultInstance()))
              .getConversation()
              .getConversation()
              .getId();
      for (int i = 0; i < 3; i++) {
        assertThat(typing(a, group).hasAck()).isTrue();
      }
      ServerFrame userRefusal = typing(a, group);
      assertRateLimited(userRefusal, 60_000);
      assertThat(userRefusal.getError().getMessage()).contains("typing").doesNotContain("address");
      // Both clients come from 127.0.0.1, whose bucket (5) has 2 tokens left: alice's refused
      // request did not use one.
      String bobGroup =
          b.call(f -> f.setCreateGroup(CreateGroup.getDefaultInstance()))
              .getConversation()
              .getConversation()
              .getId();
      assertThat(typing(b, bobGroup).hasAck()).isTrue();
      assertThat(typing(b, bobGroup).hasAck()).isTrue();
      ServerFrame addressRefusal = typing(b, bobGroup);
      assertRateLimited(addressRefusal, 60_000);
      assertThat(addressRefusal.getError().getMessage()).contains("network address");
    }
  }

  private static ServerFrame typing(WsTestClient c, String group) {
    return c.call(f -> f.setSendTyping(SendTyping.newBuilder().setConversationId(group).setTyping(true)));
  }

  @Test
  void presenceUpdatesAndSubscriptionsShareTheUsersPresenceBucket() {
    try (WsTestClient a = login(unique("alice"))) {
      assertThat(
              a.call(f -> f.setSetPresence(SetPresence.newBuilder().setStatus(PresenceStatus.PRESENCE_STATUS_AWAY)))
                  .hasAck())
          .isTrue();
      assertThat(a.call(f -> f.setSubscribePresence(SubscribePresence.newBuilder().addUserIds("x"))).hasAck())
          .isTrue();
      assertRateLimited(
          a.call(f -> f.setSetPresence(SetPresence.newBuilder().setStatus(PresenceStatus.PRESENCE_STATUS_ONLINE))),
          60_000);
    }
  }

  @Test
  void conversationCreationAndJoinsShareTheUsersJoinBucket() {
    try (WsTestClient a = login(unique("alice"))) {
      assertThat(a.call(f -> f.setCreateGroup(CreateGroup.getDefaultInstance())).hasConversation()).isTrue();
      assertThat(a.call(f -> f.setCreateChannel(CreateChannel.getDefaultInstance())).hasConversation()).isTrue();
      assertThat(a.call(f -> f.setCreateGroup(CreateGroup.getDefaultInstance())).hasConversation()).isTrue();
      ServerFrame refused = a.call(f -> f.setCreateChannel(CreateChannel.getDefaultInstance()));
      assertRateLimited(refused, 60_000);
      // The connection is still fine for everything else.
      assertThat(a.call(f -> f.setListConversations(io.parley.protocol.v1.ListConversations.getDefaultInstance()))
              .getConversationList()
              .getConversationsList())
          .hasSize(3);
    }
  }

  @Test
  void adminCallsBeyondTheKeysBucketGet429WithRetryAfterAndTheErrorBody() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest list =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/admin/users?limit=1"))
            .header("Authorization", "Bearer " + TestServer.adminKey())
            .build();
    for (int i = 0; i < 3; i++) {
      assertThat(http.send(list, HttpResponse.BodyHandlers.ofString()).statusCode()).as("call %d", i).isEqualTo(200);
    }
    HttpResponse<String> refused = http.send(list, HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(429);
    long retryAfterSeconds = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfterSeconds).isBetween(1L, 60L);
    JsonNode body = new ObjectMapper().readTree(refused.body());
    assertThat(body.get("code").asText()).isEqualTo("RATE_LIMITED");
    assertThat(body.get("retry_after_ms").asLong()).isBetween(1L, 60_000L);
    assertThat((body.get("retry_after_ms").asLong() + 999) / 1000).isEqualTo(retryAfterSeconds);

    // A wrong key is still told it is wrong (only the address bucket applies before the key).
    HttpResponse<String> wrongKey =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/admin/users"))
                .header("Authorization", "Bearer " + "x".repeat(40))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(wrongKey.statusCode()).isEqualTo(401);

    HttpResponse<String> metrics =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body()).contains("parley_rate_limited_total{action=\"admin\",scope=\"user\"} 1.0");
  }
}
