package io.parley.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.ConversationCursor;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.protocol.v1.ConversationDelta;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole server in-process on a free port, driven by real WebSocket clients: the core chat
 * scenarios of the protocol.
 */
class ChatScenariosIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String unique(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Users exist from their first authentication; this creates one without keeping a session. */
  private void register(String user) {
    login(user, "setup").close();
  }

  private WsTestClient login(String user, String device) {
    return WsTestClient.authenticated(server.port(), server.token(user), device);
  }

  static ServerFrame sendText(WsTestClient c, String conversationId, String text) {
    return c.call(
        b ->
            b.setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId(conversationId)
                    .setClientMsgId(UUID.randomUUID().toString())
                    .setContentType("text/plain")
                    .setBody(ByteString.copyFromUtf8(text))));
  }

  static String text(Event e) {
    return e.getMessagePosted().getBody().toString(StandardCharsets.UTF_8);
  }

  @Test
  void twoUsersChatBothWaysOverDirectConversation() throws Exception {
    String alice = unique("alice");
    String bob = unique("bob");
    try (WsTestClient a = login(alice, "phone");
        WsTestClient b = login(bob, "laptop")) {
      ServerFrame opened = a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)));
      assertThat(opened.hasConversation()).as("%s", opened).isTrue();
      String convId = opened.getConversation().getConversation().getId();

      ServerFrame ack = sendText(a, convId, "hi bob");
      assertThat(ack.hasSendResult()).as("%s", ack).isTrue();
      assertThat(ack.getSendResult().getSeq()).isPositive();

      List<Event> atBob = awaitMessages(b, 1);
      assertThat(atBob).extracting(ChatScenariosIT::text).contains("hi bob");

      ServerFrame reply = sendText(b, convId, "hi alice");
      assertThat(reply.getSendResult().getSeq()).isGreaterThan(ack.getSendResult().getSeq());
      // Every device of every member receives the log, the sender's own included.
      List<Event> atAlice = awaitMessages(a, 2);
      assertThat(atAlice).extracting(ChatScenariosIT::text).containsExactly("hi bob", "hi alice");

      ServerFrame again = b.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(alice)));
      assertThat(again.getConversation().getConversation().getId()).isEqualTo(convId);
      assertThat(again.getConversation().getCreated()).isFalse();
    }
  }

  /** Waits for {@code n} MessagePosted events, skipping other events (membership etc.). */
  private static List<Event> awaitMessages(WsTestClient c, int n) throws InterruptedException {
    List<Event> messages = new ArrayList<>();
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (messages.size() < n && System.nanoTime() < deadline) {
      for (Event e : c.awaitEvents(1, Duration.ofMillis(200), null)) {
        if (e.hasMessagePosted()) {
          messages.add(e);
        }
      }
    }
    return messages;
  }

  @Test
  void groupOfFiftyMembersOnHundredConnectionsReceivesEveryMessageInOrder() throws Exception {
    int members = 50;
    int messages = 20;
    List<String> users = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      users.add(unique("m" + i));
    }
    List<WsTestClient> clients = new ArrayList<>();
    try {
      for (String u : users) {
        clients.add(login(u, "phone"));
        clients.add(login(u, "laptop"));
      }
      WsTestClient owner = clients.get(0);
      ServerFrame created =
          owner.call(
              f ->
                  f.setCreateGroup(
                      CreateGroup.newBuilder().addAllMemberIds(users.subList(1, members))));
      assertThat(created.hasConversation()).as("%s", created).isTrue();
      String convId = created.getConversation().getConversation().getId();
      long firstMessageSeq = 0;
      for (int i = 0; i < messages; i++) {
        WsTestClient sender = clients.get((i * 7) % clients.size());
        ServerFrame ack = sendText(sender, convId, "msg " + i);
        assertThat(ack.hasSendResult()).as("%s", ack).isTrue();
        if (i == 0) {
          firstMessageSeq = ack.getSendResult().getSeq();
        }
      }
      for (WsTestClient c : clients) {
        List<Event> got = awaitMessages(c, messages);
        assertThat(got).extracting(ChatScenariosIT::text).hasSize(messages);
        for (int i = 0; i < messages; i++) {
          assertThat(got.get(i).getSeq()).isEqualTo(firstMessageSeq + i);
          assertThat(text(got.get(i))).isEqualTo("msg " + i);
        }
      }
    } finally {
      clients.forEach(WsTestClient::close);
    }
  }

  @Test
  void offlineDeviceSyncsExactlyWhatItMissed() throws Exception {
    String alice = unique("alice");
    String bob = unique("bob");
    String convId;
    String cursor;
    try (WsTestClient b = login(bob, "phone")) {
      ServerFrame first = b.call(f -> f.setSync(Sync.newBuilder()));
      assertThat(first.hasSyncResult()).as("%s", first).isTrue();
      cursor = drainSync(b, first).cursor();
    }
    try (WsTestClient a = login(alice, "phone")) {
      convId =
          a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)))
              .getConversation()
              .getConversation()
              .getId();
      for (int i = 0; i < 30; i++) {
        assertThat(sendText(a, convId, "offline " + i).hasSendResult()).isTrue();
      }
    }
    try (WsTestClient b = login(bob, "phone")) {
      String c0 = cursor;
      SyncOutcome out = drainSync(b, b.call(f -> f.setSync(Sync.newBuilder().setCursor(c0).setLimit(7))));
      List<Event> events = out.eventsByConversation().get(convId);
      assertThat(events).isNotNull();
      List<String> texts = new ArrayList<>();
      for (Event e : events) {
        if (e.hasMessagePosted()) {
          texts.add(text(e));
        }
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        expected.add("offline " + i);
      }
      assertThat(texts).containsExactlyElementsOf(expected);
      assertGapless(events);
    }
  }

  record SyncOutcome(String cursor, Map<String, List<Event>> eventsByConversation) {}

  /** Follows sync pages until complete, collecting events per conversation. */
  static SyncOutcome drainSync(WsTestClient c, ServerFrame firstPage) {
    Map<String, List<Event>> byConv = new HashMap<>();
    ServerFrame page = firstPage;
    for (int guard = 0; guard < 1000; guard++) {
      assertThat(page.hasSyncResult()).as("%s", page).isTrue();
      SyncResult r = page.getSyncResult();
      for (ConversationDelta d : r.getDeltasList()) {
        byConv
            .computeIfAbsent(d.getConversation().getId(), k -> new ArrayList<>())
            .addAll(d.getEventsList());
      }
      if (r.getComplete()) {
        return new SyncOutcome(r.getCursor(), byConv);
      }
      String next = r.getCursor();
      page = c.call(f -> f.setSync(Sync.newBuilder().setCursor(next).setLimit(7)));
    }
    throw new AssertionError("sync never completed");
  }

  static void assertGapless(List<Event> events) {
    for (int i = 1; i < events.size(); i++) {
      assertThat(events.get(i).getSeq()).isEqualTo(events.get(i - 1).getSeq() + 1);
    }
  }

  @Test
  void resendWithSameClientMsgIdReturnsOriginalSeqAcrossReconnect() {
    String alice = unique("alice");
    String bob = unique("bob");
    register(bob);
    String convId;
    SendMessage msg;
    long seq;
    try (WsTestClient a = login(alice, "phone")) {
      convId =
          a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)))
              .getConversation()
              .getConversation()
              .getId();
      msg =
          SendMessage.newBuilder()
              .setConversationId(convId)
              .setClientMsgId("fixed-id-1")
              .setContentType("text/plain")
              .setBody(ByteString.copyFromUtf8("once"))
              .build();
      ServerFrame first = a.call(f -> f.setSendMessage(msg));
      seq = first.getSendResult().getSeq();
      ServerFrame second = a.call(f -> f.setSendMessage(msg));
      assertThat(second.getSendResult().getSeq()).isEqualTo(seq);
      assertThat(second.getSendResult().getDuplicate()).isTrue();
      assertThat(second.getSendResult().getMessageId())
          .isEqualTo(first.getSendResult().getMessageId());
    }
    try (WsTestClient a = login(alice, "tablet")) {
      ServerFrame third = a.call(f -> f.setSendMessage(msg));
      assertThat(third.getSendResult().getSeq()).isEqualTo(seq);
      ServerFrame history =
          a.call(
              f ->
                  f.setGetHistory(
                      GetHistory.newBuilder()
                          .setConversationId(convId)
                          .setDirection(Direction.DIRECTION_FORWARD)
                          .setLimit(100)));
      assertThat(history.getHistory().getEventsList())
          .filteredOn(Event::hasMessagePosted)
          .hasSize(1);
    }
  }

  @Test
  void nonMemberGetsSameNotFoundForExistingAndMissingConversations() {
    String alice = unique("alice");
    String bob = unique("bob");
    String eve = unique("eve");
    register(bob);
    try (WsTestClient a = login(alice, "phone");
        WsTestClient e = login(eve, "phone")) {
      String convId =
          a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)))
              .getConversation()
              .getConversation()
              .getId();
      sendText(a, convId, "secret");
      ServerFrame onExisting = sendText(e, convId, "let me in");
      ServerFrame onMissing = sendText(e, "grp_does_not_exist", "hello?");
      assertThat(onExisting.getError().getCode()).isEqualTo(ErrorCode.NOT_FOUND);
      assertThat(onMissing.getError().getCode()).isEqualTo(ErrorCode.NOT_FOUND);
      assertThat(onExisting.getError().getMessage()).isEqualTo(onMissing.getError().getMessage());

      ServerFrame history =
          e.call(f -> f.setGetHistory(GetHistory.newBuilder().setConversationId(convId)));
      assertThat(history.getError().getCode()).isEqualTo(ErrorCode.NOT_FOUND);
      ServerFrame add =
          e.call(
              f ->
                  f.setAddMembers(
                      AddMembers.newBuilder().setConversationId(convId).addUserIds(eve)));
      assertThat(add.getError().getCode()).isEqualTo(ErrorCode.NOT_FOUND);
      assertThat(e.drainPushes()).noneMatch(p -> p.hasEvent() || p.hasEventBatch());
    }
  }

  @Test
  void malformedAndOversizedFramesGetTypedErrorsWhileOthersAreUnaffected() throws Exception {
    String alice = unique("alice");
    String bob = unique("bob");
    try (WsTestClient a = login(alice, "phone");
        WsTestClient b = login(bob, "phone");
        WsTestClient bad = login(unique("mallory"), "phone")) {
      String convId =
          a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)))
              .getConversation()
              .getConversation()
              .getId();
      bad.sendBinary(new byte[] {(byte) 0xff, (byte) 0xff, 0x01, 0x02, 0x7f});
      ServerFrame err = bad.nextPush(WAIT);
      assertThat(err).isNotNull();
      assertThat(err.getError().getCode()).isEqualTo(ErrorCode.BAD_REQUEST);

      ServerFrame tooBig =
          a.call(
              f ->
                  f.setSendMessage(
                      SendMessage.newBuilder()
                          .setConversationId(convId)
                          .setClientMsgId("big")
                          .setBody(ByteString.copyFrom(new byte[65 * 1024]))));
      assertThat(tooBig.getError().getCode()).isEqualTo(ErrorCode.TOO_LARGE);

      ServerFrame ok = sendText(a, convId, "still fine");
      assertThat(ok.hasSendResult()).isTrue();
      assertThat(awaitMessages(b, 1)).extracting(ChatScenariosIT::text).containsExactly("still fine");
      // The misbehaving connection itself still serves valid requests.
      assertThat(bad.call(f -> f.setPing(io.parley.protocol.v1.Ping.newBuilder())).hasPong()).isTrue();
    }
  }

  @Test
  void jsonSubprotocolSpeaksTheSameProtocol() throws Exception {
    String alice = unique("alice");
    String bob = unique("bob");
    try (WsTestClient a =
            WsTestClient.connect(server.port(), WsTestClient.JSON, Map.of());
        WsTestClient b = login(bob, "phone")) {
      ServerFrame auth =
          a.call(
              f ->
                  f.setAuthenticate(
                      io.parley.protocol.v1.Authenticate.newBuilder()
                          .setToken(server.token(alice))
                          .setDeviceId("web")));
      assertThat(auth.getAuthenticated().getUserId()).isEqualTo(alice);
      String convId =
          a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)))
              .getConversation()
              .getConversation()
              .getId();
      assertThat(sendText(a, convId, "over json").hasSendResult()).isTrue();
      assertThat(awaitMessages(b, 1)).extracting(ChatScenariosIT::text).containsExactly("over json");
    }
  }

  @Test
  void syncToLiveSeamHasNoGapAndNoDuplicateUnderConcurrentSenders() throws Exception {
    int senders = 3;
    int perSender = 40;
    String reader = unique("reader");
    List<String> senderIds = new ArrayList<>();
    for (int i = 0; i < senders; i++) {
      senderIds.add(unique("sender" + i));
    }
    List<WsTestClient> senderClients = new ArrayList<>();
    try {
      String cursor;
      try (WsTestClient r = login(reader, "phone")) {
        cursor = drainSync(r, r.call(f -> f.setSync(Sync.newBuilder()))).cursor();
      }
      WsTestClient owner = login(senderIds.get(0), "phone");
      senderClients.add(owner);
      for (int i = 1; i < senders; i++) {
        senderClients.add(login(senderIds.get(i), "phone"));
      }
      List<String> members = new ArrayList<>(senderIds.subList(1, senders));
      members.add(reader);
      String convId =
          owner
              .call(f -> f.setCreateGroup(CreateGroup.newBuilder().addAllMemberIds(members)))
              .getConversation()
              .getConversation()
              .getId();
      // Some messages while the reader is offline.
      for (int i = 0; i < 10; i++) {
        sendText(owner, convId, "before " + i);
      }
      AtomicInteger acked = new AtomicInteger();
      List<CompletableFuture<Void>> running = new ArrayList<>();
      // sync_first: the server holds live events back until the sync is complete, so the device
      // receives its missed events and the live stream as one ordered sequence.
      try (WsTestClient r = WsTestClient.connect(server.port())) {
        ServerFrame auth =
            r.call(
                f ->
                    f.setAuthenticate(
                        io.parley.protocol.v1.Authenticate.newBuilder()
                            .setToken(server.token(reader))
                            .setDeviceId("phone")
                            .setSyncFirst(true)));
        assertThat(auth.hasAuthenticated()).as("%s", auth).isTrue();
        for (WsTestClient s : senderClients) {
          running.add(
              CompletableFuture.runAsync(
                  () -> {
                    for (int i = 0; i < perSender; i++) {
                      if (sendText(s, convId, "during").hasSendResult()) {
                        acked.incrementAndGet();
                      }
                    }
                  }));
        }
        String c0 = cursor;
        SyncOutcome synced =
            drainSync(r, r.call(f -> f.setSync(Sync.newBuilder().setCursor(c0).setLimit(7))));
        CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
        long lastSeq =
            owner
                .call(
                    f ->
                        f.setGetConversation(
                            io.parley.protocol.v1.GetConversation.newBuilder()
                                .setConversationId(convId)))
                .getConversation()
                .getConversation()
                .getLastSeq();
        List<Event> seen = new ArrayList<>(synced.eventsByConversation().getOrDefault(convId, List.of()));
        long have = seen.isEmpty() ? 0 : seen.get(seen.size() - 1).getSeq();
        seen.addAll(r.awaitEvents((int) (lastSeq - have), WAIT, null));
        assertThat(acked.get()).isEqualTo(senders * perSender);
        assertThat(seen).extracting(Event::getConversationId).containsOnly(convId);
        assertThat(seen.get(0).getSeq()).isEqualTo(1);
        assertGapless(seen);
        assertThat(seen.get(seen.size() - 1).getSeq()).isEqualTo(lastSeq);
        assertThat(r.awaitEvents(1, Duration.ofMillis(300), null)).isEmpty();
      }
    } finally {
      senderClients.forEach(WsTestClient::close);
    }
  }

  @Test
  void channelCursorSyncReturnsMissedChannelPosts() {
    // Covered further by the engine's own tests; here the wire shape of channel cursors.
    String owner = unique("owner");
    try (WsTestClient o = login(owner, "phone")) {
      ServerFrame ch =
          o.call(
              f ->
                  f.setCreateChannel(
                      io.parley.protocol.v1.CreateChannel.newBuilder().setPublic(true)));
      String convId = ch.getConversation().getConversation().getId();
      for (int i = 0; i < 5; i++) {
        sendText(o, convId, "post " + i);
      }
      String fan = unique("fan");
      try (WsTestClient f = login(fan, "phone")) {
        ServerFrame joined =
            f.call(
                b ->
                    b.setJoinChannel(
                        io.parley.protocol.v1.JoinChannel.newBuilder().setConversationId(convId)));
        assertThat(joined.hasConversation()).as("%s", joined).isTrue();
        ServerFrame first = f.call(b -> b.setSync(Sync.newBuilder()));
        String cursor = drainSync(f, first).cursor();
        ServerFrame page =
            f.call(
                b ->
                    b.setSync(
                        Sync.newBuilder()
                            .setCursor(cursor)
                            .addChannelCursors(
                                ConversationCursor.newBuilder()
                                    .setConversationId(convId)
                                    .setSeq(2))));
        List<Event> events = drainSync(f, page).eventsByConversation().get(convId);
        assertThat(events).isNotNull();
        assertThat(events.get(0).getSeq()).isEqualTo(3);
        assertGapless(events);
        assertThat(events).filteredOn(Event::hasMessagePosted).hasSize(5);
      }
    }
  }

  @Test
  void readReceiptsReachTheSenderAndUnreadCountsAgreeAcrossDevices() throws Exception {
    String alice = unique("alice");
    String bob = unique("bob");
    try (WsTestClient a = login(alice, "phone");
        WsTestClient bPhone = login(bob, "phone");
        WsTestClient bLaptop = login(bob, "laptop")) {
      String convId =
          a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)))
              .getConversation()
              .getConversation()
              .getId();
      long last = 0;
      for (int i = 0; i < 3; i++) {
        last = sendText(a, convId, "unread " + i).getSendResult().getSeq();
      }
      io.parley.protocol.v1.GetConversation get =
          io.parley.protocol.v1.GetConversation.newBuilder().setConversationId(convId).build();
      assertThat(bLaptop.call(f -> f.setGetConversation(get)).getConversation().getConversation().getUnreadCount())
          .isEqualTo(3);
      long readUpTo = last;
      assertThat(
              bPhone
                  .call(
                      f ->
                          f.setMarkRead(
                              io.parley.protocol.v1.MarkRead.newBuilder()
                                  .setConversationId(convId)
                                  .setSeq(readUpTo)))
                  .hasAck())
          .isTrue();
      assertThat(bLaptop.call(f -> f.setGetConversation(get)).getConversation().getConversation().getUnreadCount())
          .isZero();
      ServerFrame receipt = null;
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (receipt == null && System.nanoTime() < deadline) {
        ServerFrame p = a.nextPush(Duration.ofMillis(200));
        // Reading implies delivery: a DELIVERED notice may come first.
        if (p != null
            && p.hasReceipt()
            && p.getReceipt().getUserId().equals(bob)
            && p.getReceipt().getKind() == io.parley.protocol.v1.ReceiptKind.RECEIPT_KIND_READ) {
          receipt = p;
        }
      }
      assertThat(receipt).as("alice sees bob's read receipt").isNotNull();
      assertThat(receipt.getReceipt().getKind()).isEqualTo(io.parley.protocol.v1.ReceiptKind.RECEIPT_KIND_READ);
      assertThat(receipt.getReceipt().getSeq()).isEqualTo(readUpTo);
    }
  }

  @Test
  void metricsExposeConnectionsSendLatencyAndStoreCommits() throws Exception {
    String alice = unique("alice");
    try (WsTestClient a = login(alice, "phone")) {
      String convId =
          a.call(f -> f.setCreateGroup(CreateGroup.newBuilder()))
              .getConversation()
              .getConversation()
              .getId();
      sendText(a, convId, "measured");
      java.net.http.HttpResponse<String> r =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body())
          .contains("parley_connections")
          .contains("parley_request_seconds_bucket{kind=\"send_message\"")
          .contains("parley_store_commit_seconds_count")
          .contains("parley_store_commits_total");
    }
  }
}
