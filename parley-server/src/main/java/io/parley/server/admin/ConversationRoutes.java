package io.parley.server.admin;

import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.ListConversations;
import io.parley.protocol.v1.ListMembers;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.RemoveMember;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.http.HttpReply;
import io.parley.server.messaging.ConversationService;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The conversation routes of the admin API: create a direct conversation, group or channel on
 * behalf of a creator, read a conversation, list a user's conversations, and list, add and remove
 * members. Reads that belong to no user run as {@link Caller#system()}; actions on behalf of a user
 * run as {@link Caller#adminAs}. Stateless apart from its collaborators; thread-safe.
 */
final class ConversationRoutes {
  /** Largest page a list route asks for; absent means the service's default. */
  static final int MAX_PAGE_LIMIT = 1000;

  private final ConversationService conversations;
  private final AdminJson json;

  ConversationRoutes(ConversationService conversations, AdminJson json) {
    this.conversations = Objects.requireNonNull(conversations, "conversations");
    this.json = Objects.requireNonNull(json, "json");
  }

  void register(PathRouter<AdminHandler> router) {
    router
        .add("POST", "/v1/admin/conversations", this::create)
        .add("GET", "/v1/admin/conversations/{id}", this::get)
        .add("GET", "/v1/admin/users/{id}/conversations", this::listForUser)
        .add("GET", "/v1/admin/conversations/{id}/members", this::listMembers)
        .add("POST", "/v1/admin/conversations/{id}/members", this::addMembers)
        .add("DELETE", "/v1/admin/conversations/{id}/members/{userId}", this::removeMember);
  }

  private CompletableFuture<HttpReply> create(AdminRequest r) {
    AdminBodies.CreateConversation body =
        json.readBody(r.call().body(), AdminBodies.CreateConversation.class, false);
    String kind = Fields.required(body.kind(), "kind");
    Caller creator = Caller.adminAs(Fields.required(body.creator(), "creator"));
    List<String> members = Fields.userIds(body.members(), "members");
    switch (kind) {
      case "direct":
        if (members.size() != 1) {
          throw ParleyException.badRequest(
              "a direct conversation needs exactly one entry in \"members\" (the peer)");
        }
        if (body.title() != null || body.description() != null || body.isPublic() != null) {
          throw ParleyException.badRequest(
              "a direct conversation takes no \"title\", \"description\" or \"public\"");
        }
        return conversations
            .openDirect(creator, OpenDirect.newBuilder().setUserId(members.get(0)).build())
            .thenApply(c -> json.proto(c.getCreated() ? 201 : 200, c));
      case "group":
        if (body.isPublic() != null) {
          throw ParleyException.badRequest("only channels take \"public\"");
        }
        return conversations
            .createGroup(
                creator,
                CreateGroup.newBuilder()
                    .setMetadata(metadata(body))
                    .addAllMemberIds(members)
                    .build())
            .thenApply(c -> json.proto(201, c));
      case "channel":
        if (!members.isEmpty()) {
          throw ParleyException.badRequest(
              "a channel takes no initial \"members\"; add them with"
                  + " POST /v1/admin/conversations/{id}/members");
        }
        return conversations
            .createChannel(
                creator,
                CreateChannel.newBuilder()
                    .setMetadata(metadata(body))
                    .setPublic(Boolean.TRUE.equals(body.isPublic()))
                    .build())
            .thenApply(c -> json.proto(201, c));
      default:
        throw ParleyException.badRequest(
            "field \"kind\" must be one of direct, group, channel; got \""
                + AdminRequest.abbreviate(kind)
                + "\"");
    }
  }

  private CompletableFuture<HttpReply> get(AdminRequest r) {
    return conversations
        .getConversation(
            Caller.system(), GetConversation.newBuilder().setConversationId(r.param("id")).build())
        .thenApply(c -> json.proto(200, c));
  }

  private CompletableFuture<HttpReply> listForUser(AdminRequest r) {
    ListConversations.Builder req =
        ListConversations.newBuilder().setLimit(r.intQuery("limit", 0, 1, MAX_PAGE_LIMIT));
    String pageToken = r.query("page_token");
    if (pageToken != null) {
      req.setPageToken(pageToken);
    }
    return conversations
        .listConversations(Caller.adminAs(r.param("id")), req.build())
        .thenApply(list -> json.proto(200, list));
  }

  private CompletableFuture<HttpReply> listMembers(AdminRequest r) {
    ListMembers.Builder req =
        ListMembers.newBuilder()
            .setConversationId(r.param("id"))
            .setLimit(r.intQuery("limit", 0, 1, MAX_PAGE_LIMIT));
    String pageToken = r.query("page_token");
    if (pageToken != null) {
      req.setPageToken(pageToken);
    }
    return conversations
        .listMembers(Caller.system(), req.build())
        .thenApply(list -> json.proto(200, list));
  }

  private CompletableFuture<HttpReply> addMembers(AdminRequest r) {
    AdminBodies.AddMembers body =
        json.readBody(r.call().body(), AdminBodies.AddMembers.class, false);
    List<String> userIds = Fields.userIds(body.userIds(), "user_ids");
    if (userIds.isEmpty()) {
      throw ParleyException.badRequest("field \"user_ids\" must list at least one user");
    }
    Caller caller = actingAs(Fields.optionalNonBlank(body.asUser(), "as_user"));
    return conversations
        .addMembers(
            caller,
            AddMembers.newBuilder().setConversationId(r.param("id")).addAllUserIds(userIds).build())
        .thenApply(ack -> json.proto(200, ack));
  }

  private CompletableFuture<HttpReply> removeMember(AdminRequest r) {
    Caller caller = actingAs(r.query("as_user"));
    return conversations
        .removeMember(
            caller,
            RemoveMember.newBuilder()
                .setConversationId(r.param("id"))
                .setUserId(r.param("userId"))
                .build())
        .thenApply(ack -> json.proto(200, ack));
  }

  /** The admin acting as a user when one is named, otherwise the system. */
  static Caller actingAs(String asUser) {
    return asUser == null ? Caller.system() : Caller.adminAs(asUser);
  }

  private static ConversationMetadata metadata(AdminBodies.CreateConversation body) {
    return ConversationMetadata.newBuilder()
        .setTitle(Fields.orEmpty(body.title()))
        .setDescription(Fields.orEmpty(body.description()))
        .build();
  }
}
