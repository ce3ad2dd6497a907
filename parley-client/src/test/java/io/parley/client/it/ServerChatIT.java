package io.parley.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.client.ConnectionState;
import io.parley.client.ParleyClient;
import io.parley.client.TokenProvider;
import io.parley.client.testing.ChatScenarios;
import io.parley.client.testing.RecordingListener;
import io.parley.client.testing.TcpProxy;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.ReceiptVisibility;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shared chat scenarios against the real server (in-process, production composition root,
 * RocksDB with fsync), plus what only the real server can show: a server restart, token refresh
 * against real JWT expiry, groups, channels and typed errors.
 */
class ServerChatIT extends ChatScenarios {
  private static InProcessParleyServer server;

  @BeforeAll
  static void startServer() {
    server = new InProcessParleyServer(Map.of());
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @Override
  protected URI serverUri() {
    return server.uri();
  }

  @Override
  protected String tokenFor(String userId) {
    return server.token(userId, Duration.ofHours(1));
  }

  @Test
  void aServerRestartIsTransparentToConnectedClients() {
    String alice = user("alice");
    String bob = user("bob");
    RecordingListener bobEvents = new RecordingListener();
    ParleyClient a = connected(alice, new RecordingListener());
    ParleyClient b = connected(bob, bobEvents);
    String conv = done(a.openDirect(bob)).getConversation().getId();
    done(a.send(conv, "text/plain", text("before restart")));

    server.stop();
    await().atMost(WAIT).until(() -> b.state() == ConnectionState.RECONNECTING);
    CompletableFuture<?> whileDown = a.send(conv, "text/plain", text("while down"));
    server.start();
    for (TcpProxy p : proxies()) {
      p.retarget("127.0.0.1", server.uri().getPort());
    }
    done(whileDown);
    done(a.send(conv, "text/plain", text("after restart")));

    await().atMost(WAIT).until(() -> bobEvents.messages(conv).size() >= 3);
    assertThat(bobEvents.messages(conv))
        .containsExactly("before restart", "while down", "after restart");
  }

  @Test
  void shortLivedTokensAreRefreshedWithoutReconnecting() {
    String alice = user("alice");
    List<TokenProvider.Reason> reasons = new CopyOnWriteArrayList<>();
    RecordingListener events = new RecordingListener();
    ParleyClient a =
        start(
            clientBuilder(alice, events)
                .tokenProvider(
                    reason -> {
                      reasons.add(reason);
                      return CompletableFuture.completedFuture(
                          server.token(alice, Duration.ofSeconds(3)));
                    }));
    done(a.connect());

    await()
        .atMost(WAIT)
        .until(() -> reasons.stream().filter(r -> r == TokenProvider.Reason.REFRESH).count() >= 3);

    assertThat(events.states).doesNotContain(ConnectionState.RECONNECTING);
    assertThat(done(a.getProfile(alice)).getUserId()).isEqualTo(alice);
  }

  @Test
  void groupsChannelsHistoryAndUnreadCounts() {
    String alice = user("alice");
    String bob = user("bob");
    RecordingListener bobEvents = new RecordingListener();
    ParleyClient a = connected(alice, new RecordingListener());
    ParleyClient b = connected(bob, bobEvents);

    Conversation group =
        done(
            a.createGroup(
                ConversationMetadata.newBuilder().setTitle("team").build(),
                List.of(bob),
                ReceiptVisibility.RECEIPT_VISIBILITY_MEMBERS));
    for (int i = 1; i <= 3; i++) {
      done(a.send(group.getId(), "text/plain", text("g" + i)));
    }
    await().atMost(WAIT).until(() -> bobEvents.messages(group.getId()).size() == 3);
    assertThat(done(b.unreadCount(group.getId()))).isEqualTo(3);
    long last = bobEvents.seqs(group.getId()).get(bobEvents.seqs(group.getId()).size() - 1);
    done(b.markRead(group.getId(), last));
    assertThat(done(b.unreadCount(group.getId()))).isZero();

    HistoryPage page = done(b.history(group.getId(), 0, Direction.DIRECTION_BACKWARD, 2));
    assertThat(page.getEventsList())
        .extracting(e -> e.getMessagePosted().getBody().toStringUtf8())
        .containsExactly("g3", "g2");

    Conversation channel =
        done(a.createChannel(ConversationMetadata.newBuilder().setTitle("news").build(), true));
    done(b.joinChannel(channel.getId()));
    done(a.send(channel.getId(), "text/plain", text("c1")));
    await().atMost(WAIT).until(() -> bobEvents.messages(channel.getId()).size() == 1);

    proxy(bob).refuse(true);
    await().atMost(WAIT).until(() -> b.state() == ConnectionState.RECONNECTING);
    done(a.send(channel.getId(), "text/plain", text("c2")));
    done(a.send(channel.getId(), "text/plain", text("c3")));
    proxy(bob).refuse(false);

    await().atMost(WAIT).until(() -> bobEvents.messages(channel.getId()).size() >= 3);
    assertThat(bobEvents.messages(channel.getId())).containsExactly("c1", "c2", "c3");
  }

  @Test
  void serverErrorsArriveTyped() {
    String alice = user("alice");
    ParleyClient a = connected(alice, new RecordingListener());

    assertThat(failure(a.getConversation("grp_does_not_exist")).code())
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(failure(a.send("grp_does_not_exist", "text/plain", text("x"))).code())
        .isEqualTo(ErrorCode.NOT_FOUND);
  }
}
