package io.parley.client.fake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.client.ConnectionState;
import io.parley.client.ParleyClient;
import io.parley.client.ParleyClientException;
import io.parley.client.TokenProvider;
import io.parley.client.testing.RecordingListener;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GoAway;
import io.parley.protocol.v1.ResyncRequired;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SessionExpiring;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Protocol situations a real server produces rarely, staged with the fake server's hooks. */
class ParleyClientBehaviourTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static FakeParleyServer server;

  @TempDir Path tmp;
  private final List<ParleyClient> clients = new ArrayList<>();

  @BeforeAll
  static void startServer() throws InterruptedException {
    server = new FakeParleyServer();
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @AfterEach
  void closeClients() {
    for (ParleyClient c : clients) {
      c.closeAsync().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
  }

  private static String user(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static <T> T done(CompletableFuture<T> f) {
    return f.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
  }

  private static ParleyClientException failure(CompletableFuture<?> f) {
    try {
      f.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof ParleyClientException p) {
        return p;
      }
      throw e;
    }
    throw new AssertionError("expected the future to fail");
  }

  /** Records the reasons it was asked for and answers with {@code tokens.apply(reason)}. */
  private static final class Tokens implements TokenProvider {
    final List<Reason> reasons = new CopyOnWriteArrayList<>();
    final Function<Reason, String> tokens;

    Tokens(Function<Reason, String> tokens) {
      this.tokens = tokens;
    }

    @Override
    public CompletableFuture<String> token(Reason reason) {
      reasons.add(reason);
      return CompletableFuture.completedFuture(tokens.apply(reason));
    }
  }

  private ParleyClient.Builder builder(String userId, RecordingListener listener) {
    return builder(listener, new Tokens(r -> "user:" + userId));
  }

  private ParleyClient.Builder builder(RecordingListener listener, TokenProvider tokens) {
    return ParleyClient.builder()
        .uri(server.uri())
        .tokenProvider(tokens)
        .listener(listener)
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
        .requestTimeout(Duration.ofSeconds(10));
  }

  private ParleyClient start(ParleyClient.Builder builder) {
    ParleyClient c = builder.build();
    clients.add(c);
    return c;
  }

  private ParleyClient connected(ParleyClient.Builder builder, RecordingListener listener) {
    ParleyClient c = start(builder);
    done(c.connect());
    await().atMost(WAIT).until(() -> listener.syncs.get() >= 1);
    return c;
  }

  private record Pair(ParleyClient alice, ParleyClient bob, RecordingListener bobEvents, String conv) {}

  private Pair chat() {
    String alice = user("alice");
    String bob = user("bob");
    RecordingListener aliceEvents = new RecordingListener();
    RecordingListener bobEvents = new RecordingListener();
    ParleyClient a = connected(builder(alice, aliceEvents), aliceEvents);
    ParleyClient b = connected(builder(bob, bobEvents), bobEvents);
    String conv = done(a.openDirect(bob)).getConversation().getId();
    await().atMost(WAIT).until(() -> bobEvents.seqs(conv).contains(1L));
    return new Pair(a, b, bobEvents, conv);
  }

  @Test
  void aHoleInLiveDeliveryIsFilledFromHistoryBeforeLaterEventsAreDelivered() {
    Pair p = chat();
    server.dropLiveEvents(p.bob().userId(), 2);

    for (int i = 1; i <= 4; i++) {
      done(p.alice().send(p.conv(), "text/plain", text("m" + i)));
    }

    await().atMost(WAIT).until(() -> p.bobEvents().messages(p.conv()).size() == 4);
    assertThat(p.bobEvents().messages(p.conv())).containsExactly("m1", "m2", "m3", "m4");
    assertThat(p.bobEvents().seqs(p.conv())).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(server.received())
        .anyMatch(
            f ->
                f.hasGetHistory()
                    && f.getGetHistory().getDirection() == Direction.DIRECTION_FORWARD
                    && f.getGetHistory().getFromSeq() == 1
                    && f.getGetHistory().getConversationId().equals(p.conv()));
  }

  @Test
  void resyncRequiredCatchesUpFromTheSyncCursor() {
    Pair p = chat();
    server.dropLiveEvents(p.bob().userId(), 3);
    for (int i = 1; i <= 3; i++) {
      done(p.alice().send(p.conv(), "text/plain", text("m" + i)));
    }
    int syncsBefore = p.bobEvents().syncs.get();

    server.push(
        p.bob().userId(),
        ServerFrame.newBuilder()
            .setResyncRequired(ResyncRequired.newBuilder().setReason("fell behind"))
            .build());

    await().atMost(WAIT).until(() -> p.bobEvents().messages(p.conv()).size() == 3);
    assertThat(p.bobEvents().messages(p.conv())).containsExactly("m1", "m2", "m3");
    assertThat(p.bobEvents().syncs.get()).isGreaterThan(syncsBefore);
  }

  @Test
  void aRateLimitedSendIsRetriedWithTheSameClientMsgId() {
    Pair p = chat();
    server.failSends(2, ErrorCode.RATE_LIMITED, 50);

    SendResult result = done(p.alice().send(p.conv(), "text/plain", text("persistent")));

    String id = server.log(p.conv()).get((int) result.getSeq() - 1).getMessagePosted().getClientMsgId();
    assertThat(server.receivedSends())
        .filteredOn(m -> m.getClientMsgId().equals(id))
        .hasSize(3);
    await().atMost(WAIT).until(() -> p.bobEvents().messages(p.conv()).size() == 1);
    assertThat(p.bobEvents().messages(p.conv())).containsExactly("persistent");
  }

  @Test
  void aLostAcknowledgementIsResentWithTheSameIdAndCreatesNoDuplicate() {
    Pair p = chat();
    server.loseNextSendAck();

    SendResult result = done(p.alice().send(p.conv(), "text/plain", text("once")));

    assertThat(result.getDuplicate()).isTrue();
    assertThat(server.log(p.conv())).filteredOn(e -> e.hasMessagePosted()).hasSize(1);
    await().atMost(WAIT).until(() -> p.bobEvents().messages(p.conv()).size() == 1);
    assertThat(p.bobEvents().messages(p.conv())).containsExactly("once");
  }

  @Test
  void aPermanentlyRejectedSendFailsAndLeavesTheOutbox() {
    RecordingListener aliceEvents = new RecordingListener();
    String alice = user("alice");
    ParleyClient a = connected(builder(alice, aliceEvents), aliceEvents);
    String conv = done(a.openDirect(user("bob"))).getConversation().getId();
    server.failSends(1, ErrorCode.FORBIDDEN, 0);

    ParleyClientException e = failure(a.send(conv, "text/plain", text("nope")));

    assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN);
    await().atMost(WAIT).until(() -> aliceEvents.sendsFailed.size() == 1);
    assertThat(a.pendingSendCount()).isZero();
  }

  @Test
  void sendsToOneConversationKeepTheirOrderAcrossRetries() {
    Pair p = chat();
    server.failSends(1, ErrorCode.UNAVAILABLE, 30);

    List<CompletableFuture<SendResult>> sends = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      sends.add(p.alice().send(p.conv(), "text/plain", text("m" + i)));
    }
    List<Long> seqs = sends.stream().map(f -> done(f).getSeq()).toList();

    assertThat(seqs).isSorted().doesNotHaveDuplicates();
    await().atMost(WAIT).until(() -> p.bobEvents().messages(p.conv()).size() == 5);
    assertThat(p.bobEvents().messages(p.conv())).containsExactly("m1", "m2", "m3", "m4", "m5");
  }

  @Test
  void closeCode4003ClosesTheClientForGood() {
    RecordingListener events = new RecordingListener();
    String alice = user("alice");
    ParleyClient a = connected(builder(alice, events), events);

    server.closeWith(alice, 4003, "deactivated");

    await().atMost(WAIT).until(() -> a.state() == ConnectionState.CLOSED);
    assertThat(events.errors).anyMatch(e -> e.code() == ErrorCode.USER_DEACTIVATED);
    assertThat(events.states).endsWith(ConnectionState.CLOSED);
    assertThat(failure(a.getProfile(alice)).code()).isEqualTo(ErrorCode.UNAVAILABLE);
    done(a.closeAsync());
  }

  @Test
  void aDeactivatedUserCannotConnect() {
    RecordingListener events = new RecordingListener();
    String alice = user("alice");
    server.deactivate(alice);
    ParleyClient a = start(builder(alice, events));

    assertThat(failure(a.connect()).code()).isEqualTo(ErrorCode.USER_DEACTIVATED);
    assertThat(a.state()).isEqualTo(ConnectionState.CLOSED);
  }

  @Test
  void closeCode4001ReconnectsWithAFreshToken() {
    RecordingListener events = new RecordingListener();
    String alice = user("alice");
    Tokens tokens = new Tokens(r -> "user:" + alice);
    ParleyClient a = connected(builder(events, tokens), events);

    server.closeWith(alice, 4001, "token expired");

    await().atMost(WAIT).until(() -> tokens.reasons.contains(TokenProvider.Reason.REJECTED));
    await().atMost(WAIT).until(() -> events.syncs.get() >= 2);
    assertThat(a.state()).isEqualTo(ConnectionState.CONNECTED);
    assertThat(events.states)
        .containsSubsequence(
            ConnectionState.CONNECTED, ConnectionState.RECONNECTING, ConnectionState.CONNECTED);
  }

  @Test
  void aRejectedTokenIsReplacedBeforeTheNextAttempt() {
    RecordingListener events = new RecordingListener();
    String alice = user("alice");
    String bad = "user:" + alice + ":stale";
    server.rejectToken(bad);
    Tokens tokens =
        new Tokens(r -> r == TokenProvider.Reason.CONNECT ? bad : "user:" + alice + ":fresh");
    ParleyClient a = start(builder(events, tokens));

    done(a.connect());

    assertThat(tokens.reasons)
        .containsExactly(TokenProvider.Reason.CONNECT, TokenProvider.Reason.REJECTED);
    assertThat(events.errors).anyMatch(e -> e.code() == ErrorCode.UNAUTHENTICATED);
  }

  @Test
  void sessionExpiringMakesTheClientRefreshItsToken() {
    RecordingListener events = new RecordingListener();
    String alice = user("alice");
    Tokens tokens = new Tokens(r -> "user:" + alice + ":" + r);
    connected(builder(events, tokens), events);

    server.push(
        alice,
        ServerFrame.newBuilder()
            .setSessionExpiring(
                SessionExpiring.newBuilder().setExpiresAtMs(System.currentTimeMillis() + 5_000))
            .build());

    await().atMost(WAIT).until(() -> server.refreshTokens().contains("user:" + alice + ":REFRESH"));
    assertThat(tokens.reasons).contains(TokenProvider.Reason.REFRESH);
  }

  @Test
  void theTokenIsRefreshedBeforeItExpiresWithoutBeingAsked() {
    String alice = user("alice");
    server.tokenLifetimeMs(2_500);
    try {
      RecordingListener events = new RecordingListener();
      Tokens tokens = new Tokens(r -> "user:" + alice + ":" + r);
      connected(builder(events, tokens), events);

      await().atMost(WAIT).until(() -> server.refreshTokens().contains("user:" + alice + ":REFRESH"));
    } finally {
      server.tokenLifetimeMs(0);
    }
  }

  @Test
  void goAwayMakesTheClientReconnect() {
    RecordingListener events = new RecordingListener();
    String alice = user("alice");
    Tokens tokens = new Tokens(r -> "user:" + alice);
    ParleyClient a = connected(builder(events, tokens), events);

    server.push(
        alice,
        ServerFrame.newBuilder()
            .setGoAway(GoAway.newBuilder().setReason("drain").setReconnectAfterMs(10))
            .build());

    await().atMost(WAIT).until(() -> tokens.reasons.size() >= 2 && events.syncs.get() >= 2);
    assertThat(a.state()).isEqualTo(ConnectionState.CONNECTED);
  }

  @Test
  void presenceSubscriptionIsRestoredAfterAReconnect() {
    RecordingListener events = new RecordingListener();
    String alice = user("alice");
    ParleyClient a = connected(builder(alice, events), events);
    done(a.subscribePresence(List.of("bob-x", "carol-x")));

    server.kill(alice);

    await()
        .atMost(WAIT)
        .until(
            () ->
                server.received().stream()
                        .filter(ClientFrame::hasSubscribePresence)
                        .filter(f -> f.getSubscribePresence().getUserIdsList().contains("carol-x"))
                        .count()
                    >= 2);
  }

  @Test
  void aReadRequestInFlightIsSentAgainAfterTheConnectionIsLost() {
    RecordingListener events = new RecordingListener();
    String alice = user("alice");
    ParleyClient a = connected(builder(alice, events), events);
    server.kill(alice);

    assertThat(done(a.getProfile("someone")).getUserId()).isEqualTo("someone");
  }

  @Test
  void aRequestFailsWithUnavailableWhenNoConnectionComesUpInTime() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    RecordingListener events = new RecordingListener();
    ParleyClient c =
        start(
            builder("nobody", events)
                .uri("ws://127.0.0.1:" + closedPort + "/v1/ws")
                .requestTimeout(Duration.ofMillis(300)));
    c.connect();

    ParleyClientException e = failure(c.getConversation("c1"));

    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(c.state()).isEqualTo(ConnectionState.CONNECTING);
  }

  @Test
  void twoClientsCannotShareAStateDirectory() {
    Path dir = tmp.resolve("shared");
    String alice = user("alice");
    RecordingListener first = new RecordingListener();
    connected(builder(alice, first).stateDirectory(dir), first);
    RecordingListener second = new RecordingListener();
    ParleyClient other = start(builder(alice, second).stateDirectory(dir));

    ParleyClientException e = failure(other.connect());

    assertThat(e.getMessage()).contains("in use");
    assertThat(other.state()).isEqualTo(ConnectionState.CLOSED);
  }

  @Test
  void aSendReusingAPendingIdIsTheSameMessage() {
    Pair p = chat();
    server.failSends(1, ErrorCode.UNAVAILABLE, 50);
    io.parley.client.SendOptions options = io.parley.client.SendOptions.none().withClientMsgId("fixed-id");

    CompletableFuture<SendResult> first = p.alice().send(p.conv(), "text/plain", text("x"), options);
    CompletableFuture<SendResult> second = p.alice().send(p.conv(), "text/plain", text("x"), options);

    assertThat(done(first).getSeq()).isEqualTo(done(second).getSeq());
    assertThat(server.log(p.conv()))
        .filteredOn(e -> e.hasMessagePosted())
        .extracting(e -> e.getMessagePosted().getClientMsgId())
        .containsExactly("fixed-id");
    assertThat(server.receivedSends()).extracting(SendMessage::getClientMsgId).contains("fixed-id");
  }
}
