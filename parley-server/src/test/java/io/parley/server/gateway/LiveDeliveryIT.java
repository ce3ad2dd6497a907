package io.parley.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationDelta;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MemberJoined;
import io.parley.protocol.v1.MemberLeft;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.ReceiptKind;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SubscribePresence;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.server.bus.BusMessage;
import io.parley.server.gateway.testing.GatewayHarness;
import io.parley.server.gateway.testing.TestConfigs;
import io.parley.server.gateway.testing.WsClient;
import io.parley.server.gateway.ws.CloseCodes;
import io.parley.server.gateway.ws.Subprotocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LiveDeliveryIT {
  private GatewayHarness gw;

  @BeforeEach
  void setUp() {
    gw = new GatewayHarness(TestConfigs.builder().build());
  }

  @AfterEach
  void tearDown() {
    gw.close();
  }

  private static Event msg(String conversationId, long seq) {
    return Event.newBuilder()
        .setConversationId(conversationId)
        .setSeq(seq)
        .setMessagePosted(MessagePosted.newBuilder().setBody(ByteString.copyFromUtf8("m" + seq)))
        .build();
  }

  private void publishDirect(String conversationId, Set<String> recipients, long... seqs) {
    List<Event> events = LongStream.of(seqs).mapToObj(s -> msg(conversationId, s)).toList();
    gw.bus.publish(
        new BusMessage.CommittedEvents(conversationId, ConversationKind.CONVERSATION_KIND_GROUP, events, recipients));
  }

  private void publishChannel(Event... events) {
    gw.bus.publish(
        new BusMessage.CommittedEvents(
            events[0].getConversationId(), ConversationKind.CONVERSATION_KIND_CHANNEL, List.of(events), Set.of()));
  }

  /**
   * Every frame the user's client received before a marker pushed to the user now. Pushes to one
   * session pass through one FIFO queue drained on its event loop (and loop tasks run in
   * submission order), so anything the gateway delivered to this session before the marker
   * arrives before it. (A ping would not do: its read may overtake queued deliveries.)
   */
  private List<ServerFrame> framesBeforeMarker(WsClient client, String userId) {
    String marker = "marker-" + System.nanoTime();
    gw.bus.publish(new BusMessage.Typing(marker, "nobody", true, Set.of(userId)));
    return client.framesBefore(f -> f.getTyping().getConversationId().equals(marker));
  }

  /** Seqs of every event in the frames (pushes and sync pages), in order. */
  private static List<Long> seqs(List<ServerFrame> frames) {
    List<Long> out = new ArrayList<>();
    for (ServerFrame f : frames) {
      if (f.hasEvent()) {
        out.add(f.getEvent().getSeq());
      }
      f.getEventBatch().getEventsList().forEach(e -> out.add(e.getSeq()));
      f.getSyncResult().getDeltasList().forEach(d -> d.getEventsList().forEach(e -> out.add(e.getSeq())));
    }
    return out;
  }

  @Test
  void committedEventsReachEverySessionOfEveryRecipientAndNobodyElse() {
    WsClient alice1 = gw.authenticated("alice");
    WsClient alice2 = gw.authenticated("alice");
    WsClient bob = gw.client(Subprotocol.JSON);
    bob.authenticate("u:bob");
    WsClient carol = gw.authenticated("carol");
    publishDirect("g1", Set.of("alice", "bob"), 1);
    assertThat(alice1.next().getEvent()).isEqualTo(msg("g1", 1));
    assertThat(alice2.next().getEvent()).isEqualTo(msg("g1", 1));
    assertThat(bob.next().getEvent()).isEqualTo(msg("g1", 1));
    assertThat(framesBeforeMarker(carol, "carol")).isEmpty();
  }

  @Test
  void aBatchOfEventsArrivesAsOneEventBatchFrame() {
    WsClient alice = gw.authenticated("alice");
    publishDirect("g1", Set.of("alice"), 1, 2, 3);
    ServerFrame f = alice.next();
    assertThat(f.getEventBatch().getEventsList()).extracting(Event::getSeq).containsExactly(1L, 2L, 3L);
  }

  @Test
  void liveEventsAreDeliveredOncePerSeq() {
    WsClient alice = gw.authenticated("alice");
    publishDirect("g1", Set.of("alice"), 1);
    publishDirect("g1", Set.of("alice"), 1);
    publishDirect("g1", Set.of("alice"), 1, 2);
    publishDirect("g1", Set.of("alice"), 3);
    publishDirect("g1", Set.of("alice"), 2);
    assertThat(seqs(framesBeforeMarker(alice, "alice"))).containsExactly(1L, 2L, 3L);
  }

  @Test
  void eventsPublishedWhileASyncRunsFollowTheSyncResultExactlyOnceInOrder() throws Exception {
    gw.services.holdSyncs = true;
    WsClient alice = gw.authenticated("alice");
    long syncId = alice.nextId();
    alice.send(ClientFrame.newBuilder().setRequestId(syncId).setSync(Sync.getDefaultInstance()).build());
    CompletableFuture<SyncResult> sync = gw.services.pendingSyncs.poll(10, TimeUnit.SECONDS);
    assertThat(sync).isNotNull();
    // Committed after registration, some before and some after the sync's read of the store.
    publishDirect("g1", Set.of("alice"), 3);
    publishDirect("g1", Set.of("alice"), 4, 5);
    publishDirect("g1", Set.of("alice"), 6);
    sync.complete(
        SyncResult.newBuilder()
            .addDeltas(
                ConversationDelta.newBuilder()
                    .setConversation(Conversation.newBuilder().setId("g1"))
                    .addAllEvents(LongStream.rangeClosed(1, 4).mapToObj(s -> msg("g1", s)).toList()))
            .setCursor("k4")
            .setComplete(true)
            .build());
    // The sync answer and the buffer flush are written by one event-loop task, so once event 6
    // arrived, anything else from that flush has arrived too; the marker then shows nothing follows.
    List<ServerFrame> frames = new ArrayList<>(alice.framesBefore(f -> f.getEvent().getSeq() == 6));
    frames.add(ServerFrame.newBuilder().setEvent(msg("g1", 6)).build());
    assertThat(frames.get(0).getRequestId()).isEqualTo(syncId);
    assertThat(seqs(frames)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(framesBeforeMarker(alice, "alice")).isEmpty();
    publishDirect("g1", Set.of("alice"), 7);
    assertThat(alice.next().getEvent().getSeq()).isEqualTo(7);
  }

  @Test
  void channelEventsFollowTheSubscriptionIndex() {
    gw.channelsOfUser.put("alice", List.of("ch"));
    WsClient alice = gw.authenticated("alice");
    WsClient bob = gw.authenticated("bob");
    publishChannel(msg("ch", 5));
    assertThat(alice.next().getEvent().getSeq()).isEqualTo(5);
    assertThat(framesBeforeMarker(bob, "bob")).isEmpty();

    publishChannel(Event.newBuilder().setConversationId("ch").setSeq(6)
        .setMemberJoined(MemberJoined.newBuilder().setUserId("bob").setAddedBy("bob")).build());
    publishChannel(msg("ch", 7));
    publishChannel(Event.newBuilder().setConversationId("ch").setSeq(8)
        .setMemberLeft(MemberLeft.newBuilder().setUserId("bob").setRemovedBy("bob")).build());
    publishChannel(msg("ch", 9));
    assertThat(seqs(framesBeforeMarker(bob, "bob"))).containsExactly(6L, 7L, 8L);
    assertThat(seqs(framesBeforeMarker(alice, "alice"))).containsExactly(6L, 7L, 8L, 9L);
  }

  @Test
  void typingSkipsTheTypistsOwnSessionsAndReceiptsReachAllRecipients() {
    WsClient alice = gw.authenticated("alice");
    WsClient bob = gw.authenticated("bob");
    gw.bus.publish(new BusMessage.Typing("g1", "alice", true, Set.of("alice", "bob")));
    ServerFrame typing = bob.next();
    assertThat(typing.getTyping().getUserId()).isEqualTo("alice");
    assertThat(typing.getTyping().getTyping()).isTrue();
    assertThat(framesBeforeMarker(alice, "alice")).isEmpty();

    gw.bus.publish(new BusMessage.Receipt("g1", "bob", ReceiptKind.RECEIPT_KIND_READ, 4, Set.of("alice", "bob")));
    assertThat(alice.next().getReceipt().getSeq()).isEqualTo(4);
    assertThat(bob.next().getReceipt().getKind()).isEqualTo(ReceiptKind.RECEIPT_KIND_READ);
  }

  @Test
  void presenceSubscriptionsAnswerWithCurrentPresenceThenFollowChanges() {
    gw.services.presence.put("bob", PresenceStatus.PRESENCE_STATUS_AWAY);
    WsClient alice = gw.authenticated("alice");
    long id = alice.nextId();
    alice.send(
        ClientFrame.newBuilder()
            .setRequestId(id)
            .setSubscribePresence(SubscribePresence.newBuilder().addUserIds("bob").addUserIds("carol"))
            .build());
    ServerFrame first = alice.next();
    ServerFrame second = alice.next();
    ServerFrame ack = alice.next();
    assertThat(first.getPresence().getUserId()).isEqualTo("bob");
    assertThat(first.getPresence().getStatus()).isEqualTo(PresenceStatus.PRESENCE_STATUS_AWAY);
    assertThat(second.getPresence().getUserId()).isEqualTo("carol");
    assertThat(ack.getRequestId()).isEqualTo(id);
    assertThat(ack.hasAck()).isTrue();

    gw.bus.publish(new BusMessage.Presence("dave", PresenceStatus.PRESENCE_STATUS_ONLINE, 1));
    gw.bus.publish(new BusMessage.Presence("bob", PresenceStatus.PRESENCE_STATUS_ONLINE, 2));
    List<ServerFrame> frames = framesBeforeMarker(alice, "alice");
    assertThat(frames).hasSize(1);
    assertThat(frames.get(0).getPresence().getUserId()).isEqualTo("bob");
    assertThat(frames.get(0).getPresence().getStatus()).isEqualTo(PresenceStatus.PRESENCE_STATUS_ONLINE);
  }

  @Test
  void deactivatingAUserClosesAllItsSessions() {
    WsClient alice1 = gw.authenticated("alice");
    WsClient alice2 = gw.authenticated("alice");
    WsClient bob = gw.authenticated("bob");
    gw.bus.publish(new BusMessage.UserDeactivated("alice"));
    assertThat(alice1.awaitClose().code()).isEqualTo(CloseCodes.USER_DEACTIVATED);
    assertThat(alice2.awaitClose().code()).isEqualTo(CloseCodes.USER_DEACTIVATED);
    assertThat(framesBeforeMarker(bob, "bob")).isEmpty();
  }

  @Test
  void closedSessionsLeaveTheIndexesAndPresence() {
    WsClient alice = gw.authenticated("alice");
    String device = gw.sessionOf("alice").deviceId();
    alice.close();
    org.awaitility.Awaitility.await()
        .atMost(5, TimeUnit.SECONDS)
        .until(() -> gw.server.sessions().sessionsOf("alice").isEmpty());
    org.awaitility.Awaitility.await()
        .atMost(5, TimeUnit.SECONDS)
        .until(() -> gw.services.disconnected.contains("alice/" + device));
  }
}
