package io.parley.server.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The before-send moderation hook end to end: a real server asks a local HTTP hook about every
 * message sent over the WebSocket protocol; allow, reject (typed error, log unchanged), rewrite
 * (the rewritten content is stored and delivered), a hook slower than the timeout under both
 * policies, and a hook outage that opens the {@code before_send} breaker and its recovery.
 */
class BeforeSendHookIT {
  private static final String SECRET = "before-send-secret-for-tests";
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  private TestServer server;
  private Hook hook;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (hook != null) {
      hook.close();
    }
  }

  @Test
  void hookAllowsRejectsAndRewritesAndIsNotAskedAgainForAResend() throws Exception {
    hook = new Hook();
    hook.answer(
        req -> {
          String text = text(req);
          if (text.contains("spam")) {
            return "{\"action\":\"reject\",\"reason\":\"no spam here\"}";
          }
          if (text.contains("darn")) {
            return "{\"action\":\"rewrite\",\"content_type\":\"text/markdown\",\"body\":\""
                + b64(text.replace("darn", "****"))
                + "\"}";
          }
          return "{\"action\":\"allow\"}";
        });
    server = start(Map.of("PARLEY_NOTIFY_BEFORE_SEND_POLICY", "fail_closed"));
    AdminCalls admin = new AdminCalls(server);
    admin.createUser("alice");
    admin.createUser("bob");
    String chat = admin.createGroup("alice", "bob");

    try (WsTestClient alice = WsTestClient.authenticated(server.port(), server.token("alice"), "a1");
        WsTestClient bob = WsTestClient.authenticated(server.port(), server.token("bob"), "b1")) {
      ServerFrame hello = send(alice, chat, "m1", "text/plain", "hello");
      assertThat(hello.hasSendResult()).as(hello.toString()).isTrue();
      assertThat(hook.requests()).hasSize(1);
      JsonNode asked = hook.requests().get(0).body();
      assertThat(hook.requests().get(0).signatureValid()).isTrue();
      assertThat(asked.path("kind").asText()).isEqualTo("send");
      assertThat(asked.path("conversation_id").asText()).isEqualTo(chat);
      assertThat(asked.path("sender_user_id").asText()).isEqualTo("alice");
      assertThat(asked.path("sender_device_id").asText()).isEqualTo("a1");
      assertThat(asked.path("client_msg_id").asText()).isEqualTo("m1");
      assertThat(asked.path("content_type").asText()).isEqualTo("text/plain");
      assertThat(text(asked)).isEqualTo("hello");
      long lastSeq = hello.getSendResult().getSeq();

      // Reject: a typed error with the hook's reason, and nothing in the log.
      ServerFrame spam = send(alice, chat, "m2", "text/plain", "buy spam");
      assertThat(spam.getError().getCode()).isEqualTo(ErrorCode.FORBIDDEN);
      assertThat(spam.getError().getMessage()).contains("no spam here");
      assertThat(newestSeq(alice, chat)).isEqualTo(lastSeq);

      // Rewrite: the rewritten content is stored and is what recipients see.
      ServerFrame darn = send(alice, chat, "m3", "text/plain", "darn it");
      long rewrittenSeq = darn.getSendResult().getSeq();
      Event seen = awaitEvent(bob, chat, rewrittenSeq);
      assertThat(seen.getMessagePosted().getBody().toStringUtf8()).isEqualTo("**** it");
      assertThat(seen.getMessagePosted().getContentType()).isEqualTo("text/markdown");
      Event stored = history(alice, chat).get(0);
      assertThat(stored.getSeq()).isEqualTo(rewrittenSeq);
      assertThat(stored.getMessagePosted().getBody().toStringUtf8()).isEqualTo("**** it");

      // Resends of stored messages are answered from the log without asking the hook, also
      // for a rewritten message whose stored content differs from what the client resends.
      int asks = hook.requests().size();
      ServerFrame again = send(alice, chat, "m1", "text/plain", "hello");
      assertThat(again.getSendResult().getDuplicate()).isTrue();
      assertThat(again.getSendResult().getSeq()).isEqualTo(lastSeq);
      ServerFrame darnAgain = send(alice, chat, "m3", "text/plain", "darn it");
      assertThat(darnAgain.getSendResult().getDuplicate()).isTrue();
      assertThat(darnAgain.getSendResult().getSeq()).isEqualTo(rewrittenSeq);
      assertThat(hook.requests()).hasSize(asks);

      // Edits are checked too.
      ServerFrame edit =
          alice.call(
              f ->
                  f.setEditMessage(
                      EditMessage.newBuilder()
                          .setConversationId(chat)
                          .setTargetSeq(lastSeq)
                          .setContentType("text/plain")
                          .setBody(ByteString.copyFromUtf8("now with spam"))));
      assertThat(edit.getError().getCode()).isEqualTo(ErrorCode.FORBIDDEN);
      assertThat(hook.requests().get(hook.requests().size() - 1).body().path("kind").asText())
          .isEqualTo("edit");
      assertThat(newestSeq(alice, chat)).isEqualTo(rewrittenSeq);
    }
    assertThat(admin.metric("parley_notify_before_send_total", "result=\"reject\"")).isEqualTo(2);
    assertThat(admin.metric("parley_notify_before_send_total", "result=\"rewrite\"")).isEqualTo(1);
  }

  @Test
  void aHookSlowerThanTheTimeoutFailsOpenWhenSoConfigured() throws Exception {
    hook = new Hook();
    hook.delayMs = 3000;
    hook.answer(req -> "{\"action\":\"reject\",\"reason\":\"too late to matter\"}");
    server =
        start(
            Map.of(
                "PARLEY_NOTIFY_BEFORE_SEND_TIMEOUT", "200ms",
                "PARLEY_NOTIFY_BEFORE_SEND_POLICY", "fail_open"));
    AdminCalls admin = new AdminCalls(server);
    admin.createUser("alice");
    String chat = admin.createGroup("alice");
    try (WsTestClient alice = WsTestClient.authenticated(server.port(), server.token("alice"), "a1")) {
      ServerFrame r = send(alice, chat, "slow-1", "text/plain", "hello");
      assertThat(r.hasSendResult()).as(r.toString()).isTrue();
      assertThat(history(alice, chat).get(0).getMessagePosted().getBody().toStringUtf8())
          .isEqualTo("hello");
    }
    assertThat(admin.metric("parley_notify_before_send_total", "result=\"fail_open\"")).isEqualTo(1);
  }

  @Test
  void aHookSlowerThanTheTimeoutRefusesWithUnavailableWhenFailClosed() throws Exception {
    hook = new Hook();
    hook.delayMs = 3000;
    hook.answer(req -> "{\"action\":\"allow\"}");
    server =
        start(
            Map.of(
                "PARLEY_NOTIFY_BEFORE_SEND_TIMEOUT", "200ms",
                "PARLEY_NOTIFY_BEFORE_SEND_POLICY", "fail_closed"));
    AdminCalls admin = new AdminCalls(server);
    admin.createUser("alice");
    String chat = admin.createGroup("alice");
    try (WsTestClient alice = WsTestClient.authenticated(server.port(), server.token("alice"), "a1")) {
      long before = newestSeq(alice, chat);
      ServerFrame r = send(alice, chat, "slow-1", "text/plain", "hello");
      assertThat(r.getError().getCode()).isEqualTo(ErrorCode.UNAVAILABLE);
      assertThat(r.getError().getRetryAfterMs()).isPositive();
      assertThat(newestSeq(alice, chat)).isEqualTo(before);
    }
    assertThat(admin.metric("parley_notify_before_send_total", "result=\"fail_closed\"")).isEqualTo(1);
  }

  @Test
  void aHookThatIsDownOpensTheBreakerAndIsAskedAgainAfterItRecovers() throws Exception {
    hook = new Hook();
    hook.status = 503;
    hook.answer(req -> "{\"action\":\"reject\",\"reason\":\"recovered and strict\"}");
    server =
        start(
            Map.of(
                "PARLEY_NOTIFY_BEFORE_SEND_POLICY", "fail_open",
                "PARLEY_NOTIFY_BREAKER_OPEN_DURATION", "1s"));
    AdminCalls admin = new AdminCalls(server);
    admin.createUser("alice");
    String chat = admin.createGroup("alice");
    try (WsTestClient alice = WsTestClient.authenticated(server.port(), server.token("alice"), "a1")) {
      for (int i = 0; i < 8; i++) {
        ServerFrame r = send(alice, chat, "down-" + i, "text/plain", "hello " + i);
        assertThat(r.hasSendResult()).as(r.toString()).isTrue();
      }
      // Five failed calls (the breaker's minimum) open it; later messages do not call the hook.
      assertThat(hook.requests()).hasSize(5);
      assertThat(breakerState(admin, "open")).isEqualTo(1);
      assertThat(admin.metric("parley_notify_before_send_total", "result=\"fail_open\"")).isEqualTo(8);

      hook.status = 200;
      await()
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  send(alice, chat, "probe-" + System.nanoTime(), "text/plain", "probe")
                      .hasError());
      ServerFrame rejected = send(alice, chat, "after", "text/plain", "hello");
      assertThat(rejected.getError().getCode()).isEqualTo(ErrorCode.FORBIDDEN);
      assertThat(rejected.getError().getMessage()).contains("recovered and strict");
      assertThat(breakerState(admin, "closed")).isEqualTo(1);
    }
  }

  private TestServer start(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(extra);
    env.put("PARLEY_NOTIFY_BEFORE_SEND_URL", hook.url());
    env.put("PARLEY_NOTIFY_BEFORE_SEND_SECRET", SECRET);
    env.putIfAbsent("PARLEY_NOTIFY_BEFORE_SEND_TIMEOUT", "2s");
    return TestServer.start(env);
  }

  private static double breakerState(AdminCalls admin, String state) {
    return admin.metric(
        "resilience4j_circuitbreaker_state", "name=\"before_send\",state=\"" + state + "\"");
  }

  private static ServerFrame send(
      WsTestClient c, String conversation, String cmid, String type, String text) {
    return c.call(
        f ->
            f.setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId(conversation)
                    .setClientMsgId(cmid)
                    .setContentType(type)
                    .setBody(ByteString.copyFromUtf8(text))));
  }

  /** Newest first. */
  private static List<Event> history(WsTestClient c, String conversation) {
    ServerFrame r =
        c.call(
            f ->
                f.setGetHistory(
                    GetHistory.newBuilder()
                        .setConversationId(conversation)
                        .setDirection(Direction.DIRECTION_BACKWARD)
                        .setLimit(50)));
    assertThat(r.hasHistory()).as(r.toString()).isTrue();
    return r.getHistory().getEventsList();
  }

  private static long newestSeq(WsTestClient c, String conversation) {
    return history(c, conversation).get(0).getSeq();
  }

  private static Event awaitEvent(WsTestClient client, String conversationId, long seq)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      for (Event e : client.awaitEvents(1, Duration.ofSeconds(1), null)) {
        if (e.getConversationId().equals(conversationId) && e.getSeq() == seq) {
          return e;
        }
      }
    }
    throw new AssertionError("no live event " + conversationId + "#" + seq);
  }

  private static String text(JsonNode request) {
    return new String(
        Base64.getDecoder().decode(request.path("body").asText()), StandardCharsets.UTF_8);
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A local moderation hook: records requests, checks their signature, answers as told. */
  private static final class Hook implements AutoCloseable {
    record Request(boolean signatureValid, JsonNode body) {}

    private final HttpServer http;
    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    private final List<Request> requests = new ArrayList<>();
    private volatile Function<JsonNode, String> answer = req -> "{\"action\":\"allow\"}";
    volatile int status = 200;
    volatile long delayMs;

    Hook() throws IOException {
      http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      http.createContext("/", this::handle);
      http.setExecutor(executor);
      http.start();
    }

    String url() {
      return "http://127.0.0.1:" + http.getAddress().getPort() + "/moderate";
    }

    void answer(Function<JsonNode, String> answer) {
      this.answer = answer;
    }

    synchronized List<Request> requests() {
      return List.copyOf(requests);
    }

    private void handle(HttpExchange ex) throws IOException {
      byte[] body;
      try (InputStream in = ex.getRequestBody()) {
        body = in.readAllBytes();
      }
      String ts = ex.getRequestHeaders().getFirst(WebhookSignature.TIMESTAMP_HEADER);
      boolean valid =
          "POST".equals(ex.getRequestMethod())
              && ts != null
              && WebhookSignature.verify(
                  SECRET,
                  Long.parseLong(ts),
                  body,
                  ex.getRequestHeaders().getFirst(WebhookSignature.SIGNATURE_HEADER));
      JsonNode json = JSON.readTree(body);
      synchronized (this) {
        requests.add(new Request(valid, json));
      }
      if (delayMs > 0) {
        try {
          Thread.sleep(delayMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      int s = valid ? status : 401;
      byte[] out = s == 200 ? answer.apply(json).getBytes(StandardCharsets.UTF_8) : new byte[0];
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(s, out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        ex.getResponseBody().write(out);
      }
      ex.close();
    }

    @Override
    public void close() {
      http.stop(0);
      executor.shutdownNow();
    }
  }
}
