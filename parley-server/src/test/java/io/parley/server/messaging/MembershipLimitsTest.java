package io.parley.server.messaging;

import static io.parley.server.messaging.EngineFixture.await;
import static io.parley.server.messaging.EngineFixture.failure;
import static io.parley.server.messaging.EngineFixture.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.LeaveConversation;
import io.parley.protocol.v1.OpenDirect;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.ParleyException;
import io.parley.server.store.rocksdb.RocksDbStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code limits.max_conversations_per_user} on every path by which a user becomes a member. */
class MembershipLimitsTest {
  private static final int MAX = 3;

  @TempDir Path dir;
  EngineFixture fx;
  io.parley.server.messaging.ConversationService conversations;

  @BeforeEach
  void setUp() {
    ParleyConfig.Limits l = EngineFixture.LIMITS;
    ParleyConfig.Limits limits =
        new ParleyConfig.Limits(
            l.maxFrameBytes(),
            l.maxMessageBytes(),
            l.maxGroupMembers(),
            l.maxHistoryPage(),
            l.maxSyncPage(),
            l.maxInflightPerConnection(),
            l.outboundBufferBytes(),
            MAX,
            l.maxConnectionsPerUser(),
            l.maxConnectionsPerIp());
    fx = new EngineFixture(dir, limits, data -> RocksDbStore.open(data, false, 64));
    fx.users("alice", "bob", "carol", "dave");
    conversations = fx.engine().conversations();
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  private String channel(String owner) {
    return await(conversations.createChannel(user(owner), CreateChannel.newBuilder().setPublic(true).build()))
        .getConversation()
        .getId();
  }

  private String group(String owner, String... members) {
    return await(
            conversations.createGroup(
                user(owner), CreateGroup.newBuilder().addAllMemberIds(List.of(members)).build()))
        .getConversation()
        .getId();
  }

  private int count(String userId) {
    return fx.store().countUserConversations(userId, 1000);
  }

  @Test
  void creatingChannelsAndGroupsStopsAtTheLimit() {
    channel("alice");
    group("alice");
    channel("alice");
    ParleyException e =
        failure(conversations.createChannel(user("alice"), CreateChannel.getDefaultInstance()));
    assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
    assertThat(e.getMessage()).contains("you belong").contains("3");
    assertThat(failure(conversations.createGroup(user("alice"), CreateGroup.getDefaultInstance())).code())
        .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
    assertThat(count("alice")).isEqualTo(MAX);
  }

  @Test
  void joiningAChannelAndOpeningADirectStopAtTheLimitButRejoiningIsFine() {
    String open = channel("bob");
    channel("alice");
    channel("alice");
    String third = channel("alice");
    assertThat(failure(conversations.joinChannel(user("alice"), JoinChannel.newBuilder().setConversationId(open).build())).code())
        .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
    assertThat(failure(conversations.openDirect(user("alice"), OpenDirect.newBuilder().setUserId("carol").build())).code())
        .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
    // The other side's limit counts too: carol cannot open a direct with alice either.
    ParleyException fromCarol =
        failure(conversations.openDirect(user("carol"), OpenDirect.newBuilder().setUserId("alice").build()));
    assertThat(fromCarol.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
    assertThat(fromCarol.getMessage()).contains("user alice belongs");
    // Joining a channel one is already in adds nothing and is not refused.
    await(conversations.joinChannel(user("alice"), JoinChannel.newBuilder().setConversationId(third).build()));

    await(conversations.leave(user("alice"), LeaveConversation.newBuilder().setConversationId(third).build()));
    await(conversations.joinChannel(user("alice"), JoinChannel.newBuilder().setConversationId(open).build()));
    assertThat(count("alice")).isEqualTo(MAX);
  }

  @Test
  void addingAMemberWhoIsAtTheLimitIsRefusedForEveryCallerAndChangesNothing() {
    channel("dave");
    channel("dave");
    channel("dave");
    String g = group("alice", "bob");
    ParleyException e =
        failure(
            conversations.addMembers(
                user("alice"),
                AddMembers.newBuilder().setConversationId(g).addUserIds("carol").addUserIds("dave").build()));
    assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
    assertThat(e.getMessage()).contains("user dave");
    assertThat(fx.store().member(g, "carol")).isEmpty();
    // Creating a group that would put dave over the limit fails as a whole.
    assertThat(failure(conversations.createGroup(user("bob"), CreateGroup.newBuilder().addMemberIds("dave").build())).code())
        .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
    assertThat(count("dave")).isEqualTo(MAX);
    assertThat(count("bob")).isEqualTo(1);
  }
}
