package io.parley.server.gateway.session;

import static io.parley.server.gateway.session.SessionFixture.written;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendTyping;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.auth.VerifiedToken;
import io.parley.server.core.ParleyException;
import io.parley.server.config.ParleyConfig;
import io.parley.server.gateway.testing.TestConfigs;
import io.parley.server.gateway.ws.CloseCodes;
import io.parley.server.gateway.ws.InboundFrame;
import io.parley.server.gateway.ws.OutboundFrame;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class SessionTest {
  private final SessionFixture fx = new SessionFixture();
  private final EmbeddedChannel ch = new EmbeddedChannel();

  private static InboundFrame authenticate(long id, String token) {
    return new InboundFrame.Decoded(
        ClientFrame.newBuilder().setRequestId(id).setAuthenticate(Authenticate.newBuilder().setToken(token)).build());
  }

  private static InboundFrame ping(long id) {
    return new InboundFrame.Decoded(ClientFrame.newBuilder().setRequestId(id).setPing(Ping.getDefaultInstance()).build());
  }

  private static InboundFrame send(long id, String conversation) {
    return new InboundFrame.Decoded(
        ClientFrame.newBuilder()
            .setRequestId(id)
            .setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId(conversation)
                    .setClientMsgId("c" + id)
                    .setContentType("text/plain")
                    .setBody(ByteString.copyFromUtf8("hi")))
            .build());
  }

  private static InboundFrame typing(long id) {
    return new InboundFrame.Decoded(
        ClientFrame.newBuilder()
            .setRequestId(id)
            .setSendTyping(SendTyping.newBuilder().setConversationId("grp_1"))
            .build());
  }

  @Test
  void sendsBeyondTheUsersRateAreRefusedWithRetryAfterBeforeReachingTheService() {
    ParleyConfig.Rate two = new ParleyConfig.Rate(2, Duration.ofHours(1));
    ParleyConfig.Rate many = new ParleyConfig.Rate(1000, Duration.ofHours(1));
    SessionFixture limited =
        new SessionFixture(
            TestConfigs.builder()
                .rateLimits(
                    new ParleyConfig.RateLimits(
                        true, two, many, many, many, many, many, many, many, many, many, 100))
                .build());
    Session s = limited.open(ch);
    s.authenticateWithHeader(new VerifiedToken("alice", Long.MAX_VALUE), "phone", false);
    written(ch);
    ch.writeInbound(send(1, "grp_1"), send(2, "grp_1"), send(3, "grp_1"), typing(4));
    List<ServerFrame> out = written(ch);
    assertThat(out).hasSize(4);
    ServerFrame refused = out.stream().filter(f -> f.getRequestId() == 3).findFirst().orElseThrow();
    assertThat(refused.getError().getCode()).isEqualTo(ErrorCode.RATE_LIMITED);
    // 2 per hour: the next token is 30 minutes away (less the few ms the test took).
    assertThat(refused.getError().getRetryAfterMs()).isBetween(29 * 60_000L, 30 * 60_000L);
    assertThat(out.stream().filter(f -> f.getRequestId() == 4).findFirst().orElseThrow().hasAck())
        .as("typing has its own bucket")
        .isTrue();
    assertThat(limited.services.sent).hasSize(2);
  }

  @Test
  void aUserAtTheConnectionLimitIsAnsweredLimitExceededAndClosed() {
    SessionFixture limited = new SessionFixture(TestConfigs.builder().maxConnectionsPerUser(2).build());
    Session first = limited.open(new EmbeddedChannel());
    first.authenticateWithHeader(new VerifiedToken("alice", Long.MAX_VALUE), "a", false);
    Session second = limited.open(new EmbeddedChannel());
    second.authenticateWithHeader(new VerifiedToken("alice", Long.MAX_VALUE), "b", false);
    Session third = limited.open(ch);
    ch.writeInbound(authenticate(1, "u:alice"));
    ServerFrame answer = ((OutboundFrame) ch.readOutbound()).frame();
    assertThat(answer.getRequestId()).isEqualTo(1);
    assertThat(answer.getError().getCode()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
    assertThat(third.state()).isEqualTo(Session.State.CLOSING);
    assertThat(limited.registry.sessionsOf("alice")).containsExactlyInAnyOrder(first, second);
    Object close = ch.readOutbound();
    assertThat(close).isInstanceOf(CloseWebSocketFrame.class);
    assertThat(((CloseWebSocketFrame) close).statusCode()).isEqualTo(CloseCodes.CONNECTION_LIMIT);
    ((CloseWebSocketFrame) close).release();

    // Another user is not affected, and a freed slot can be taken again.
    Session bob = limited.open(new EmbeddedChannel());
    bob.authenticateWithHeader(new VerifiedToken("bob", Long.MAX_VALUE), "b", false);
    assertThat(bob.state()).isEqualTo(Session.State.AUTHENTICATED);
    first.close(CloseCodes.GOING_AWAY, "bye");
    Session again = limited.open(new EmbeddedChannel());
    again.authenticateWithHeader(new VerifiedToken("alice", Long.MAX_VALUE), "c", false);
    assertThat(again.state()).isEqualTo(Session.State.AUTHENTICATED);
  }

  @Test
  void requestsReceivedWhileAuthenticatingAreServedAfterTheAnswer() {
    CompletableFuture<List<String>> load = new CompletableFuture<>();
    fx.channelLoads.put("alice", load);
    Session s = fx.open(ch);
    ch.writeInbound(authenticate(1, "u:alice"), ping(2));
    assertThat(s.state()).isEqualTo(Session.State.AUTHENTICATING);
    assertThat(ch.config().isAutoRead()).isFalse();
    assertThat(written(ch)).isEmpty();

    load.complete(List.of());
    List<ServerFrame> out = written(ch);
    assertThat(out).hasSize(2);
    assertThat(out.get(0).getRequestId()).isEqualTo(1);
    assertThat(out.get(0).getAuthenticated().getUserId()).isEqualTo("alice");
    assertThat(out.get(1).getRequestId()).isEqualTo(2);
    assertThat(out.get(1).hasPong()).isTrue();
    assertThat(ch.config().isAutoRead()).isTrue();
    assertThat(fx.services.connected).hasSize(1).allMatch(d -> d.startsWith("alice/d_"));
  }

  @Test
  void aFailedChannelLoadFailsTheAuthenticationAndUnregisters() {
    fx.channelLoads.put(
        "alice", CompletableFuture.failedFuture(ParleyException.unavailable("store down", 250, null)));
    Session s = fx.open(ch);
    ch.writeInbound(authenticate(1, "u:alice"));
    ServerFrame answer = written(ch).get(0);
    assertThat(answer.getError().getCode()).isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(answer.getError().getRetryAfterMs()).isEqualTo(250);
    assertThat(s.state()).isEqualTo(Session.State.AWAITING_AUTH);
    assertThat(fx.registry.sessionsOf("alice")).isEmpty();
    assertThat(fx.services.connected).isEmpty();
  }

  @Test
  void headerAuthenticationPushesAuthenticatedWithRequestIdZero() {
    Session s = fx.open(ch);
    s.authenticateWithHeader(new VerifiedToken("bob", 123_456_789_000L), "phone-1", false);
    ServerFrame f = written(ch).get(0);
    assertThat(f.getRequestId()).isZero();
    assertThat(f.getAuthenticated().getDeviceId()).isEqualTo("phone-1");
    assertThat(f.getAuthenticated().getExpiresAtMs()).isEqualTo(123_456_789_000L);
    assertThat(f.getAuthenticated().getSessionId()).isEqualTo(s.sessionId());
  }

  @Test
  void closingTheChannelAnnouncesTheDisconnectAndUnregisters() {
    Session s = fx.open(ch);
    s.authenticateWithHeader(new VerifiedToken("bob", Long.MAX_VALUE), "phone-1", false);
    assertThat(fx.registry.sessionsOf("bob")).containsExactly(s);
    ch.close();
    assertThat(fx.registry.sessionsOf("bob")).isEmpty();
    assertThat(fx.registry.connectedSessions()).isEmpty();
    assertThat(fx.services.disconnected).containsExactly("bob/phone-1");
  }

  @Test
  void aFullDeliveryQueueTurnsLostEventsIntoAResync() {
    Session s = fx.open(ch);
    s.authenticateWithHeader(new VerifiedToken("alice", Long.MAX_VALUE), "", false);
    written(ch);
    int published = Session.MAX_QUEUED_DELIVERIES + 100;
    for (int seq = 1; seq <= published; seq++) {
      Event e = Event.newBuilder().setConversationId("g").setSeq(seq).build();
      s.deliverEvents("g", List.of(e), OutboundFrame.events(List.of(e)));
    }
    ch.runPendingTasks();
    List<ServerFrame> out = written(ch);
    assertThat(out).hasSize(Session.MAX_QUEUED_DELIVERIES + 1);
    assertThat(out.get(Session.MAX_QUEUED_DELIVERIES - 1).getEvent().getSeq())
        .isEqualTo(Session.MAX_QUEUED_DELIVERIES);
    assertThat(out.get(Session.MAX_QUEUED_DELIVERIES).getResyncRequired().getReason()).contains("queue full");
    assertThat(s.snapshot().join().mode()).isEqualTo(LiveStream.Mode.STALLED);
  }

  @Test
  void invalidDeviceIdsAreRejectedBeforeVerification() {
    fx.open(ch);
    ch.writeInbound(
        new InboundFrame.Decoded(
            ClientFrame.newBuilder()
                .setRequestId(3)
                .setAuthenticate(Authenticate.newBuilder().setToken("u:alice").setDeviceId("bad id!"))
                .build()));
    assertThat(written(ch).get(0).getError().getCode()).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(Session.validDeviceId("a".repeat(64))).isTrue();
    assertThat(Session.validDeviceId("a".repeat(65))).isFalse();
    assertThat(Session.validDeviceId("ok.device_1-x")).isTrue();
  }
}
