package io.parley.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.store.rocksdb.EngineTestStores;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A store outage seen from a client: the real server over a real RocksDB store whose commits fail
 * on demand. While the store fails, sends on an open connection are answered with the retryable
 * {@code UNAVAILABLE}, the write breaker opens and {@code /readyz} and {@code /metrics} say so;
 * when the store heals, the node recovers by itself and the same connection sends again.
 */
class StoreOutageIT {
  private static final long OPEN_MS = 1000;
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(TestServer server, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static ServerFrame send(WsTestClient c, String conversationId, String clientMsgId) {
    return c.call(
        f ->
            f.setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId(conversationId)
                    .setClientMsgId(clientMsgId)
                    .setContentType("text/plain")
                    .setBody(ByteString.copyFromUtf8("hello " + clientMsgId))));
  }

  @Test
  void clientGetsUnavailableDuringTheOutageAndSendsAgainAfterRecoveryOnTheSameConnection()
      throws Exception {
    AtomicBoolean failCommits = new AtomicBoolean();
    try (TestServer server =
            TestServer.start(
                Map.of(
                    "PARLEY_STORAGE_BREAKER_WINDOW", "4",
                    "PARLEY_STORAGE_BREAKER_FAILURE_RATE", "50",
                    "PARLEY_STORAGE_BREAKER_OPEN_DURATION", OPEN_MS + "ms"),
                storage -> EngineTestStores.openFailing(storage.dataDir(), failCommits::get));
        WsTestClient bob = WsTestClient.authenticated(server.port(), server.token("bob"), "d1");
        WsTestClient alice =
            WsTestClient.authenticated(server.port(), server.token("alice"), "d1")) {
      ServerFrame opened = alice.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId("bob")));
      String conversation = opened.getConversation().getConversation().getId();
      ServerFrame first = send(alice, conversation, "before");
      assertThat(first.hasSendResult()).as("%s", first).isTrue();
      assertThat(get(server, "/readyz").statusCode()).isEqualTo(200);

      failCommits.set(true);
      ServerFrame refused = null;
      for (int i = 0; i < 50 && !get(server, "/readyz").body().contains("\"store_writes\":\"down\""); i++) {
        refused = send(alice, conversation, "during-" + i);
        assertThat(refused.getError().getCode()).as("%s", refused).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(refused.getError().getRetryAfterMs()).isPositive();
      }
      HttpResponse<String> notReady = get(server, "/readyz");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(notReady.body())
          .contains("\"store_writes\":\"down\"")
          .contains("\"store_reads\":\"up\"")
          .contains("\"status\":\"not_ready\"");
      assertThat(get(server, "/metrics").body())
          .containsPattern(
              "resilience4j_circuitbreaker_state\\{name=\"store-write\",state=\"open\"\\} 1\\.0");

      ServerFrame fast = send(alice, conversation, "while-open");
      assertThat(fast.getError().getCode()).isEqualTo(ErrorCode.UNAVAILABLE);
      assertThat(fast.getError().getRetryAfterMs()).isPositive().isLessThanOrEqualTo(OPEN_MS);
      assertThat(alice.call(f -> f.setPing(Ping.getDefaultInstance())).hasPong())
          .as("the connection stays up")
          .isTrue();
      assertThat(alice.closed()).isNotDone();

      failCommits.set(false);
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> get(server, "/readyz").body().contains("\"store_writes\":\"up\""));
      ServerFrame after = send(alice, conversation, "while-open");
      assertThat(after.hasSendResult()).as("%s", after).isTrue();
      assertThat(after.getSendResult().getSeq()).isEqualTo(first.getSendResult().getSeq() + 1);
      for (int i = 0; i < 3; i++) {
        assertThat(send(alice, conversation, "after-" + i).hasSendResult()).isTrue();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> get(server, "/readyz").statusCode() == 200);
      assertThat(get(server, "/metrics").body())
          .containsPattern(
              "resilience4j_circuitbreaker_state\\{name=\"store-write\",state=\"closed\"\\} 1\\.0");
      assertThat(bob.closed()).isNotDone();
    }
  }
}
