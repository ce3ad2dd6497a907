package io.parley.server.gateway.session;

import static io.parley.server.gateway.session.SessionFixture.written;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.auth.VerifiedToken;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.ws.InboundFrame;
import io.parley.server.gateway.ws.OutboundFrame;
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
