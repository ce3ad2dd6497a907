package io.parley.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.RefreshToken;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.Sync;
import io.parley.server.core.Caller;
import io.parley.server.gateway.testing.GatewayHarness;
import io.parley.server.gateway.testing.RawWsClient;
import io.parley.server.gateway.testing.TestConfigs;
import io.parley.server.gateway.testing.WsClient;
import io.parley.server.gateway.ws.CloseCodes;
import io.parley.server.gateway.ws.Subprotocol;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GatewayWebSocketIT {
  private GatewayHarness gw;

  @AfterEach
  void tearDown() {
    if (gw != null) {
      gw.close();
    }
  }

  private GatewayHarness start(TestConfigs config) {
    gw = new GatewayHarness(config.build());
    return gw;
  }

  private static ClientFrame.Builder ping() {
    return ClientFrame.newBuilder().setPing(Ping.newBuilder().setClientTimeMs(5));
  }

  private static ClientFrame.Builder send(String conversationId) {
    return ClientFrame.newBuilder()
        .setSendMessage(SendMessage.newBuilder().setConversationId(conversationId).setClientMsgId("k"));
  }

  @Test
  void anUpgradeOfferingNoSupportedSubprotocolIsRefusedWith400NamingThem() throws Exception {
    start(TestConfigs.builder());
    try (RawWsClient raw = RawWsClient.open(gw.port, List.of("chat.v2"), 0)) {
      assertThat(raw.status).isEqualTo(400);
      assertThat(raw.body).contains("BAD_REQUEST").contains("parley.v1.proto").contains("parley.v1.json");
      assertThat(raw.headers).containsEntry("x-content-type-options", "nosniff");
    }
    try (RawWsClient raw = RawWsClient.open(gw.port, List.of(), 0)) {
      assertThat(raw.status).isEqualTo(400);
    }
    assertThatThrownBy(() -> WsClient.tryConnect(gw.port, List.of("nope")).join())
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOfSatisfying(
            WebSocketHandshakeException.class, e -> assertThat(e.getResponse().statusCode()).isEqualTo(400));
  }

  @Test
  void theFirstSupportedSubprotocolTheClientOffersIsSelected() throws Exception {
    start(TestConfigs.builder());
    try (RawWsClient raw = RawWsClient.open(gw.port, List.of("x", "parley.v1.json", "parley.v1.proto"), 0)) {
      assertThat(raw.status).isEqualTo(101);
      assertThat(raw.headers).containsEntry("sec-websocket-protocol", "parley.v1.json");
      assertThat(raw.headers).containsEntry("x-frame-options", "DENY");
    }
  }

  @Test
  void authenticateAsTheFirstFrameAnswersWithTheSessionIdentity() {
    start(TestConfigs.builder());
    WsClient c = gw.client(Subprotocol.PROTO);
    ServerFrame f = c.authenticate("u:alice");
    assertThat(f.getAuthenticated().getUserId()).isEqualTo("alice");
    assertThat(f.getAuthenticated().getDeviceId()).startsWith("d_");
    assertThat(f.getAuthenticated().getSessionId()).startsWith("s_");
    assertThat(f.getAuthenticated().getMaxMessageBytes()).isEqualTo(16 * 1024);
    assertThat(f.getAuthenticated().getServerTimeMs()).isPositive();
    assertThat(gw.sessionOf("alice").deviceId()).isEqualTo(f.getAuthenticated().getDeviceId());
  }

  @Test
  void theJsonSubprotocolWorksEndToEnd() {
    start(TestConfigs.builder());
    WsClient c = gw.client(Subprotocol.JSON);
    assertThat(c.authenticate("u:alice").getAuthenticated().getUserId()).isEqualTo("alice");
    ServerFrame r = c.request(send("c1"));
    assertThat(r.getSendResult().getConversationId()).isEqualTo("c1");
    assertThat(r.getSendResult().getSeq()).isPositive();
  }

  @Test
  void aBearerHeaderAuthenticatesDuringTheUpgrade() {
    start(TestConfigs.builder());
    WsClient c = gw.client(Subprotocol.PROTO, Map.of("Authorization", "Bearer u:bob"), "?device_id=tab-1");
    ServerFrame pushed = c.next();
    assertThat(pushed.getRequestId()).isZero();
    assertThat(pushed.getAuthenticated().getUserId()).isEqualTo("bob");
    assertThat(pushed.getAuthenticated().getDeviceId()).isEqualTo("tab-1");
    assertThat(c.request(ping()).hasPong()).isTrue();
    ServerFrame again =
        c.request(ClientFrame.newBuilder().setAuthenticate(Authenticate.newBuilder().setToken("u:bob")));
    assertThat(again.getError().getCode()).isEqualTo(ErrorCode.ALREADY_AUTHENTICATED);
  }

  @Test
  void aBadBearerTokenIsRefusedBeforeTheUpgrade() {
    start(TestConfigs.builder());
    assertThatThrownBy(() -> WsClient.connect(gw.port, Subprotocol.PROTO, Map.of("Authorization", "Bearer nope"), ""))
        .cause()
        .isInstanceOfSatisfying(
            WebSocketHandshakeException.class, e -> assertThat(e.getResponse().statusCode()).isEqualTo(401));
    assertThat(gw.server.sessions().connectedSessions()).isEmpty();
  }

  @Test
  void requestsBeforeAuthenticationAreRejectedAndPersistentOnesClose() {
    start(TestConfigs.builder());
    WsClient c = gw.client(Subprotocol.PROTO);
    assertThat(c.request(ping()).getError().getCode()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(c.request(send("c1")).getError().getCode()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    c.send(ping().setRequestId(3).build());
    assertThat(c.awaitClose().code()).isEqualTo(CloseCodes.AUTHENTICATION_REQUIRED);
    assertThat(gw.services.sent).isEmpty();
  }

  @Test
  void aSilentConnectionIsClosedAtTheHandshakeDeadline() {
    start(TestConfigs.builder().handshake(Duration.ofMillis(300)));
    WsClient c = gw.client(Subprotocol.PROTO);
    WsClient.Close close = c.awaitClose();
    assertThat(close.code()).isEqualTo(CloseCodes.AUTHENTICATION_TIMEOUT);
    assertThat(close.reason()).contains("authentication timeout");
  }

  @Test
  void anExpiringTokenIsWarnedAboutThenTheSessionClosesWith4001() {
    start(TestConfigs.builder().tokenExpiryWarning(Duration.ofMillis(400)));
    WsClient c = gw.client(Subprotocol.PROTO);
    long expiresAt = System.currentTimeMillis() + 800;
    assertThat(c.authenticate("u:carol:" + expiresAt).hasAuthenticated()).isTrue();
    ServerFrame warning = c.await(ServerFrame::hasSessionExpiring);
    assertThat(warning.getSessionExpiring().getExpiresAtMs()).isEqualTo(expiresAt);
    assertThat(c.awaitClose().code()).isEqualTo(CloseCodes.TOKEN_EXPIRED);
  }

  @Test
  void refreshTokenMustIdentifyTheSameUserAndMovesTheExpiry() {
    start(TestConfigs.builder());
    WsClient c = gw.client(Subprotocol.PROTO);
    long now = System.currentTimeMillis();
    c.authenticate("u:dan:" + (now + 60_000));
    ServerFrame other =
        c.request(ClientFrame.newBuilder().setRefreshToken(RefreshToken.newBuilder().setToken("u:eve")));
    assertThat(other.getError().getCode()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    ServerFrame same =
        c.request(
            ClientFrame.newBuilder()
                .setRefreshToken(RefreshToken.newBuilder().setToken("u:dan:" + (now + 120_000))));
    assertThat(same.getTokenRefreshed().getExpiresAtMs()).isEqualTo(now + 120_000);
  }

  @Test
  void failedAuthenticationLeavesTheConnectionUsable() {
    start(TestConfigs.builder());
    WsClient c = gw.client(Subprotocol.PROTO);
    assertThat(c.authenticate("expired").getError().getCode()).isEqualTo(ErrorCode.TOKEN_EXPIRED);
    assertThat(c.authenticate("garbage").getError().getCode()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(c.authenticate("u:frank").hasAuthenticated()).isTrue();
  }

  @Test
  void aDeactivatedUserIsRefusedAndDisconnected() {
    start(TestConfigs.builder());
    gw.services.deactivated.add("zed");
    WsClient c = gw.client(Subprotocol.PROTO);
    assertThat(c.authenticate("u:zed").getError().getCode()).isEqualTo(ErrorCode.USER_DEACTIVATED);
    assertThat(c.awaitClose().code()).isEqualTo(CloseCodes.USER_DEACTIVATED);
  }

  @Test
  void anOversizedFrameIsAnsweredWithTooLargeThenClosedWith1009() {
    start(TestConfigs.builder().maxFrameBytes(16 * 1024));
    WsClient c = gw.authenticated("alice");
    c.sendRawBinary(new byte[32 * 1024]);
    ServerFrame error = c.next();
    assertThat(error.getError().getCode()).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(c.awaitClose().code()).isEqualTo(CloseCodes.MESSAGE_TOO_BIG);
  }

  @Test
  void aMalformedFrameIsAnsweredAndTheConnectionAndOthersKeepWorking() {
    start(TestConfigs.builder());
    WsClient bad = gw.authenticated("alice");
    WsClient other = gw.authenticated("bob");
    bad.sendRawBinary(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01});
    ServerFrame error = bad.next();
    assertThat(error.getRequestId()).isZero();
    assertThat(error.getError().getCode()).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(error.getError().getMessage()).startsWith("malformed frame");
    bad.sendRawText("{\"requestId\":1}");
    assertThat(bad.next().getError().getMessage()).contains("text frames are not accepted");
    assertThat(bad.request(ping()).hasPong()).isTrue();
    assertThat(other.request(ping()).hasPong()).isTrue();
  }

  @Test
  void tenMalformedFramesInARowCloseTheConnection() {
    start(TestConfigs.builder());
    WsClient c = gw.authenticated("alice");
    for (int i = 0; i < 10; i++) {
      c.sendRawBinary(new byte[] {(byte) 0xff, (byte) 0xff});
    }
    for (int i = 0; i < 10; i++) {
      assertThat(c.next().getError().getCode()).isEqualTo(ErrorCode.BAD_REQUEST);
    }
    assertThat(c.awaitClose().code()).isEqualTo(CloseCodes.POLICY_VIOLATION);
  }

  @Test
  void requestIdZeroIsABadRequestAndUnknownKindsAreUnsupported() {
    start(TestConfigs.builder());
    WsClient c = gw.authenticated("alice");
    c.send(ping().setRequestId(0).build());
    ServerFrame zero = c.next();
    assertThat(zero.getError().getCode()).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(zero.getError().getMessage()).contains("request_id");
    assertThat(c.request(ClientFrame.newBuilder()).getError().getCode()).isEqualTo(ErrorCode.UNSUPPORTED);
  }

  @Test
  void requestsBeyondTheInFlightLimitAreRateLimited() {
    start(TestConfigs.builder().maxInflight(2));
    WsClient c = gw.authenticated("alice");
    c.send(send("hang").setRequestId(1).build());
    c.send(send("hang").setRequestId(2).build());
    ServerFrame third = c.request(send("c1"));
    assertThat(third.getError().getCode()).isEqualTo(ErrorCode.RATE_LIMITED);
    assertThat(third.getError().getRetryAfterMs()).isPositive();
    assertThat(c.request(ping()).hasPong()).isTrue();
  }

  @Test
  void internalErrorsCarryAReferenceInsteadOfDetails() {
    start(TestConfigs.builder());
    WsClient c = gw.authenticated("alice");
    ServerFrame r = c.request(send("boom"));
    assertThat(r.getError().getCode()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(r.getError().getMessage()).contains("reference ref_").doesNotContain("secret");
  }

  @Test
  void serviceRequestsCarryTheCallersIdentityAndMapOntoTheirResults() {
    start(TestConfigs.builder());
    WsClient c = gw.authenticated("alice");
    String device = gw.sessionOf("alice").deviceId();
    assertThat(c.request(send("c1")).getSendResult().getConversationId()).isEqualTo("c1");
    assertThat(c.request(ClientFrame.newBuilder().setGetProfile(GetProfile.newBuilder().setUserId("bob")))
            .getProfile().getUserId())
        .isEqualTo("bob");
    assertThat(c.request(ClientFrame.newBuilder().setSync(Sync.getDefaultInstance())).getSyncResult().getComplete())
        .isTrue();
    assertThat(gw.services.syncCallers).containsExactly(Caller.user("alice", device));
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() {
    start(TestConfigs.builder().idle(Duration.ofMillis(400)).pingInterval(Duration.ofSeconds(30)));
    WsClient c = gw.authenticated("alice");
    assertThat(c.awaitClose().code()).isEqualTo(CloseCodes.IDLE_TIMEOUT);
  }
}
