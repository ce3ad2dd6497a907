package io.parley.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.testing.ForkedServer;
import io.parley.server.testing.WsTestClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the server as a separate process, kills it with SIGKILL while clients send, restarts it on
 * the same data directory and checks that every acknowledged message is there exactly once, in
 * order, with gapless seqs, and that retries of unacknowledged sends are deduplicated.
 */
class CrashRecoveryIT {
  private static final int SENDERS = 4;

  @TempDir Path dataDir;

  @Test
  void everyAcknowledgedMessageSurvivesSigkillExactlyOnceAndInOrder() throws Exception {
    long seed = Long.getLong("parley.crash.seed", System.nanoTime());
    int rounds = Integer.getInteger("parley.crash.rounds", 3);
    Random random = new Random(seed);
    System.out.printf("crash test seed=%d rounds=%d%n", seed, rounds);

    List<String> users = new ArrayList<>();
    for (int i = 0; i < SENDERS; i++) {
      users.add("crash-user-" + i);
    }
    // client_msg_id -> acknowledged seq, and client_msg_id -> text for every send attempted.
    Map<String, Long> acked = new ConcurrentHashMap<>();
    Map<String, String> attempted = new ConcurrentHashMap<>();
    String convId;

    ForkedServer server = ForkedServer.start(dataDir);
    try {
      try (WsTestClient owner = server.client(users.get(0), "d0")) {
        ServerFrame created =
            owner.call(
                f -> f.setCreateGroup(CreateGroup.newBuilder().addAllMemberIds(users.subList(1, SENDERS))));
        convId = created.getConversation().getConversation().getId();
      }
      int totalKills = 0;
      for (int round = 0; round < rounds; round++) {
        AtomicBoolean stop = new AtomicBoolean();
        List<CompletableFuture<Void>> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
          int sender = s;
          int r = round;
          ForkedServer current = server;
          senders.add(
              CompletableFuture.runAsync(
                  () -> sendUntilDead(current, users.get(sender), convId, sender, r, stop, acked, attempted)));
        }
        Thread.sleep(300 + random.nextInt(1200));
        server.kill();
        totalKills++;
        stop.set(true);
        CompletableFuture.allOf(senders.toArray(CompletableFuture[]::new)).join();
        server = ForkedServer.start(dataDir);

        // Retry every send that was not acknowledged, with the same client_msg_id.
        try (WsTestClient c = server.client(users.get(0), "retry")) {
          for (Map.Entry<String, String> e : attempted.entrySet()) {
            if (!acked.containsKey(e.getKey())) {
              ServerFrame res = c.call(f -> f.setSendMessage(message(convId, e.getKey(), e.getValue())));
              assertThat(res.hasSendResult()).as("%s", res).isTrue();
              acked.put(e.getKey(), res.getSendResult().getSeq());
            }
          }
          // A retry of an already acknowledged send is deduplicated too.
          for (Map.Entry<String, Long> e : acked.entrySet()) {
            ServerFrame res =
                c.call(f -> f.setSendMessage(message(convId, e.getKey(), attempted.get(e.getKey()))));
            assertThat(res.getSendResult().getSeq()).isEqualTo(e.getValue());
            assertThat(res.getSendResult().getDuplicate()).isTrue();
          }
          List<Event> log = readWholeLog(c, convId);
          assertGaplessFromOne(log);
          Map<String, Long> messagesInLog = new LinkedHashMap<>();
          for (Event ev : log) {
            if (ev.hasMessagePosted()) {
              String id = ev.getMessagePosted().getClientMsgId();
              assertThat(messagesInLog.put(id, ev.getSeq())).as("duplicate %s", id).isNull();
            }
          }
          assertThat(messagesInLog).containsAllEntriesOf(acked);
          assertThat(messagesInLog.keySet()).isEqualTo(acked.keySet());
        }
      }
      System.out.printf(
          "crash test: %d kills, %d messages acknowledged, %d attempted, all present exactly once%n",
          totalKills, acked.size(), attempted.size());
      assertThat(acked).isNotEmpty();
    } finally {
      server.close();
    }
  }

  private static void sendUntilDead(
      ForkedServer server,
      String user,
      String convId,
      int sender,
      int round,
      AtomicBoolean stop,
      Map<String, Long> acked,
      Map<String, String> attempted) {
    try (WsTestClient c = server.client(user, "d" + sender)) {
      for (int i = 0; !stop.get(); i++) {
        String id = "r" + round + "-s" + sender + "-" + i;
        String text = "round " + round + " sender " + sender + " #" + i;
        attempted.put(id, text);
        ServerFrame res;
        try {
          res = c.send(f -> f.setSendMessage(message(convId, id, text))).get();
        } catch (Exception e) {
          return; // the server died under us: this send is unacknowledged
        }
        if (res.hasSendResult()) {
          acked.put(id, res.getSendResult().getSeq());
        }
      }
    } catch (RuntimeException e) {
      // connection failed or was cut by the kill
    }
  }

  private static SendMessage message(String convId, String clientMsgId, String text) {
    return SendMessage.newBuilder()
        .setConversationId(convId)
        .setClientMsgId(clientMsgId)
        .setContentType("text/plain")
        .setBody(ByteString.copyFrom(text, StandardCharsets.UTF_8))
        .build();
  }

  static List<Event> readWholeLog(WsTestClient c, String convId) {
    List<Event> all = new ArrayList<>();
    long from = 0;
    while (true) {
      long f0 = from;
      ServerFrame page =
          c.call(
              f ->
                  f.setGetHistory(
                      GetHistory.newBuilder()
                          .setConversationId(convId)
                          .setFromSeq(f0)
                          .setDirection(Direction.DIRECTION_FORWARD)
                          .setLimit(200)));
      assertThat(page.hasHistory()).as("%s", page).isTrue();
      all.addAll(page.getHistory().getEventsList());
      if (!page.getHistory().getHasMore() || page.getHistory().getEventsCount() == 0) {
        return all;
      }
      from = all.get(all.size() - 1).getSeq();
    }
  }

  static void assertGaplessFromOne(List<Event> log) {
    Map<Long, Integer> seen = new HashMap<>();
    for (int i = 0; i < log.size(); i++) {
      assertThat(log.get(i).getSeq()).as("seq at %d", i).isEqualTo(i + 1L);
      seen.merge(log.get(i).getSeq(), 1, Integer::sum);
    }
    assertThat(seen.values()).allMatch(n -> n == 1);
  }

  static Duration timeout() {
    return Duration.ofSeconds(30);
  }
}
