package io.parley.server.delivery;

import static io.parley.server.messaging.EngineFixture.await;
import static io.parley.server.messaging.EngineFixture.code;
import static io.parley.server.messaging.EngineFixture.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationCursor;
import io.parley.protocol.v1.ConversationDelta;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.GetReceipts;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.LeaveConversation;
import io.parley.protocol.v1.MarkDelivered;
import io.parley.protocol.v1.MarkRead;
import io.parley.protocol.v1.Receipt;
import io.parley.protocol.v1.ReceiptKind;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.server.bus.BusMessage;
import io.parley.server.messaging.EngineFixture;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeliveryServiceImplTest {
  @TempDir Path dir;
  EngineFixture fx;
  DeliveryService delivery;

  @BeforeEach
  void setUp() {
    fx = new EngineFixture(dir);
    fx.users("alice", "bob", "carol", "dave");
    delivery = fx.engine().delivery();
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  private String group(ReceiptVisibility visibility, String... members) {
    return await(fx.engine().conversations().createGroup(user("alice"),
            CreateGroup.newBuilder().addAllMemberIds(List.of(members)).setReceiptVisibility(visibility).build()))
        .getConversation().getId();
  }

  private String group(String... members) {
    return group(ReceiptVisibility.RECEIPT_VISIBILITY_UNSPECIFIED, members);
  }

  private Conversation view(String userId, String id) {
    return await(fx.engine().conversations().getConversation(user(userId),
        GetConversation.newBuilder().setConversationId(id).build())).getConversation();
  }

  private void markRead(String userId, String id, long seq) {
    await(delivery.markRead(user(userId), MarkRead.newBuilder().setConversationId(id).setSeq(seq).build()));
  }

  private SyncResult sync(String userId, String cursor, int limit, ConversationCursor... channels) {
    return await(delivery.sync(user(userId),
        Sync.newBuilder().setCursor(cursor).setLimit(limit).addAllChannelCursors(List.of(channels)).build()));
  }

  /** Syncs from {@code cursor} until complete; returns the events per conversation and the cursor. */
  private Map<String, List<Long>> syncAll(String userId, String[] cursor, int limit) {
    Map<String, List<Long>> events = new LinkedHashMap<>();
    for (int pages = 0; pages < 100; pages++) {
      SyncResult r = sync(userId, cursor[0], limit);
      int n = 0;
      for (ConversationDelta d : r.getDeltasList()) {
        for (Event e : d.getEventsList()) {
          events.computeIfAbsent(d.getConversation().getId(), k -> new ArrayList<>()).add(e.getSeq());
          n++;
        }
      }
      assertThat(n).isLessThanOrEqualTo(limit);
      cursor[0] = r.getCursor();
      if (r.getComplete()) {
        return events;
      }
    }
    throw new AssertionError("sync never completed");
  }

  @Test
  void unreadCountsAreExactAcrossMarkReadAndOwnMessages() {
    String id = group("bob", "carol");
    assertThat(view("alice", id).getUnreadCount()).isZero();
    fx.send("bob", id, "b1", "1");
    long b2 = fx.send("bob", id, "b2", "2").getSeq();
    fx.send("bob", id, "b3", "3");
    assertThat(view("alice", id).getUnreadCount()).isEqualTo(3);
    assertThat(view("bob", id).getUnreadCount()).isZero();

    markRead("alice", id, b2);
    assertThat(view("alice", id).getUnreadCount()).isEqualTo(1);
    assertThat(view("alice", id).getReadSeq()).isEqualTo(b2);

    long own = fx.send("alice", id, "a1", "mine").getSeq();
    assertThat(view("alice", id).getUnreadCount()).isZero();
    assertThat(view("alice", id).getReadSeq()).isEqualTo(own);
    assertThat(view("bob", id).getUnreadCount()).as("alice's message is unread for bob").isEqualTo(1);

    fx.send("bob", id, "b4", "4");
    long last = fx.send("bob", id, "b5", "5").getSeq();
    assertThat(view("alice", id).getUnreadCount()).isEqualTo(2);
    assertThat(view("carol", id).getUnreadCount()).isEqualTo(6);
    assertThat(view("bob", id).getUnreadCount()).as("posting reads everything before").isZero();

    markRead("alice", id, 1_000);
    assertThat(view("alice", id).getReadSeq()).isEqualTo(last);
    assertThat(view("alice", id).getUnreadCount()).isZero();
    markRead("alice", id, 2);
    assertThat(view("alice", id).getReadSeq()).as("read positions never move back").isEqualTo(last);

    await(fx.engine().conversations().addMembers(user("alice"),
        AddMembers.newBuilder().setConversationId(id).addUserIds("dave").build()));
    assertThat(view("dave", id).getUnreadCount()).as("history before joining is not unread").isZero();
    fx.send("bob", id, "b6", "6");
    assertThat(view("dave", id).getUnreadCount()).isEqualTo(1);
    assertThat(view("dave", id).getLastMessage().getMessagePosted().getBody().toStringUtf8()).isEqualTo("6");
  }

  @Test
  void readReceiptsArePublishedToMembersOrOnlyToTheReaderWhenPrivate() {
    String open = group("bob", "carol");
    long s = fx.send("bob", open, "b1", "x").getSeq();
    fx.published.clear();
    markRead("alice", open, s);
    assertThat(fx.published).hasSize(2);
    BusMessage.Receipt read = (BusMessage.Receipt) fx.published.get(1);
    assertThat(read.kind()).isEqualTo(ReceiptKind.RECEIPT_KIND_READ);
    assertThat(read.seq()).isEqualTo(s);
    assertThat(read.recipients()).containsExactlyInAnyOrder("alice", "bob", "carol");
    List<Receipt> all = await(delivery.receipts(user("carol"), GetReceipts.newBuilder().setConversationId(open).build())).getReceiptsList();
    assertThat(all).extracting(Receipt::getUserId).containsExactlyInAnyOrder("alice", "bob", "carol");
    assertThat(all.stream().filter(r -> r.getUserId().equals("alice")).findFirst().orElseThrow().getReadSeq()).isEqualTo(s);

    String hidden = group(ReceiptVisibility.RECEIPT_VISIBILITY_NONE, "bob");
    long h = fx.send("bob", hidden, "b1", "x").getSeq();
    fx.published.clear();
    markRead("alice", hidden, h);
    assertThat(fx.published).allSatisfy(m -> assertThat(((BusMessage.Receipt) m).recipients()).containsExactly("alice"));
    assertThat(await(delivery.receipts(user("bob"), GetReceipts.newBuilder().setConversationId(hidden).build())).getReceiptsList())
        .extracting(Receipt::getUserId).containsExactly("bob");
  }

  @Test
  void deliveredPositionMovesForwardOnly() {
    String id = group("bob");
    long s = fx.send("bob", id, "b1", "x").getSeq();
    await(delivery.markDelivered(user("alice"), MarkDelivered.newBuilder().setConversationId(id).setSeq(s).build()));
    await(delivery.markDelivered(user("alice"), MarkDelivered.newBuilder().setConversationId(id).setSeq(1).build()));
    var r = fx.store().receipt(id, "alice").orElseThrow();
    assertThat(r.deliveredSeq()).isEqualTo(s);
    assertThat(r.readSeq()).isLessThan(s);
    assertThat(code(delivery.markDelivered(user("carol"), MarkDelivered.newBuilder().setConversationId(id).setSeq(1).build())))
        .isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void firstSyncListsEveryConversationPageByPageThenContinuesFromTheCapturedHead() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(group("bob"));
    }
    List<String> listed = new ArrayList<>();
    String cursor = "";
    SyncResult page;
    do {
      page = sync("bob", cursor, 2);
      assertThat(page.getDeltasCount()).isLessThanOrEqualTo(2);
      for (ConversationDelta d : page.getDeltasList()) {
        assertThat(d.getEventsList()).isEmpty();
        assertThat(d.getConversation().getLastSeq()).isEqualTo(3);
        listed.add(d.getConversation().getId());
      }
      cursor = page.getCursor();
      if (!page.getComplete() && listed.size() == 2) {
        // a change during the listing must show up in the following feed sync
        fx.send("alice", ids.get(0), "during", "x");
      }
    } while (cursor.startsWith("l2."));
    assertThat(listed).containsExactlyInAnyOrderElementsOf(ids).doesNotHaveDuplicates();
    assertThat(page.getComplete()).as("the feed moved during the listing").isFalse();
    String[] c = {cursor};
    assertThat(syncAll("bob", c, 10)).containsExactly(Map.entry(ids.get(0), List.of(4L)));
    assertThat(sync("bob", c[0], 10).getDeltasList()).isEmpty();
  }

  @Test
  void syncFromAnOldCursorReturnsExactlyTheMissedEventsInOrderAcrossPages() {
    String g1 = group("bob", "carol");
    String g2 = group("bob");
    String g3 = group("carol");
    String[] cursor = {""};
    syncAll("bob", cursor, 50);
    String old = cursor[0];

    Map<String, List<Long>> expected = new LinkedHashMap<>();
    for (int i = 0; i < 9; i++) {
      for (String g : List.of(g1, g2, g3)) {
        long seq = fx.send("alice", g, "m" + i, "body" + i).getSeq();
        if (!g.equals(g3)) {
          expected.computeIfAbsent(g, k -> new ArrayList<>()).add(seq);
        }
      }
    }
    String[] c = {old};
    Map<String, List<Long>> got = syncAll("bob", c, 4);
    assertThat(got).isEqualTo(expected);
    String[] again = {old};
    assertThat(syncAll("bob", again, 50)).as("the same old cursor replays the same changes").isEqualTo(expected);

    SyncResult one = sync("bob", old, 50);
    ConversationDelta d1 = one.getDeltasList().stream().filter(d -> d.getConversation().getId().equals(g1)).findFirst().orElseThrow();
    assertThat(d1.getConversation().getUnreadCount()).isEqualTo(9);
    assertThat(d1.getConversation().getMyRole()).isEqualTo(io.parley.protocol.v1.Role.ROLE_MEMBER);
    assertThat(d1.getRemoved()).isFalse();
  }

  @Test
  void leftConversationIsReportedRemovedWithEventsUpToTheLeave() {
    String g = group("bob", "carol");
    String[] cursor = {""};
    syncAll("bob", cursor, 50);
    long m = fx.send("alice", g, "a1", "before").getSeq();
    await(fx.engine().conversations().leave(user("bob"), LeaveConversation.newBuilder().setConversationId(g).build()));
    fx.send("alice", g, "a2", "after");

    SyncResult r = sync("bob", cursor[0], 50);
    assertThat(r.getComplete()).isTrue();
    assertThat(r.getDeltasList()).hasSize(1);
    ConversationDelta d = r.getDeltas(0);
    assertThat(d.getRemoved()).isTrue();
    assertThat(d.getEventsList()).extracting(Event::getSeq).containsExactly(m, m + 1);
    assertThat(d.getEvents(1).getMemberLeft().getUserId()).isEqualTo("bob");
    assertThat(d.getConversation().getId()).isEqualTo(g);
    assertThat(d.getConversation().getUnreadCount()).isZero();
  }

  @Test
  void channelCursorsReturnEventsAfterThemWithinThePageBudget() {
    String ch = await(fx.engine().conversations().createChannel(user("alice"),
        CreateChannel.newBuilder().setPublic(true).build())).getConversation().getId();
    await(fx.engine().conversations().joinChannel(user("bob"), JoinChannel.newBuilder().setConversationId(ch).build()));
    String[] cursor = {""};
    syncAll("bob", cursor, 50);
    long from = 3;
    for (int i = 0; i < 7; i++) {
      fx.send("alice", ch, "p" + i, "post" + i);
    }
    List<Long> got = new ArrayList<>();
    long channelSeq = from;
    for (int pages = 0; pages < 10; pages++) {
      SyncResult r = sync("bob", cursor[0], 3,
          ConversationCursor.newBuilder().setConversationId(ch).setSeq(channelSeq).build());
      for (ConversationDelta d : r.getDeltasList()) {
        assertThat(d.getConversation().getId()).isEqualTo(ch);
        for (Event e : d.getEventsList()) {
          got.add(e.getSeq());
          channelSeq = e.getSeq();
        }
      }
      cursor[0] = r.getCursor();
      if (r.getComplete()) {
        break;
      }
    }
    assertThat(got).containsExactly(4L, 5L, 6L, 7L, 8L, 9L, 10L);

    SyncResult stranger = sync("carol", "", 10,
        ConversationCursor.newBuilder().setConversationId(ch).setSeq(0).build());
    assertThat(stranger.getDeltasList()).allSatisfy(d -> assertThat(d.getEventsList()).isEmpty());
    SyncResult strangerFeed = sync("carol", stranger.getCursor(), 10,
        ConversationCursor.newBuilder().setConversationId(ch).setSeq(0).build());
    assertThat(strangerFeed.getDeltasList()).singleElement().satisfies(d -> {
      assertThat(d.getRemoved()).isTrue();
      assertThat(d.getEventsList()).isEmpty();
      assertThat(d.getConversation()).isEqualTo(Conversation.newBuilder().setId(ch).build());
    });
  }

  @Test
  void invalidCursorsAreBadRequests() {
    for (String bad : List.of("garbage", "f1.", "f1.-1", "f1.01", "l1.1.", "l1.1.!!", "f1.99999999999999999999", "f2.1")) {
      assertThat(code(delivery.sync(user("bob"), Sync.newBuilder().setCursor(bad).build())))
          .as(bad).isEqualTo(ErrorCode.BAD_REQUEST);
    }
    assertThat(code(delivery.sync(user("bob"), Sync.newBuilder().setCursor("f1.5").build())))
        .as("ahead of the feed").isEqualTo(ErrorCode.BAD_REQUEST);
  }
}
