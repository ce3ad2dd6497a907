package io.parley.server.messaging;

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
import io.parley.server.core.Ids;
import java.util.concurrent.CompletableFuture;

/**
 * Conversations and membership. Every method checks the caller's membership and role; callers
 * that are not members get {@code NOT_FOUND} whether or not the conversation exists. Requests and
 * results are the protocol's messages (the same types the admin API reads from JSON). Every state
 * change is committed as an event to the conversation's log before the future completes. Futures
 * fail with {@link io.parley.server.core.ParleyException}. Thread-safe; never blocks the caller.
 */
public interface ConversationService {
  CompletableFuture<ConversationResult> openDirect(Caller caller, OpenDirect request);

  /** Creates a group with a new id. */
  default CompletableFuture<ConversationResult> createGroup(Caller caller, CreateGroup request) {
    return createGroup(caller, Ids.timeOrdered(Ids.GROUP_PREFIX), request);
  }

  /**
   * Creates a group with an id chosen before the call ({@link Ids#timeOrdered} with {@link
   * Ids#GROUP_PREFIX}). Running the same call again returns the group the first run created
   * ({@code created = false}) instead of creating a second one, which is what makes a cluster
   * command that an engine re-runs after a crash harmless (commands are at-least-once).
   */
  CompletableFuture<ConversationResult> createGroup(
      Caller caller, String conversationId, CreateGroup request);

  /** Creates a channel with a new id. */
  default CompletableFuture<ConversationResult> createChannel(
      Caller caller, CreateChannel request) {
    return createChannel(caller, Ids.timeOrdered(Ids.CHANNEL_PREFIX), request);
  }

  /** Creates a channel with an id chosen before the call; repeatable like {@link #createGroup}. */
  CompletableFuture<ConversationResult> createChannel(
      Caller caller, String conversationId, CreateChannel request);

  CompletableFuture<ConversationResult> getConversation(Caller caller, GetConversation request);

  CompletableFuture<ConversationList> listConversations(Caller caller, ListConversations request);

  CompletableFuture<ConversationResult> joinChannel(Caller caller, JoinChannel request);

  CompletableFuture<Ack> leave(Caller caller, LeaveConversation request);

  CompletableFuture<Ack> addMembers(Caller caller, AddMembers request);

  CompletableFuture<Ack> removeMember(Caller caller, RemoveMember request);

  CompletableFuture<Ack> setMemberRole(Caller caller, SetMemberRole request);

  CompletableFuture<ConversationResult> updateConversation(
      Caller caller, UpdateConversation request);

  CompletableFuture<MemberList> listMembers(Caller caller, ListMembers request);
}
