package io.parley.server.messaging;

import static io.parley.server.messaging.EngineFixture.await;
import static io.parley.server.messaging.EngineFixture.code;
import static io.parley.server.messaging.EngineFixture.failure;
import static io.parley.server.messaging.EngineFixture.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationList;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.ConversationResult;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.LeaveConversation;
import io.parley.protocol.v1.ListConversations;
import io.parley.protocol.v1.ListMembers;
import io.parley.protocol.v1.MemberList;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.RemoveMember;
import io.parley.protocol.v1.Role;
import io.parley.protocol.v1.SetMemberRole;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.server.bus.BusMessage;
import io.parley.server.core.Caller;
import io.parley.server.core.Ids;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConversationServiceImplTest {
  @TempDir Path dir;
  EngineFixture fx;
  ConversationService conversations;

  @BeforeEach
  void setUp() {
    fx = new EngineFixture(dir);
    fx.users("alice", "bob", "carol", "dave", "erin");
    conversations = fx.engine().conversations();
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  private String group(String owner, String... members) {
    return await(
            conversations.createGroup(
                user(owner),
                CreateGroup.newBuilder()
                    .setMetadata(ConversationMetadata.newBuilder().setTitle("g"))
                    .addAllMemberIds(List.of(members))
                    .build()))
        .getConversation()
        .getId();
  }

  private String channel(String owner, boolean isPublic) {
    return await(
            conversations.createChannel(
                user(owner), CreateChannel.newBuilder().setPublic(isPublic).build()))
        .getConversation()
        .getId();
  }

  private Role roleOf(String conversationId, String userId) {
    return fx.store().member(conversationId, userId).map(m -> m.role()).orElse(Role.ROLE_UNSPECIFIED);
  }

  @Test
  void aCreateRunTwiceWithItsChosenIdCreatesTheConversationOnce() {
    // What an engine does when it re-runs a cluster command after a crash.
    String groupId = Ids.timeOrdered(Ids.GROUP_PREFIX);
    CreateGroup create =
        CreateGroup.newBuilder()
            .setMetadata(ConversationMetadata.newBuilder().setTitle("trip"))
            .addMemberIds("bob")
            .build();
    ConversationResult first = await(conversations.createGroup(user("alice"), groupId, create));
    ConversationResult again = await(conversations.createGroup(user("alice"), groupId, create));

    assertThat(first.getCreated()).isTrue();
    assertThat(again.getCreated()).isFalse();
    assertThat(again.getConversation().getId()).isEqualTo(groupId);
    assertThat(again.getConversation().getMetadata().getTitle()).isEqualTo("trip");
    assertThat(fx.log(groupId)).as("created and two joins, once").hasSize(3);
    assertThat(fx.store().userConversations("alice", "", 10)).hasSize(1);

    String channelId = Ids.timeOrdered(Ids.CHANNEL_PREFIX);
    CreateChannel channel = CreateChannel.newBuilder().setPublic(true).build();
    assertThat(await(conversations.createChannel(user("bob"), channelId, channel)).getCreated())
        .isTrue();
    assertThat(await(conversations.createChannel(user("bob"), channelId, channel)).getCreated())
        .isFalse();
    assertThat(fx.log(channelId)).hasSize(2);
  }

  @Test
  void aChosenIdMustBeNewForAnyoneElseAndCarryItsKindsPrefix() {
    String groupId = Ids.timeOrdered(Ids.GROUP_PREFIX);
    await(conversations.createGroup(user("alice"), groupId, CreateGroup.getDefaultInstance()));

    assertThat(code(conversations.createGroup(user("carol"), groupId, CreateGroup.getDefaultInstance())))
        .as("someone else's group is neither returned nor revealed")
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(fx.store().userConversations("carol", "", 10)).isEmpty();
    assertThat(code(conversations.createChannel(user("alice"), groupId, CreateChannel.getDefaultInstance())))
        .as("a group's id for a channel")
        .isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(conversations.createGroup(user("alice"), Ids.GROUP_PREFIX, CreateGroup.getDefaultInstance())))
        .as("a prefix alone")
        .isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void openingDirectTwiceReturnsSameConversationCreatedOnlyOnce() {
    ConversationResult first =
        await(conversations.openDirect(user("alice"), OpenDirect.newBuilder().setUserId("bob").build()));
    ConversationResult second =
        await(conversations.openDirect(user("bob"), OpenDirect.newBuilder().setUserId("alice").build()));

    assertThat(first.getCreated()).isTrue();
    assertThat(second.getCreated()).isFalse();
    assertThat(first.getConversation().getId())
        .isEqualTo(second.getConversation().getId())
        .isEqualTo(Ids.direct("alice", "bob"));
    assertThat(first.getConversation().getPeerUserId()).isEqualTo("bob");
    assertThat(second.getConversation().getPeerUserId()).isEqualTo("alice");
    assertThat(second.getConversation().getKind()).isEqualTo(ConversationKind.CONVERSATION_KIND_DIRECT);
    assertThat(fx.log(first.getConversation().getId())).hasSize(3);
  }

  @Test
  void concurrentOpensOfOneDirectCreateItOnce() {
    var a = conversations.openDirect(user("alice"), OpenDirect.newBuilder().setUserId("bob").build());
    var b = conversations.openDirect(user("bob"), OpenDirect.newBuilder().setUserId("alice").build());
    assertThat(List.of(await(a).getCreated(), await(b).getCreated())).containsExactlyInAnyOrder(true, false);
    assertThat(fx.log(Ids.direct("alice", "bob"))).hasSize(3);
  }

  @Test
  void directWithYourselfIsBadRequestAndWithUnknownUserNotFound() {
    assertThat(code(conversations.openDirect(user("alice"), OpenDirect.newBuilder().setUserId("alice").build())))
        .isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(code(conversations.openDirect(user("alice"), OpenDirect.newBuilder().setUserId("nobody").build())))
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(code(conversations.openDirect(user("alice"), OpenDirect.newBuilder().setUserId("has space").build())))
        .isEqualTo(ErrorCode.BAD_REQUEST);
    await(fx.engine().users().setDeactivated("erin", true));
    assertThat(code(conversations.openDirect(user("alice"), OpenDirect.newBuilder().setUserId("erin").build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
  }

  @Test
  void groupCreationCommitsCreatedThenJoinsWithConsecutiveSeqsAndPublishesToAllMembers() {
    String id = group("alice", "bob", "carol", "alice");

    List<Event> log = fx.log(id);
    assertThat(log).extracting(Event::getSeq).containsExactly(1L, 2L, 3L, 4L);
    assertThat(log.get(0).hasConversationCreated()).isTrue();
    assertThat(log.subList(1, 4))
        .extracting(e -> e.getMemberJoined().getUserId() + ":" + e.getMemberJoined().getRole())
        .containsExactly("alice:ROLE_OWNER", "bob:ROLE_MEMBER", "carol:ROLE_MEMBER");
    assertThat(log).extracting(Event::getTimestampMs).containsOnly(log.get(0).getTimestampMs());
    BusMessage.CommittedEvents pub =
        (BusMessage.CommittedEvents)
            fx.published.stream()
                .filter(m -> m instanceof BusMessage.CommittedEvents c && c.conversationId().equals(id))
                .findFirst()
                .orElseThrow();
    assertThat(pub.events()).isEqualTo(log);
    assertThat(pub.recipients()).containsExactlyInAnyOrder("alice", "bob", "carol");
    Conversation view = await(conversations.getConversation(user("bob"), GetConversation.newBuilder().setConversationId(id).build())).getConversation();
    assertThat(view.getMyRole()).isEqualTo(Role.ROLE_MEMBER);
    assertThat(view.getMemberCount()).isEqualTo(3);
    assertThat(view.getLastSeq()).isEqualTo(4);
    assertThat(view.getUnreadCount()).isZero();
  }

  @Test
  void groupSizeLimitIsEnforced() {
    ErrorCode c =
        code(
            conversations.createGroup(
                user("alice"),
                CreateGroup.newBuilder()
                    .addAllMemberIds(List.of("b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"))
                    .build()));
    assertThat(c).isEqualTo(ErrorCode.LIMIT_EXCEEDED);

    fx.users("u1", "u2", "u3", "u4", "u5");
    String id = group("alice", "bob", "carol");
    assertThat(
            code(
                conversations.addMembers(
                    user("alice"),
                    AddMembers.newBuilder()
                        .setConversationId(id)
                        .addAllUserIds(List.of("dave", "u1", "u2", "u3", "u4", "u5"))
                        .build())))
        .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
    assertThat(fx.log(id)).hasSize(4);
  }

  @Test
  void nonMembersGetIdenticalNotFoundForExistingAndMissingConversations() {
    String existing = group("alice", "bob");
    String missing = "g_doesnotexist";
    Caller eve = user("carol");
    for (String id : List.of(existing, missing)) {
      List<Throwable> errors = new ArrayList<>();
      errors.add(failure(conversations.getConversation(eve, GetConversation.newBuilder().setConversationId(id).build())));
      errors.add(failure(conversations.listMembers(eve, ListMembers.newBuilder().setConversationId(id).build())));
      errors.add(failure(conversations.leave(eve, LeaveConversation.newBuilder().setConversationId(id).build())));
      errors.add(failure(conversations.addMembers(eve, AddMembers.newBuilder().setConversationId(id).addUserIds("dave").build())));
      errors.add(failure(conversations.updateConversation(eve, UpdateConversation.newBuilder().setConversationId(id).build())));
      errors.add(failure(conversations.joinChannel(eve, JoinChannel.newBuilder().setConversationId(id).build())));
      errors.add(failure(fx.engine().messages().send(eve, EngineFixture.message(id, "c1", "hi"))));
      for (Throwable t : errors) {
        assertThat(((io.parley.server.core.ParleyException) t).code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(t.getMessage()).isEqualTo(Access.CONVERSATION_NOT_FOUND);
      }
    }
  }

  @Test
  void onlyOwnersAndAdminsAddMembers() {
    String id = group("alice", "bob");
    assertThat(code(conversations.addMembers(user("bob"), AddMembers.newBuilder().setConversationId(id).addUserIds("carol").build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    await(conversations.setMemberRole(user("alice"), SetMemberRole.newBuilder().setConversationId(id).setUserId("bob").setRole(Role.ROLE_ADMIN).build()));
    await(conversations.addMembers(user("bob"), AddMembers.newBuilder().setConversationId(id).addUserIds("carol").build()));
    assertThat(roleOf(id, "carol")).isEqualTo(Role.ROLE_MEMBER);
    // adding an existing member is a no-op
    int before = fx.log(id).size();
    await(conversations.addMembers(user("alice"), AddMembers.newBuilder().setConversationId(id).addUserIds("carol").build()));
    assertThat(fx.log(id)).hasSize(before);
  }

  @Test
  void removalRulesProtectOwnersAndAdmins() {
    String id = group("alice", "bob", "carol", "dave");
    await(conversations.setMemberRole(user("alice"), SetMemberRole.newBuilder().setConversationId(id).setUserId("bob").setRole(Role.ROLE_ADMIN).build()));
    await(conversations.setMemberRole(user("alice"), SetMemberRole.newBuilder().setConversationId(id).setUserId("carol").setRole(Role.ROLE_ADMIN).build()));

    assertThat(code(conversations.removeMember(user("dave"), RemoveMember.newBuilder().setConversationId(id).setUserId("bob").build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(code(conversations.removeMember(user("bob"), RemoveMember.newBuilder().setConversationId(id).setUserId("carol").build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(code(conversations.removeMember(user("bob"), RemoveMember.newBuilder().setConversationId(id).setUserId("alice").build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(code(conversations.setMemberRole(user("bob"), SetMemberRole.newBuilder().setConversationId(id).setUserId("dave").setRole(Role.ROLE_ADMIN).build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(code(conversations.removeMember(user("bob"), RemoveMember.newBuilder().setConversationId(id).setUserId("erin").build())))
        .isEqualTo(ErrorCode.NOT_FOUND);

    await(conversations.removeMember(user("bob"), RemoveMember.newBuilder().setConversationId(id).setUserId("dave").build()));
    await(conversations.removeMember(user("alice"), RemoveMember.newBuilder().setConversationId(id).setUserId("carol").build()));
    assertThat(roleOf(id, "dave")).isEqualTo(Role.ROLE_UNSPECIFIED);
    assertThat(roleOf(id, "carol")).isEqualTo(Role.ROLE_UNSPECIFIED);

    // the removed member still receives the event that removed them
    BusMessage.CommittedEvents last =
        (BusMessage.CommittedEvents) fx.published.get(fx.published.size() - 1);
    assertThat(last.events().get(0).getMemberLeft().getUserId()).isEqualTo("carol");
    assertThat(last.recipients()).containsExactlyInAnyOrder("alice", "bob", "carol");
    assertThat(fx.store().userConversations("carol", "", 10)).isEmpty();
  }

  @Test
  void ownerTransfersOwnershipAndBecomesAdmin() {
    String id = group("alice", "bob");
    assertThat(code(conversations.setMemberRole(user("alice"), SetMemberRole.newBuilder().setConversationId(id).setUserId("alice").setRole(Role.ROLE_MEMBER).build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    await(conversations.setMemberRole(user("alice"), SetMemberRole.newBuilder().setConversationId(id).setUserId("bob").setRole(Role.ROLE_OWNER).build()));
    assertThat(roleOf(id, "bob")).isEqualTo(Role.ROLE_OWNER);
    assertThat(roleOf(id, "alice")).isEqualTo(Role.ROLE_ADMIN);
  }

  @Test
  void lastOwnerLeavingPromotesOldestAdminElseOldestMember() {
    String id = group("alice", "bob", "carol", "dave");
    await(conversations.setMemberRole(user("alice"), SetMemberRole.newBuilder().setConversationId(id).setUserId("dave").setRole(Role.ROLE_ADMIN).build()));
    await(conversations.leave(user("alice"), LeaveConversation.newBuilder().setConversationId(id).build()));
    assertThat(roleOf(id, "dave")).isEqualTo(Role.ROLE_OWNER);

    await(conversations.leave(user("dave"), LeaveConversation.newBuilder().setConversationId(id).build()));
    assertThat(roleOf(id, "bob")).isEqualTo(Role.ROLE_OWNER);
    List<Event> log = fx.log(id);
    Event lastTwo = log.get(log.size() - 2);
    assertThat(lastTwo.getMemberLeft().getUserId()).isEqualTo("dave");
    assertThat(log.get(log.size() - 1).getMemberRoleChanged().getUserId()).isEqualTo("bob");
    Conversation view = await(conversations.getConversation(user("bob"), GetConversation.newBuilder().setConversationId(id).build())).getConversation();
    assertThat(view.getMemberCount()).isEqualTo(2);
  }

  @Test
  void directConversationsCannotChangeMembership() {
    String id = await(conversations.openDirect(user("alice"), OpenDirect.newBuilder().setUserId("bob").build())).getConversation().getId();
    assertThat(code(conversations.addMembers(user("alice"), AddMembers.newBuilder().setConversationId(id).addUserIds("carol").build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(code(conversations.addMembers(Caller.adminAs("alice"), AddMembers.newBuilder().setConversationId(id).addUserIds("carol").build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(code(conversations.leave(user("alice"), LeaveConversation.newBuilder().setConversationId(id).build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(code(conversations.removeMember(user("alice"), RemoveMember.newBuilder().setConversationId(id).setUserId("bob").build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
  }

  @Test
  void publicChannelsAreJoinableAndPrivateOnesInvisible() {
    String pub = channel("alice", true);
    String priv = channel("alice", false);

    ConversationResult joined = await(conversations.joinChannel(user("bob"), JoinChannel.newBuilder().setConversationId(pub).build()));
    assertThat(joined.getConversation().getMyRole()).isEqualTo(Role.ROLE_MEMBER);
    assertThat(joined.getConversation().getMemberCount()).isEqualTo(2);
    // joining twice is idempotent
    await(conversations.joinChannel(user("bob"), JoinChannel.newBuilder().setConversationId(pub).build()));
    assertThat(fx.log(pub)).hasSize(3);

    var err = failure(conversations.joinChannel(user("bob"), JoinChannel.newBuilder().setConversationId(priv).build()));
    assertThat(err.code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(err.getMessage()).isEqualTo(Access.CONVERSATION_NOT_FOUND);
    // owners invite into private channels
    await(conversations.addMembers(user("alice"), AddMembers.newBuilder().setConversationId(priv).addUserIds("bob").build()));
    assertThat(roleOf(priv, "bob")).isEqualTo(Role.ROLE_MEMBER);

    // channel membership events go only to the subject's feed, and bus recipients are empty
    BusMessage.CommittedEvents last = (BusMessage.CommittedEvents) fx.published.get(fx.published.size() - 1);
    assertThat(last.isChannel()).isTrue();
    assertThat(last.recipients()).isEmpty();
    assertThat(fx.store().feed("alice", 0, 0, 100)).extracting(f -> f.conversationId() + "/" + f.seq())
        .containsExactlyInAnyOrder(pub + "/1", pub + "/2", priv + "/1", priv + "/2");
  }

  @Test
  void channelOwnerMustTransferBeforeLeaving() {
    String id = channel("alice", true);
    await(conversations.joinChannel(user("bob"), JoinChannel.newBuilder().setConversationId(id).build()));
    assertThat(code(conversations.leave(user("alice"), LeaveConversation.newBuilder().setConversationId(id).build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    await(conversations.setMemberRole(user("alice"), SetMemberRole.newBuilder().setConversationId(id).setUserId("bob").setRole(Role.ROLE_OWNER).build()));
    await(conversations.leave(user("alice"), LeaveConversation.newBuilder().setConversationId(id).build()));
    assertThat(roleOf(id, "alice")).isEqualTo(Role.ROLE_UNSPECIFIED);
    assertThat(roleOf(id, "bob")).isEqualTo(Role.ROLE_OWNER);
  }

  @Test
  void metadataUpdatesNeedAManagerAndAreEvents() {
    String id = group("alice", "bob");
    ConversationMetadata md = ConversationMetadata.newBuilder().setTitle("renamed").build();
    assertThat(code(conversations.updateConversation(user("bob"), UpdateConversation.newBuilder().setConversationId(id).setMetadata(md).build())))
        .isEqualTo(ErrorCode.FORBIDDEN);
    ConversationResult r = await(conversations.updateConversation(user("alice"), UpdateConversation.newBuilder().setConversationId(id).setMetadata(md).build()));
    assertThat(r.getConversation().getMetadata().getTitle()).isEqualTo("renamed");
    assertThat(fx.log(id).get(3).getConversationUpdated().getMetadata()).isEqualTo(md);
    assertThat(code(conversations.updateConversation(user("alice"), UpdateConversation.newBuilder().setConversationId(id)
        .setMetadata(ConversationMetadata.newBuilder().setTitle("x".repeat(300))).build())))
        .isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void adminCallersSkipRolesButNeedAnExistingConversation() {
    String id = group("alice", "bob");
    await(conversations.addMembers(Caller.system(), AddMembers.newBuilder().setConversationId(id).addUserIds("carol").build()));
    assertThat(roleOf(id, "carol")).isEqualTo(Role.ROLE_MEMBER);
    var err = failure(conversations.addMembers(Caller.system(), AddMembers.newBuilder().setConversationId("g_missing").addUserIds("carol").build()));
    assertThat(err.code()).isEqualTo(ErrorCode.NOT_FOUND);
    Conversation v = await(conversations.getConversation(Caller.adminAs("dave"), GetConversation.newBuilder().setConversationId(id).build())).getConversation();
    assertThat(v.getMyRole()).isEqualTo(Role.ROLE_UNSPECIFIED);
  }

  @Test
  void listsConversationsAndMembersPageByPage() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(group("alice", "bob"));
    }
    List<String> seen = new ArrayList<>();
    String token = "";
    do {
      ConversationList page = await(conversations.listConversations(user("bob"), ListConversations.newBuilder().setLimit(2).setPageToken(token).build()));
      assertThat(page.getConversationsCount()).isLessThanOrEqualTo(2);
      seen.addAll(page.getConversationsList().stream().map(Conversation::getId).collect(Collectors.toList()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(seen).containsExactlyInAnyOrderElementsOf(ids).doesNotHaveDuplicates();

    MemberList members = await(conversations.listMembers(user("bob"), ListMembers.newBuilder().setConversationId(ids.get(0)).setLimit(1).build()));
    assertThat(members.getMembersList()).extracting(m -> m.getUserId()).containsExactly("alice");
    MemberList rest = await(conversations.listMembers(user("bob"), ListMembers.newBuilder().setConversationId(ids.get(0)).setPageToken(members.getNextPageToken()).build()));
    assertThat(rest.getMembersList()).extracting(m -> m.getUserId()).containsExactly("bob");
    assertThat(rest.getNextPageToken()).isEmpty();
    assertThat(code(conversations.listConversations(user("bob"), ListConversations.newBuilder().setPageToken("!!!").build())))
        .isEqualTo(ErrorCode.BAD_REQUEST);
  }
}
