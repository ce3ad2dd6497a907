package io.parley.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.Sync;
import io.parley.server.bus.BusMessage;
import io.parley.server.gateway.session.LiveStream;
import io.parley.server.gateway.session.Session;
import io.parley.server.gateway.testing.GatewayHarness;
import io.parley.server.gateway.testing.RawWsClient;
import io.parley.server.gateway.testing.TestConfigs;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BackPressureIT {
  private static final int HIGH_WATER_MARK = 256 * 1024;
  private static final int BODY_BYTES = 64 * 1024;
  private static final ByteString BODY = ByteString.copyFrom(new byte[BODY_BYTES]);

  private final GatewayHarness gw =
      new GatewayHarness(TestConfigs.builder().outboundBufferBytes(HIGH_WATER_MARK).build());

  @AfterEach
  void tearDown() {
    gw.close();
  }

  private void publish(long seq) {
    Event e =
        Event.newBuilder()
            .setConversationId("g1")
            .setSeq(seq)
            .setMessagePosted(MessagePosted.newBuilder().setBody(BODY))
            .build();
    gw.bus.publish(
        new BusMessage.CommittedEvents("g1", ConversationKind.CONVERSATION_KIND_GROUP, List.of(e), Set.of("slow")));
  }

  private static Session.Snapshot snapshot(Session s) throws Exception {
    return s.snapshot().get(5, TimeUnit.SECONDS);
  }

  @Test
  void aClientThatStopsReadingIsStalledWithBoundedBufferingAndResumesAfterSync() throws Exception {
    try (RawWsClient raw = RawWsClient.open(gw.port, List.of("parley.v1.proto"), 4096)) {
      raw.send(
          ClientFrame.newBuilder()
              .setRequestId(1)
              .setAuthenticate(Authenticate.newBuilder().setToken("u:slow"))
              .build());
      assertThat(raw.readServerFrame().hasAuthenticated()).isTrue();
      Session session = gw.sessionOf("slow");

      // Far more than the socket buffers can absorb, while the client reads nothing.
      int published = 400;
      for (int seq = 1; seq <= published; seq++) {
        publish(seq);
      }
      await().atMost(15, TimeUnit.SECONDS).until(() -> snapshot(session).mode() == LiveStream.Mode.STALLED);
      long bound = HIGH_WATER_MARK + 2L * (BODY_BYTES + 1024);
      assertThat(snapshot(session).pendingOutboundBytes()).isLessThanOrEqualTo(bound);

      // While stalled, further events are dropped rather than queued.
      for (int seq = published + 1; seq <= published + 50; seq++) {
        publish(seq);
      }
      published += 50;
      assertThat(snapshot(session).pendingOutboundBytes()).isLessThanOrEqualTo(bound);

      // Reading again drains what was written, then the ResyncRequired notice arrives.
      int received = 0;
      long lastSeq = 0;
      ServerFrame f;
      while (!(f = raw.readServerFrame()).hasResyncRequired()) {
        if (f.hasEvent()) {
          received++;
          assertThat(f.getEvent().getSeq()).isGreaterThan(lastSeq);
          lastSeq = f.getEvent().getSeq();
        }
      }
      assertThat(received).isLessThan(published);
      assertThat(f.getResyncRequired().getReason()).contains("slow consumer");

      // A sync takes the session back to live delivery.
      raw.send(ClientFrame.newBuilder().setRequestId(2).setSync(Sync.getDefaultInstance()).build());
      while (!(f = raw.readServerFrame()).hasSyncResult()) {
        assertThat(f.hasEvent()).as("no live events while stalled").isFalse();
      }
      assertThat(f.getRequestId()).isEqualTo(2);
      await().atMost(5, TimeUnit.SECONDS).until(() -> snapshot(session).mode() == LiveStream.Mode.LIVE);
      publish(published + 1);
      assertThat(raw.readServerFrame().getEvent().getSeq()).isEqualTo(published + 1);
    }
  }
}
