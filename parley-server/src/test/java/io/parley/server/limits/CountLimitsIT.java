package io.parley.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The stored count limits over a real in-process server: conversations per user (channels
 * included), members per group, and the history page size (clamped, not refused).
 */
class CountLimitsIT {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server =
        TestServer.start(
            Map.of(
                "PARLEY_LIMITS_MAX_CONVERSATIONS_PER_USER", "3",
                "PARLEY_LIMITS_MAX_GROUP_MEMBERS", "3",
                "PARLEY_LIMITS_MAX_HISTORY_PAGE", "4"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String unique(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static WsTestClient login(String user) {
    return WsTestClient.authenticated(server.port(), server.token(user), "phone");
  }

  private static void register(String... users) {
    for (String u : users) {
      login(u).close();
    }
  }

  private static ErrorCode errorOf(ServerFrame f) {
    return f.hasError() ? f.getError().getCode() : ErrorCode.ERROR_CODE_UNSPECIFIED;
  }

  @Test
  void aUserCannotJoinMoreThanMaxConversationsPerUserByAnyPath() {
    String alice = unique("alice");
    String bob = unique("bob");
    String carol = unique("carol");
    register(bob, carol);
    try (WsTestClient a = login(alice);
        WsTestClient b = login(bob)) {
      String bobsChannel =
          b.call(f -> f.setCreateChannel(CreateChannel.newBuilder().setPublic(true)))
              .getConversation()
              .getConversation()
              .getId();
      assertThat(a.call(f -> f.setCreateChannel(CreateChannel.getDefaultInstance())).hasConversation()).isTrue();
      assertThat(a.call(f -> f.setCreateGroup(CreateGroup.getDefaultInstance())).hasConversation()).isTrue();
      assertThat(a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(carol))).hasConversation()).isTrue();

      ServerFrame channel = a.call(f -> f.setCreateChannel(CreateChannel.getDefaultInstance()));
      assertThat(errorOf(channel)).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
      assertThat(channel.getError().getMessage()).contains("max_conversations_per_user");
      assertThat(errorOf(a.call(f -> f.setJoinChannel(JoinChannel.newBuilder().setConversationId(bobsChannel)))))
          .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
      assertThat(errorOf(a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)))))
          .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
      // Bob cannot pull alice into a fourth conversation either.
      assertThat(errorOf(b.call(f -> f.setCreateGroup(CreateGroup.newBuilder().addMemberIds(alice)))))
          .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
      assertThat(
              a.call(f -> f.setListConversations(io.parley.protocol.v1.ListConversations.getDefaultInstance()))
                  .getConversationList()
                  .getConversationsList())
          .hasSize(3);
    }
  }

  @Test
  void aGroupCannotGrowBeyondMaxGroupMembers() {
    String owner = unique("owner");
    String m1 = unique("m1");
    String m2 = unique("m2");
    String m3 = unique("m3");
    register(m1, m2, m3);
    try (WsTestClient o = login(owner)) {
      assertThat(errorOf(o.call(f -> f.setCreateGroup(CreateGroup.newBuilder().addAllMemberIds(List.of(m1, m2, m3))))))
          .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
      String group =
          o.call(f -> f.setCreateGroup(CreateGroup.newBuilder().addMemberIds(m1)))
              .getConversation()
              .getConversation()
              .getId();
      assertThat(o.call(f -> f.setAddMembers(AddMembers.newBuilder().setConversationId(group).addUserIds(m2))).hasAck())
          .isTrue();
      ServerFrame fourth =
          o.call(f -> f.setAddMembers(AddMembers.newBuilder().setConversationId(group).addUserIds(m3)));
      assertThat(errorOf(fourth)).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
      assertThat(
              o.call(f -> f.setListMembers(io.parley.protocol.v1.ListMembers.newBuilder().setConversationId(group)))
                  .getMemberList()
                  .getMembersList())
          .hasSize(3);
    }
  }

  @Test
  void historyPagesAreClampedToMaxHistoryPage() {
    try (WsTestClient a = login(unique("alice"))) {
      String group =
          a.call(f -> f.setCreateGroup(CreateGroup.getDefaultInstance()))
              .getConversation()
              .getConversation()
              .getId();
      for (int i = 0; i < 6; i++) {
        int n = i;
        assertThat(
                a.call(
                        f ->
                            f.setSendMessage(
                                SendMessage.newBuilder()
                                    .setConversationId(group)
                                    .setClientMsgId("m" + n)
                                    .setContentType("text/plain")
                                    .setBody(ByteString.copyFromUtf8("message " + n))))
                    .hasSendResult())
            .isTrue();
      }
      ServerFrame page =
          a.call(
              f ->
                  f.setGetHistory(
                      GetHistory.newBuilder()
                          .setConversationId(group)
                          .setLimit(1000)
                          .setDirection(Direction.DIRECTION_BACKWARD)));
      assertThat(page.getHistory().getEventsList()).hasSize(4);
      assertThat(page.getHistory().getHasMore()).isTrue();
    }
  }
}
