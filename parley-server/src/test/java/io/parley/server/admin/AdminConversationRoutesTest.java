package io.parley.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.ListConversations;
import io.parley.protocol.v1.ListMembers;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.RemoveMember;
import io.parley.server.core.Caller;
import io.parley.server.gateway.http.HttpReply;
import org.junit.jupiter.api.Test;

class AdminConversationRoutesTest {
  private final AdminHarness h = new AdminHarness();
  private final RecordingServices s = h.services;

  @Test
  void directConversationOpensAsTheCreatorWithThePeer() {
    HttpReply reply =
        h.call(
            "POST",
            "/v1/admin/conversations",
            "{\"kind\":\"direct\",\"creator\":\"alice\",\"members\":[\"bob\"]}");
    assertThat(reply.status()).isEqualTo(201);
    JsonNode body = AdminHarness.json(reply);
    assertThat(body.get("created").asBoolean()).isTrue();
    assertThat(body.get("conversation").get("kind").asText()).isEqualTo("CONVERSATION_KIND_DIRECT");
    assertThat(body.get("conversation").get("peerUserId").asText()).isEqualTo("bob");
    assertThat(s.onlyCall().method()).isEqualTo("openDirect");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.adminAs("alice"));
    assertThat(s.onlyCall().request()).isEqualTo(OpenDirect.newBuilder().setUserId("bob").build());
  }

  @Test
  void reopeningAnExistingDirectConversationAnswers200() {
    s.directCreated = false;
    HttpReply reply =
        h.call(
            "POST",
            "/v1/admin/conversations",
            "{\"kind\":\"direct\",\"creator\":\"alice\",\"members\":[\"bob\"]}");
    assertThat(reply.status()).isEqualTo(200);
    assertThat(AdminHarness.json(reply).has("created")).isFalse();
  }

  @Test
  void groupIsCreatedAsTheCreatorWithMembersAndMetadata() {
    HttpReply reply =
        h.call(
            "POST",
            "/v1/admin/conversations",
            "{\"kind\":\"group\",\"creator\":\"alice\",\"members\":[\"bob\",\"carol\"],"
                + "\"title\":\"Team\",\"description\":\"Our team\"}");
    assertThat(reply.status()).isEqualTo(201);
    assertThat(AdminHarness.json(reply).get("conversation").get("id").asText()).isEqualTo("grp_1");
    assertThat(AdminHarness.json(reply).get("conversation").get("lastSeq").asText()).isEqualTo("7");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.adminAs("alice"));
    assertThat(s.onlyCall().request())
        .isEqualTo(
            CreateGroup.newBuilder()
                .setMetadata(
                    ConversationMetadata.newBuilder().setTitle("Team").setDescription("Our team"))
                .addMemberIds("bob")
                .addMemberIds("carol")
                .build());
  }

  @Test
  void channelIsCreatedAsTheCreatorWithThePublicFlag() {
    HttpReply reply =
        h.call(
            "POST",
            "/v1/admin/conversations",
            "{\"kind\":\"channel\",\"creator\":\"alice\",\"title\":\"News\",\"public\":true}");
    assertThat(reply.status()).isEqualTo(201);
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.adminAs("alice"));
    assertThat(s.onlyCall().request())
        .isEqualTo(
            CreateChannel.newBuilder()
                .setMetadata(ConversationMetadata.newBuilder().setTitle("News"))
                .setPublic(true)
                .build());
  }

  @Test
  void getConversationRunsAsSystem() {
    HttpReply reply = h.call("GET", "/v1/admin/conversations/grp_1", "");
    assertThat(reply.status()).isEqualTo(200);
    assertThat(AdminHarness.json(reply).get("conversation").get("memberCount").asInt())
        .isEqualTo(3);
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.system());
    assertThat(s.onlyCall().request())
        .isEqualTo(GetConversation.newBuilder().setConversationId("grp_1").build());
  }

  @Test
  void listingAUsersConversationsRunsAsThatUser() {
    HttpReply reply = h.call("GET", "/v1/admin/users/bob/conversations?page_token=p1&limit=20", "");
    JsonNode body = AdminHarness.json(reply);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(body.get("conversations")).hasSize(1);
    assertThat(body.get("nextPageToken").asText()).isEqualTo("next-page");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.adminAs("bob"));
    assertThat(s.onlyCall().request())
        .isEqualTo(ListConversations.newBuilder().setPageToken("p1").setLimit(20).build());
  }

  @Test
  void listingWithoutPagingParametersUsesServiceDefaults() {
    h.call("GET", "/v1/admin/users/bob/conversations", "");
    assertThat(s.onlyCall().request()).isEqualTo(ListConversations.getDefaultInstance());
  }

  @Test
  void listMembersRunsAsSystem() {
    HttpReply reply = h.call("GET", "/v1/admin/conversations/grp_1/members?limit=5", "");
    JsonNode member = AdminHarness.json(reply).get("members").get(0);
    assertThat(member.get("userId").asText()).isEqualTo("alice");
    assertThat(member.get("role").asText()).isEqualTo("ROLE_OWNER");
    assertThat(member.get("joinedAtMs").asText()).isEqualTo("1700000000000");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.system());
    assertThat(s.onlyCall().request())
        .isEqualTo(ListMembers.newBuilder().setConversationId("grp_1").setLimit(5).build());
  }

  @Test
  void addMembersRunsAsSystemByDefault() {
    HttpReply reply =
        h.call(
            "POST", "/v1/admin/conversations/grp_1/members", "{\"user_ids\":[\"dave\",\"erin\"]}");
    assertThat(reply.status()).isEqualTo(200);
    assertThat(AdminHarness.text(reply)).isEqualTo("{}");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.system());
    assertThat(s.onlyCall().request())
        .isEqualTo(
            AddMembers.newBuilder()
                .setConversationId("grp_1")
                .addUserIds("dave")
                .addUserIds("erin")
                .build());
  }

  @Test
  void addMembersAsAUserRunsAsThatUser() {
    h.call(
        "POST",
        "/v1/admin/conversations/grp_1/members",
        "{\"user_ids\":[\"dave\"],\"as_user\":\"alice\"}");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.adminAs("alice"));
  }

  @Test
  void removeMemberTakesBothPathParameters() {
    HttpReply reply = h.call("DELETE", "/v1/admin/conversations/grp_1/members/bob", "");
    assertThat(reply.status()).isEqualTo(200);
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.system());
    assertThat(s.onlyCall().request())
        .isEqualTo(RemoveMember.newBuilder().setConversationId("grp_1").setUserId("bob").build());
  }

  @Test
  void removeMemberAsAUserRunsAsThatUser() {
    h.call("DELETE", "/v1/admin/conversations/grp_1/members/bob?as_user=alice", "");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.adminAs("alice"));
  }

  @Test
  void serviceErrorsAreMapped() {
    s.failNextWith(RecordingServices.error(ErrorCode.LIMIT_EXCEEDED));
    HttpReply reply =
        h.call("POST", "/v1/admin/conversations/grp_1/members", "{\"user_ids\":[\"dave\"]}");
    assertThat(reply.status()).isEqualTo(422);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("LIMIT_EXCEEDED");
  }
}
