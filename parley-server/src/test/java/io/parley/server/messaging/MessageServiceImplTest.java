package io.parley.server.messaging;

import static io.parley.server.messaging.EngineFixture.await;
import static io.parley.server.messaging.EngineFixture.code;
import static io.parley.server.messaging.EngineFixture.message;
import static io.parley.server.messaging.EngineFixture.user;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.server.core.Caller;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MessageServiceImplTest {
  @TempDir Path dir;
  EngineFixture fx;
  MessageService messages;
  String group;

  @BeforeEach
  void setUp() {
    fx = new EngineFixture(dir);
    fx.users("alice", "bob", "carol", "dave");
    messages = fx.engine().messages();
    group = newGroup();
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  private String newGroup() {
    return await(
            fx.engine()
                .conversations()
                .createGroup(
                    user("alice"),
                    CreateGroup.newBuilder().addMemberIds("bob").addMemberIds("carol").build()))
        .getConversation()
        .getId();
  }

  @Test
  void sendAssignsNextSeqIdAndMonotonicTimestampAndPublishesAfterCommit() {
    SendResult a = fx.send("alice", group, "c1", "hello");
    SendResult b = fx.send("bob", group, "c2", "hi");
    assertThat(a.getSeq()).isEqualTo(5);
    assertThat(b.getSeq()).isEqualTo(6);
    assertThat(a.getMessageId()).startsWith("m_").isNotEqualTo(b.getMessageId());
    assertThat(a.getDuplicate()).isFalse();
    assertThat(b.getTimestampMs()).isGreaterThanOrEqualTo(a.getTimestampMs());
    Event stored = fx.log(group).get(4);
    assertThat(stored.getMessagePosted().getBody().toStringUtf8()).isEqualTo("hello");
    assertThat(stored.getActorUserId()).isEqualTo("alice");
    assertThat(stored.getActorDeviceId()).isEqualTo("dev-alice");
    assertThat(fx.publishedEvents(group)).isEqualTo(fx.log(group));
    assertThat(fx.store().conversation(group).orElseThrow().messageCount()).isEqualTo(2);
  }

  @Test
  void resendWithSameClientIdReturnsOriginalSequence() {
    SendResult first = fx.send("alice", group, "same", "hello");
    fx.send("bob", group, "other", "x");
    SendResult again = fx.send("alice", group, "same", "hello");
    assertThat(again.getDuplicate()).isTrue();
    assertThat(again.toBuilder().setDuplicate(false).build()).isEqualTo(first);
    assertThat(fx.log(group)).hasSize(6);
    // the same key from another user is another message
    assertThat(fx.send("bob", group, "same", "hello").getDuplicate()).isFalse();
  }

  @Test
  void resendWhileOriginalIsCommittingCompletesWithIt() {
    List<CompletableFuture<SendResult>> sends = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      sends.add(messages.send(user("alice"), message(group, "burst", "hello")));
    }
    long originals = sends.stream().map(EngineFixture::await).filter(r -> !r.getDuplicate()).count();
    assertThat(originals).isEqualTo(1);
    assertThat(sends.stream().map(f -> await(f).getSeq()).distinct()).containsExactly(5L);
    assertThat(fx.log(group)).hasSize(5);
  }

  @Test
  void resendWithSameClientIdReturnsOriginalSequenceAfterRestart() {
    SendResult first = fx.send("alice", group, "durable", "hello");
    fx.restart();
    SendResult again = fx.send("alice", group, "durable", "hello");
    assertThat(again.getDuplicate()).isTrue();
    assertThat(again.getSeq()).isEqualTo(first.getSeq());
    assertThat(again.getMessageId()).isEqualTo(first.getMessageId());
    assertThat(again.getTimestampMs()).isEqualTo(first.getTimestampMs());
    assertThat(fx.send("alice", group, "next", "more").getSeq()).isEqualTo(first.getSeq() + 1);
  }

  @Test
  void reusingClientIdForDifferentContentIsConflictBeforeAndAfterRestart() {
    fx.send("alice", group, "k", "hello");
    assertThat(code(messages.send(user("alice"), message(group, "k", "changed")))).isEqualTo(ErrorCode.CONFLICT);
    fx.restart();
    assertThat(code(fx.engine().messages().send(user("alice"), message(group, "k", "changed"))))
        .isEqualTo(ErrorCode.CONFLICT);
    assertThat(fx.log(group)).hasSize(5);
  }

  @Test
  void resendOfDeletedMessageReturnsOriginal() {
    SendResult first = fx.send("alice", group, "gone", "secret");
    await(messages.delete(user("alice"), DeleteMessage.newBuilder().setConversationId(group).setTargetSeq(first.getSeq()).build()));
    fx.restart();
    SendResult again = fx.send("alice", group, "gone", "secret");
    assertThat(again.getDuplicate()).isTrue();
    assertThat(again.getSeq()).isEqualTo(first.getSeq());
  }

  @Test
  void sendValidatesItsFields() {
    assertThat(code(messages.send(user("alice"), message(group, "", "x")))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(messages.send(user("alice"), message("", "c", "x")))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(messages.send(user("alice"), message(group, "c".repeat(129), "x")))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(messages.send(user("alice"), message(group, "c", "x".repeat(4097))))).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(code(messages.send(user("alice"), message(group, "c", "x").toBuilder().setContentType("t".repeat(129)).build())))
        .isEqualTo(ErrorCode.BAD_REQUEST);
    SendMessage.Builder many = message(group, "c", "x").toBuilder();
    for (int i = 0; i < 51; i++) {
      many.addMentions("u" + i);
    }
    assertThat(code(messages.send(user("alice"), many.build()))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(messages.send(user("alice"), message(group, "c", "x").toBuilder().setReplyToSeq(99).build())))
        .isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(messages.send(Caller.system(), message(group, "c", "x")))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(fx.send("alice", group, "c", "x".repeat(4096)).getSeq()).isEqualTo(5);
  }

  @Test
  void mentionsOfNonMembersAreDropped() {
    SendMessage m = message(group, "m", "hey").toBuilder().addMentions("bob").addMentions("dave").addMentions("bob").build();
    long seq = await(messages.send(user("alice"), m)).getSeq();
    assertThat(fx.log(group).get((int) seq - 1).getMessagePosted().getMentionsList()).containsExactly("bob");
  }

  @Test
  void onlyOwnersAndAdminsPostInChannels() {
    String channel = await(fx.engine().conversations().createChannel(user("alice"), CreateChannel.newBuilder().setPublic(true).build()))
        .getConversation().getId();
    await(fx.engine().conversations().joinChannel(user("bob"), JoinChannel.newBuilder().setConversationId(channel).build()));
    assertThat(code(messages.send(user("bob"), message(channel, "b1", "hi")))).isEqualTo(ErrorCode.FORBIDDEN);
    SendResult posted = fx.send("alice", channel, "a1", "announcement");
    // members may still react
    await(messages.addReaction(user("bob"), AddReaction.newBuilder().setConversationId(channel).setTargetSeq(posted.getSeq()).setReaction("👍").build()));
    assertThat(fx.log(channel)).hasSize(5);
  }

  @Test
  void editsDeletesAndReactionsRepeatedWithTheirKeyAppendNothingTwice() {
    long bobs = fx.send("bob", group, "b", "bob's").getSeq();
    EditMessage edit = EditMessage.newBuilder().setConversationId(group).setTargetSeq(bobs).setContentType("text/plain")
        .setBody(ByteString.copyFromUtf8("bob's, edited")).setClientMsgId("op-edit-1").build();
    SendResult first = await(messages.edit(user("bob"), edit));
    SendResult again = await(messages.edit(user("bob"), edit));
    assertThat(first.getDuplicate()).isFalse();
    assertThat(again.getDuplicate()).isTrue();
    assertThat(again.getSeq()).isEqualTo(first.getSeq());
    assertThat(again.getMessageId()).isEqualTo(first.getMessageId());

    AddReaction like = AddReaction.newBuilder().setConversationId(group).setTargetSeq(bobs).setReaction("+1")
        .setClientMsgId("op-like-1").build();
    long liked = await(messages.addReaction(user("alice"), like)).getSeq();
    assertThat(await(messages.addReaction(user("alice"), like)).getSeq()).isEqualTo(liked);

    DeleteMessage del = DeleteMessage.newBuilder().setConversationId(group).setTargetSeq(bobs).setClientMsgId("op-del-1").build();
    long deleted = await(messages.delete(user("bob"), del)).getSeq();
    // Run again (a re-executed command): the first result, not NOT_FOUND for the deleted target.
    SendResult deletedAgain = await(messages.delete(user("bob"), del));
    assertThat(deletedAgain.getSeq()).isEqualTo(deleted);
    assertThat(deletedAgain.getDuplicate()).isTrue();

    long last = fx.log(group).size();
    assertThat(fx.log(group)).filteredOn(e -> e.hasMessageEdited()).hasSize(1);
    assertThat(fx.log(group)).filteredOn(e -> e.hasReactionAdded()).hasSize(1);
    assertThat(fx.log(group)).filteredOn(e -> e.hasMessageDeleted()).hasSize(1);
    // A key used for an edit cannot be reused for a send, nor for another user's own key space.
    assertThat(code(messages.send(user("bob"), message(group, "op-edit-1", "other")))).isEqualTo(ErrorCode.CONFLICT);
    assertThat(fx.log(group)).hasSize((int) last);
  }

  @Test
  void editsOnlyBySenderDeletesBySenderOrManager() {
    long bobs = fx.send("bob", group, "b", "bob's").getSeq();
    EditMessage edit = EditMessage.newBuilder().setConversationId(group).setTargetSeq(bobs).setContentType("text/plain")
        .setBody(ByteString.copyFromUtf8("bob's, edited")).build();
    assertThat(code(messages.edit(user("carol"), edit))).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(code(messages.edit(user("alice"), edit))).isEqualTo(ErrorCode.FORBIDDEN);
    SendResult edited = await(messages.edit(user("bob"), edit));
    assertThat(edited.getSeq()).isEqualTo(bobs + 1);
    assertThat(edited.getMessageId()).isEqualTo(fx.log(group).get((int) bobs - 1).getMessagePosted().getMessageId());

    DeleteMessage del = DeleteMessage.newBuilder().setConversationId(group).setTargetSeq(bobs).build();
    assertThat(code(messages.delete(user("carol"), del))).isEqualTo(ErrorCode.FORBIDDEN);
    await(messages.delete(user("alice"), del));
    assertThat(code(messages.delete(user("bob"), del))).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(code(messages.edit(user("bob"), edit))).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(code(messages.addReaction(user("bob"), AddReaction.newBuilder().setConversationId(group).setTargetSeq(bobs).setReaction("x").build())))
        .isEqualTo(ErrorCode.NOT_FOUND);
    // targets must be messages
    assertThat(code(messages.delete(user("alice"), DeleteMessage.newBuilder().setConversationId(group).setTargetSeq(1).build())))
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(code(messages.addReaction(user("bob"), AddReaction.newBuilder().setConversationId(group).setTargetSeq(bobs + 1).setReaction("x".repeat(65)).build())))
        .isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void deletedContentDisappearsFromHistoryIncludingEdits() {
    long seq = fx.send("bob", group, "b", "secret").getSeq();
    await(messages.edit(user("bob"), EditMessage.newBuilder().setConversationId(group).setTargetSeq(seq)
        .setContentType("text/plain").setBody(ByteString.copyFromUtf8("secret v2")).build()));
    fx.send("alice", group, "a", "visible");
    await(messages.delete(user("bob"), DeleteMessage.newBuilder().setConversationId(group).setTargetSeq(seq).build()));

    HistoryPage page = await(messages.history(user("carol"), GetHistory.newBuilder().setConversationId(group).build()));
    String all = page.getEventsList().toString();
    assertThat(all).doesNotContain("secret");
    assertThat(page.getEventsList()).extracting(Event::getSeq).containsExactly(8L, 7L, 6L, 5L, 4L, 3L, 2L, 1L);
    Event tomb = page.getEvents(3);
    assertThat(tomb.getMessagePosted().getMessageId()).startsWith("m_");
    assertThat(tomb.getMessagePosted().getBody()).isEmpty();
    assertThat(tomb.getMessagePosted().getContentType()).isEmpty();
    assertThat(page.getEvents(0).getMessageDeleted().getTargetSeq()).isEqualTo(seq);
    assertThat(fx.store().event(group, seq + 1).orElseThrow().event().getMessageEdited().getBody().toStringUtf8())
        .as("edits stay stored but are redacted when read").isEqualTo("secret v2");
    assertThat(page.getEvents(2).getMessageEdited().getTargetSeq()).isEqualTo(seq);
    // the message count (and so the unread math) is unchanged by the delete
    assertThat(fx.store().conversation(group).orElseThrow().messageCount()).isEqualTo(2);
  }

  @Test
  void historyPagesBackwardAndForward() {
    for (int i = 1; i <= 30; i++) {
      fx.send(i % 2 == 0 ? "alice" : "bob", group, "c" + i, "m" + i);
    }
    long last = 34;
    List<Long> backward = new ArrayList<>();
    long from = 0;
    boolean more = true;
    while (more) {
      HistoryPage p = await(messages.history(user("carol"),
          GetHistory.newBuilder().setConversationId(group).setFromSeq(from).setLimit(7).build()));
      assertThat(p.getEventsCount()).isLessThanOrEqualTo(7);
      p.getEventsList().forEach(e -> backward.add(e.getSeq()));
      more = p.getHasMore();
      from = p.getEvents(p.getEventsCount() - 1).getSeq();
    }
    List<Long> expectedDesc = new ArrayList<>();
    for (long s = last; s >= 1; s--) {
      expectedDesc.add(s);
    }
    assertThat(backward).isEqualTo(expectedDesc);

    List<Long> forward = new ArrayList<>();
    from = 0;
    more = true;
    while (more) {
      HistoryPage p = await(messages.history(user("carol"),
          GetHistory.newBuilder().setConversationId(group).setFromSeq(from).setDirection(Direction.DIRECTION_FORWARD).setLimit(100).build()));
      assertThat(p.getEventsCount()).isLessThanOrEqualTo(EngineFixture.LIMITS.maxHistoryPage());
      p.getEventsList().forEach(e -> forward.add(e.getSeq()));
      more = p.getHasMore();
      from = p.getEvents(p.getEventsCount() - 1).getSeq();
    }
    assertThat(forward).hasSize(34).isSorted().doesNotHaveDuplicates();
    assertThat(forward.get(0)).isEqualTo(1);

    HistoryPage middle = await(messages.history(user("carol"),
        GetHistory.newBuilder().setConversationId(group).setFromSeq(10).setDirection(Direction.DIRECTION_BACKWARD).setLimit(3).build()));
    assertThat(middle.getEventsList()).extracting(Event::getSeq).containsExactly(9L, 8L, 7L);
    assertThat(middle.getHasMore()).isTrue();
    HistoryPage end = await(messages.history(user("carol"),
        GetHistory.newBuilder().setConversationId(group).setFromSeq(last).setDirection(Direction.DIRECTION_FORWARD).build()));
    assertThat(end.getEventsList()).isEmpty();
    assertThat(end.getHasMore()).isFalse();
    assertThat(code(messages.history(user("dave"), GetHistory.newBuilder().setConversationId(group).build())))
        .isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void bodiesAreOpaqueBytes() {
    byte[] raw = {0, (byte) 0xff, 0x10, (byte) 0x80};
    SendMessage m = SendMessage.newBuilder().setConversationId(group).setClientMsgId("bin")
        .setContentType("application/x-parley-e2ee").setBody(ByteString.copyFrom(raw)).build();
    long seq = await(messages.send(user("alice"), m)).getSeq();
    assertThat(fx.log(group).get((int) seq - 1).getMessagePosted().getBody().toByteArray()).isEqualTo(raw);
    assertThat(new String(raw, StandardCharsets.ISO_8859_1)).hasSize(4);
  }
}
