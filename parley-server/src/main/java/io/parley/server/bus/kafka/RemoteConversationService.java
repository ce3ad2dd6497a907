package io.parley.server.bus.kafka;

import io.parley.protocol.cluster.v1.CreateChannelArgs;
import io.parley.protocol.cluster.v1.CreateGroupArgs;
import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.ConversationList;
import io.parley.protocol.v1.ConversationResult;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.LeaveConversation;
import io.parley.protocol.v1.ListConversations;
import io.parley.protocol.v1.ListMembers;
import io.parley.protocol.v1.MemberList;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.RemoveMember;
import io.parley.protocol.v1.SetMemberRole;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.server.core.Caller;
import io.parley.server.messaging.ConversationService;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/** {@link ConversationService} run on an engine through an {@link RpcChannel}. Thread-safe. */
public final class RemoteConversationService implements ConversationService {
  private final RpcChannel rpc;

  public RemoteConversationService(RpcChannel rpc) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
  }

  @Override
  public CompletableFuture<ConversationResult> openDirect(Caller caller, OpenDirect request) {
    return rpc.call(RpcMethods.OPEN_DIRECT, caller, request);
  }

  @Override
  public CompletableFuture<ConversationResult> createGroup(
      Caller caller, String conversationId, CreateGroup request) {
    return rpc.call(
        RpcMethods.CREATE_GROUP,
        caller,
        CreateGroupArgs.newBuilder().setConversationId(conversationId).setRequest(request).build());
  }

  @Override
  public CompletableFuture<ConversationResult> createChannel(
      Caller caller, String conversationId, CreateChannel request) {
    return rpc.call(
        RpcMethods.CREATE_CHANNEL,
        caller,
        CreateChannelArgs.newBuilder()
            .setConversationId(conversationId)
            .setRequest(request)
            .build());
  }

  @Override
  public CompletableFuture<ConversationResult> getConversation(
      Caller caller, GetConversation request) {
    return rpc.call(RpcMethods.GET_CONVERSATION, caller, request);
  }

  @Override
  public CompletableFuture<ConversationList> listConversations(
      Caller caller, ListConversations request) {
    return rpc.call(RpcMethods.LIST_CONVERSATIONS, caller, request);
  }

  @Override
  public CompletableFuture<ConversationResult> joinChannel(Caller caller, JoinChannel request) {
    return rpc.call(RpcMethods.JOIN_CHANNEL, caller, request);
  }

  @Override
  public CompletableFuture<Ack> leave(Caller caller, LeaveConversation request) {
    return rpc.call(RpcMethods.LEAVE, caller, request);
  }

  @Override
  public CompletableFuture<Ack> addMembers(Caller caller, AddMembers request) {
    return rpc.call(RpcMethods.ADD_MEMBERS, caller, request);
  }

  @Override
  public CompletableFuture<Ack> removeMember(Caller caller, RemoveMember request) {
    return rpc.call(RpcMethods.REMOVE_MEMBER, caller, request);
  }

  @Override
  public CompletableFuture<Ack> setMemberRole(Caller caller, SetMemberRole request) {
    return rpc.call(RpcMethods.SET_MEMBER_ROLE, caller, request);
  }

  @Override
  public CompletableFuture<ConversationResult> updateConversation(
      Caller caller, UpdateConversation request) {
    return rpc.call(RpcMethods.UPDATE_CONVERSATION, caller, request);
  }

  @Override
  public CompletableFuture<MemberList> listMembers(Caller caller, ListMembers request) {
    return rpc.call(RpcMethods.LIST_MEMBERS, caller, request);
  }
}
