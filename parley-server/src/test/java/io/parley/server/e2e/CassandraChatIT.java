package io.parley.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.Sync;
import io.parley.server.testing.CassandraExtension;
import io.parley.server.testing.CassandraTestCluster;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The real server with {@code storage.engine = cassandra} on a forked Cassandra node: a short chat
 * (send, receive, history), a device that syncs what it missed while offline, and a restart that
 * keeps the history.
 */
@ExtendWith(CassandraExtension.class)
class CassandraChatIT {
  private static String unique(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static WsTestClient login(TestServer server, String user, String device) {
    return WsTestClient.authenticated(server.port(), server.token(user), device);
  }

  private static List<String> historyTexts(WsTestClient c, String convId) {
    ServerFrame history =
        c.call(
            f ->
                f.setGetHistory(
                    GetHistory.newBuilder()
                        .setConversationId(convId)
                        .setDirection(Direction.DIRECTION_FORWARD)
                        .setLimit(100)));
    assertThat(history.hasHistory()).as("%s", history).isTrue();
    return history.getHistory().getEventsList().stream()
        .filter(Event::hasMessagePosted)
        .map(ChatScenariosIT::text)
        .toList();
  }

  @Test
  void chatSyncAndRestartOnCassandra(CassandraTestCluster cassandra) throws Exception {
    String alice = unique("alice");
    String bob = unique("bob");
    try (TestServer server = TestServer.start(cassandra.serverEnv("e2e_chat"))) {
      String convId;
      List<String> groups = new java.util.ArrayList<>();
      String bobCursor;
      try (WsTestClient a = login(server, alice, "phone");
          WsTestClient b = login(server, bob, "laptop")) {
        ServerFrame opened = a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)));
        assertThat(opened.hasConversation()).as("%s", opened).isTrue();
        convId = opened.getConversation().getConversation().getId();

        ServerFrame ack = ChatScenariosIT.sendText(a, convId, "hello bob");
        assertThat(ack.hasSendResult()).as("%s", ack).isTrue();
        assertThat(awaitMessageTexts(b, 1)).containsExactly("hello bob");
        assertThat(historyTexts(b, convId)).containsExactly("hello bob");
        // Enough conversations that they fall into different shards of Bob's change feed.
        for (int g = 0; g < 6; g++) {
          ServerFrame group =
              a.call(f -> f.setCreateGroup(CreateGroup.newBuilder().addMemberIds(bob)));
          assertThat(group.hasConversation()).as("%s", group).isTrue();
          groups.add(group.getConversation().getConversation().getId());
        }
        bobCursor = currentCursor(b);
      }

      // Bob is offline while Alice writes; on reconnect he syncs exactly what he missed.
      try (WsTestClient a = login(server, alice, "phone")) {
        for (int i = 0; i < 12; i++) {
          assertThat(ChatScenariosIT.sendText(a, convId, "offline " + i).hasSendResult()).isTrue();
          String group = groups.get(i % groups.size());
          assertThat(ChatScenariosIT.sendText(a, group, "group " + i).hasSendResult()).isTrue();
        }
      }
      try (WsTestClient b = login(server, bob, "laptop")) {
        String c0 = bobCursor;
        Map<String, List<Event>> missedByConversation =
            ChatScenariosIT.drainSync(
                    b, b.call(f -> f.setSync(Sync.newBuilder().setCursor(c0).setLimit(5))))
                .eventsByConversation();
        List<Event> missed = missedByConversation.get(convId);
        assertThat(missed).isNotNull();
        assertThat(missed).filteredOn(Event::hasMessagePosted).extracting(ChatScenariosIT::text)
            .containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 12).mapToObj(i -> "offline " + i).toList());
        ChatScenariosIT.assertGapless(missed);
        // The group messages come from the feeds of several shards, each exactly once, in order.
        for (int g = 0; g < groups.size(); g++) {
          List<Event> groupEvents = missedByConversation.get(groups.get(g));
          assertThat(groupEvents).as("group %s", g).isNotNull();
          List<String> expected = new java.util.ArrayList<>();
          for (int i = g; i < 12; i += groups.size()) {
            expected.add("group " + i);
          }
          assertThat(groupEvents).filteredOn(Event::hasMessagePosted)
              .extracting(ChatScenariosIT::text)
              .containsExactlyElementsOf(expected);
          ChatScenariosIT.assertGapless(groupEvents);
        }
        assertThat(missedByConversation).hasSize(1 + groups.size());
        String c1 = currentCursor(b, c0);
        assertThat(
                b.call(f -> f.setSync(Sync.newBuilder().setCursor(c1))).getSyncResult()
                    .getDeltasList())
            .isEmpty();
      }

      // A restart keeps everything: the data lives in Cassandra, not in the server.
      server.restart();
      try (WsTestClient b = login(server, bob, "laptop")) {
        List<String> texts = historyTexts(b, convId);
        assertThat(texts).hasSize(13).startsWith("hello bob").endsWith("offline 11");
        ServerFrame next = ChatScenariosIT.sendText(b, convId, "after restart");
        assertThat(next.hasSendResult()).as("%s", next).isTrue();
        assertThat(historyTexts(b, convId)).hasSize(14).endsWith("after restart");
      }
    }
  }

  /** Waits (at most 15 s) for {@code n} live MessagePosted events, skipping other events. */
  private static List<String> awaitMessageTexts(WsTestClient c, int n) throws InterruptedException {
    List<String> texts = new java.util.ArrayList<>();
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(15).toNanos();
    while (texts.size() < n && System.nanoTime() < deadline) {
      for (Event e : c.awaitEvents(1, java.time.Duration.ofMillis(200), null)) {
        if (e.hasMessagePosted()) {
          texts.add(ChatScenariosIT.text(e));
        }
      }
    }
    return texts;
  }

  /** The cursor after a complete sync: everything up to now has been seen. */
  private static String currentCursor(WsTestClient b) {
    return currentCursor(b, "");
  }

  private static String currentCursor(WsTestClient b, String from) {
    return ChatScenariosIT.drainSync(b, b.call(f -> f.setSync(Sync.newBuilder().setCursor(from))))
        .cursor();
  }
}
