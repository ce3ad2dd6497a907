package io.parley.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.testing.ForkedServer;
import io.parley.server.testing.WsTestClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM drains: clients are told to go away, in-flight sends finish, the process exits cleanly,
 * and after a restart every acknowledged message is in the log exactly once.
 */
class GracefulDrainIT {
  @TempDir Path dataDir;

  @Test
  void sigtermTellsClientsToReconnectAndLosesNoAcknowledgedMessage() throws Exception {
    Map<String, Long> acked = new ConcurrentHashMap<>();
    String convId;
    List<WsTestClient> clients = new ArrayList<>();
    ForkedServer server = ForkedServer.start(dataDir);
    try {
      List<String> users = List.of("drain-a", "drain-b", "drain-c");
      for (String u : users) {
        clients.add(server.client(u, "phone"));
      }
      convId =
          clients
              .get(0)
              .call(f -> f.setCreateGroup(CreateGroup.newBuilder().addAllMemberIds(users.subList(1, 3))))
              .getConversation()
              .getConversation()
              .getId();
      List<CompletableFuture<ServerFrame>> inFlight = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        String id = "drain-" + i;
        WsTestClient c = clients.get(i % clients.size());
        CompletableFuture<ServerFrame> f = c.send(b -> b.setSendMessage(message(convId, id)));
        f.thenAccept(
            r -> {
              if (r.hasSendResult()) {
                acked.put(id, r.getSendResult().getSeq());
              }
            });
        inFlight.add(f);
        if (i == 99) {
          // Let the first hundred be acknowledged, so the drain has acknowledged work to keep.
          CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        if (i == 150) {
          server.sigterm();
        }
      }
      int exit = server.terminate(Duration.ofSeconds(30));
      // The JVM reports 143 (128 + SIGTERM) even after its shutdown hooks completed normally.
      assertThat(exit).as("exit status after SIGTERM").isIn(0, 143);
      assertThat(server.output()).contains("Parley stopped");
      for (CompletableFuture<ServerFrame> f : inFlight) {
        try {
          f.get(5, TimeUnit.SECONDS);
        } catch (Exception unanswered) {
          // connection closed before the answer: unacknowledged, may or may not be stored
        }
      }
      for (WsTestClient c : clients) {
        assertThat(c.closed().get(10, TimeUnit.SECONDS)).isEqualTo(1001);
      }
      boolean sawGoAway =
          clients.stream().anyMatch(c -> c.drainPushes().stream().anyMatch(ServerFrame::hasGoAway));
      assertThat(sawGoAway).as("clients were told to reconnect").isTrue();
    } finally {
      clients.forEach(WsTestClient::abort);
      server.close();
    }
    assertThat(acked).isNotEmpty();

    ForkedServer again = ForkedServer.start(dataDir);
    try (WsTestClient c = again.client("drain-a", "laptop")) {
      List<Event> log = CrashRecoveryIT.readWholeLog(c, convId);
      CrashRecoveryIT.assertGaplessFromOne(log);
      Map<String, Long> inLog = new ConcurrentHashMap<>();
      for (Event e : log) {
        if (e.hasMessagePosted()) {
          assertThat(inLog.put(e.getMessagePosted().getClientMsgId(), e.getSeq())).isNull();
        }
      }
      assertThat(inLog).containsAllEntriesOf(acked);
    } finally {
      again.close();
    }
  }

  private static SendMessage message(String convId, String clientMsgId) {
    return SendMessage.newBuilder()
        .setConversationId(convId)
        .setClientMsgId(clientMsgId)
        .setContentType("text/plain")
        .setBody(ByteString.copyFromUtf8("draining " + clientMsgId))
        .build();
  }
}
