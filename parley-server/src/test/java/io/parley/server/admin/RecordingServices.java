package io.parley.server.admin;

import io.parley.server.auth.MintedToken;
import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationList;
import io.parley.protocol.v1.ConversationResult;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.GetReceipts;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.LeaveConversation;
import io.parley.protocol.v1.ListConversations;
import io.parley.protocol.v1.ListMembers;
import io.parley.protocol.v1.MarkDelivered;
import io.parley.protocol.v1.MarkRead;
import io.parley.protocol.v1.Member;
import io.parley.protocol.v1.MemberList;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.Receipt;
import io.parley.protocol.v1.ReceiptList;
import io.parley.protocol.v1.RemoveMember;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.Role;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.protocol.v1.SetMemberRole;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.protocol.v1.UpdateProfile;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.delivery.DeliveryService;
import io.parley.server.messaging.ConversationService;
import io.parley.server.messaging.MessageService;
import io.parley.server.store.UserRecord;
import io.parley.server.user.UserService;
import java.time.Duration;
import java.util.ArrayList;
import io.parley.server.notify.NotificationAdmin;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.WebhookRecord;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * In-test implementations of the service interfaces the admin API calls: each records every call
 * (method, caller, request) and answers with canned protocol messages; users live in a small map so
 * that the read-modify-write routes have something to read. {@link #failNextWith} makes the next
 * service call fail. Not thread-safe (tests call the endpoint from one thread).
 */
final class RecordingServices {
  /** One recorded service call. */
  record Call(String method, Caller caller, Object request) {}

  final List<Call> calls = new ArrayList<>();
  final Map<String, Profile> profiles = new TreeMap<>();
  final List<String> mintedFor = new ArrayList<>();
  final List<Duration> mintedTtls = new ArrayList<>();
  private RuntimeException nextFailure;
  boolean directCreated = true;
  boolean sendDuplicate = false;

  final UserService users = new Users();
  final ConversationService conversations = new Conversations();
  final MessageService messages = new Messages();
  final DeliveryService delivery = new Delivery();
  final NotificationAdmin notifications = new Notifications();
  final UserTokenMinter minter =
      (userId, ttl) -> {
        mintedFor.add(userId);
        mintedTtls.add(ttl);
        return new MintedToken("token-for-" + userId, 1_700_000_000_000L + ttl.toMillis());
      };

  static final Conversation CONVERSATION =
      Conversation.newBuilder()
          .setId("grp_1")
          .setKind(ConversationKind.CONVERSATION_KIND_GROUP)
          .setLastSeq(7)
          .setMemberCount(3)
          .build();

  static final SendResult SEND_RESULT =
      SendResult.newBuilder()
          .setConversationId("grp_1")
          .setSeq(8)
          .setMessageId("msg_1")
          .setTimestampMs(1_700_000_000_123L)
          .build();

  void failNextWith(RuntimeException e) {
    nextFailure = e;
  }

  /** The only recorded call; fails the test when there is not exactly one. */
  Call onlyCall() {
    if (calls.size() != 1) {
      throw new AssertionError("expected exactly one service call, got " + calls);
    }
    return calls.get(0);
  }

  private <T> CompletableFuture<T> answer(String method, Caller caller, Object request, T value) {
    calls.add(new Call(method, caller, request));
    if (nextFailure != null) {
      RuntimeException e = nextFailure;
      nextFailure = null;
      return CompletableFuture.failedFuture(e);
    }
    return CompletableFuture.completedFuture(value);
  }

  /** Records notification calls; answers with records built from the request. */
  private final class Notifications implements NotificationAdmin {
    @Override
    public CompletableFuture<WebhookRecord> createWebhook(
        String url, String secret, List<String> eventTypes) {
      return answer(
          "createWebhook",
          null,
          url,
          new WebhookRecord("wh_1", url, secret == null ? "generated" : secret, eventTypes, 1));
    }

    @Override
    public CompletableFuture<List<WebhookRecord>> webhooks() {
      return answer("webhooks", null, null, List.of());
    }

    @Override
    public CompletableFuture<WebhookRecord> webhook(String webhookId) {
      return answer("webhook", null, webhookId, new WebhookRecord(webhookId, "http://h/", "s", List.of(), 1));
    }

    @Override
    public CompletableFuture<Void> deleteWebhook(String webhookId) {
      return answer("deleteWebhook", null, webhookId, null);
    }

    @Override
    public CompletableFuture<List<OutboxJob>> deadLetters(String afterJobId, int limit) {
      return answer("deadLetters", null, afterJobId, List.of());
    }

    @Override
    public CompletableFuture<OutboxJob> replay(String jobId) {
      return answer(
          "replay", null, jobId, new OutboxJob("lane", 1, jobId, "webhook", "wh_1", new byte[0], 0, 1, "", 1));
    }

    @Override
    public CompletableFuture<PushTargetRecord> registerPushTarget(
        String userId, String deviceId, String provider, String token) {
      return answer(
          "registerPushTarget",
          null,
          userId,
          new PushTargetRecord(userId, "pt_1", deviceId, provider, token, 1));
    }

    @Override
    public CompletableFuture<List<PushTargetRecord>> pushTargets(String userId) {
      return answer("pushTargets", null, userId, List.of());
    }

    @Override
    public CompletableFuture<Void> removePushTarget(String userId, String targetId) {
      return answer("removePushTarget", null, userId + "/" + targetId, null);
    }

    @Override
    public CompletableFuture<Void> setMuted(String userId, String conversationId, boolean muted) {
      return answer("setMuted", null, userId + "/" + conversationId + "/" + muted, null);
    }
  }

  private static <T> CompletableFuture<T> unexpected(String method) {
    return CompletableFuture.failedFuture(
        new AssertionError("the admin API must not call " + method));
  }

  private final class Users implements UserService {
    @Override
    public CompletableFuture<UserRecord> ensureActive(String userId) {
      return unexpected("ensureActive");
    }

    @Override
    public CompletableFuture<Profile> getProfile(Caller caller, GetProfile request) {
      Profile p = profiles.get(request.getUserId());
      if (p == null) {
        calls.add(new Call("getProfile", caller, request));
        return CompletableFuture.failedFuture(
            ParleyException.notFound("no user " + request.getUserId()));
      }
      return answer("getProfile", caller, request, p);
    }

    @Override
    public CompletableFuture<Profile> updateProfile(Caller caller, UpdateProfile request) {
      return unexpected("updateProfile");
    }

    @Override
    public CompletableFuture<Profile> upsert(String userId, String displayName, String avatarUrl) {
      Profile old = profiles.get(userId);
      Profile p =
          Profile.newBuilder()
              .setUserId(userId)
              .setDisplayName(displayName)
              .setAvatarUrl(avatarUrl)
              .setDeactivated(old != null && old.getDeactivated())
              .build();
      profiles.put(userId, p);
      return answer("upsert", null, List.of(userId, displayName, avatarUrl), p);
    }

    @Override
    public CompletableFuture<Profile> setDeactivated(String userId, boolean deactivated) {
      Profile old = profiles.get(userId);
      if (old == null) {
        calls.add(new Call("setDeactivated", null, List.of(userId, deactivated)));
        return CompletableFuture.failedFuture(ParleyException.notFound("no user " + userId));
      }
      Profile p = old.toBuilder().setDeactivated(deactivated).build();
      profiles.put(userId, p);
      return answer("setDeactivated", null, List.of(userId, deactivated), p);
    }

    @Override
    public CompletableFuture<List<Profile>> list(String afterUserId, int limit) {
      List<Profile> page =
          profiles.values().stream()
              .filter(p -> p.getUserId().compareTo(afterUserId) > 0)
              .limit(limit)
              .toList();
      return answer("list", null, List.of(afterUserId, limit), page);
    }
  }

  private final class Conversations implements ConversationService {
    @Override
    public CompletableFuture<ConversationResult> openDirect(Caller caller, OpenDirect request) {
      return answer(
          "openDirect",
          caller,
          request,
          ConversationResult.newBuilder()
              .setConversation(
                  CONVERSATION.toBuilder()
                      .setId("dm_1")
                      .setKind(ConversationKind.CONVERSATION_KIND_DIRECT)
                      .setPeerUserId(request.getUserId()))
              .setCreated(directCreated)
              .build());
    }

    @Override
    public CompletableFuture<ConversationResult> createGroup(
        Caller caller, String conversationId, CreateGroup request) {
      return answer("createGroup", caller, request, result());
    }

    @Override
    public CompletableFuture<ConversationResult> createChannel(
        Caller caller, String conversationId, CreateChannel request) {
      return answer("createChannel", caller, request, result());
    }

    @Override
    public CompletableFuture<ConversationResult> getConversation(
        Caller caller, GetConversation request) {
      return answer("getConversation", caller, request, result());
    }

    @Override
    public CompletableFuture<ConversationList> listConversations(
        Caller caller, ListConversations request) {
      return answer(
          "listConversations",
          caller,
          request,
          ConversationList.newBuilder()
              .addConversations(CONVERSATION)
              .setNextPageToken("next-page")
              .build());
    }

    @Override
    public CompletableFuture<ConversationResult> joinChannel(Caller caller, JoinChannel request) {
      return unexpected("joinChannel");
    }

    @Override
    public CompletableFuture<Ack> leave(Caller caller, LeaveConversation request) {
      return unexpected("leave");
    }

    @Override
    public CompletableFuture<Ack> addMembers(Caller caller, AddMembers request) {
      return answer("addMembers", caller, request, Ack.getDefaultInstance());
    }

    @Override
    public CompletableFuture<Ack> removeMember(Caller caller, RemoveMember request) {
      return answer("removeMember", caller, request, Ack.getDefaultInstance());
    }

    @Override
    public CompletableFuture<Ack> setMemberRole(Caller caller, SetMemberRole request) {
      return unexpected("setMemberRole");
    }

    @Override
    public CompletableFuture<ConversationResult> updateConversation(
        Caller caller, UpdateConversation request) {
      return unexpected("updateConversation");
    }

    @Override
    public CompletableFuture<MemberList> listMembers(Caller caller, ListMembers request) {
      return answer(
          "listMembers",
          caller,
          request,
          MemberList.newBuilder()
              .addMembers(
                  Member.newBuilder()
                      .setUserId("alice")
                      .setRole(Role.ROLE_OWNER)
                      .setJoinedAtMs(1_700_000_000_000L))
              .build());
    }

    private ConversationResult result() {
      return ConversationResult.newBuilder().setConversation(CONVERSATION).build();
    }
  }

  private final class Messages implements MessageService {
    @Override
    public CompletableFuture<SendResult> send(Caller caller, SendMessage request) {
      return answer(
          "send", caller, request, SEND_RESULT.toBuilder().setDuplicate(sendDuplicate).build());
    }

    @Override
    public CompletableFuture<SendResult> edit(Caller caller, EditMessage request) {
      return unexpected("edit");
    }

    @Override
    public CompletableFuture<SendResult> delete(Caller caller, DeleteMessage request) {
      return unexpected("delete");
    }

    @Override
    public CompletableFuture<SendResult> addReaction(Caller caller, AddReaction request) {
      return unexpected("addReaction");
    }

    @Override
    public CompletableFuture<SendResult> removeReaction(Caller caller, RemoveReaction request) {
      return unexpected("removeReaction");
    }

    @Override
    public CompletableFuture<HistoryPage> history(Caller caller, GetHistory request) {
      return answer(
          "history",
          caller,
          request,
          HistoryPage.newBuilder()
              .setConversationId(request.getConversationId())
              .addEvents(
                  Event.newBuilder()
                      .setConversationId(request.getConversationId())
                      .setSeq(5)
                      .setActorUserId("alice")
                      .setMessagePosted(
                          MessagePosted.newBuilder()
                              .setMessageId("msg_5")
                              .setContentType("text/plain")
                              .setBody(com.google.protobuf.ByteString.copyFromUtf8("hi"))))
              .setHasMore(true)
              .build());
    }
  }

  private final class Delivery implements DeliveryService {
    @Override
    public CompletableFuture<SyncResult> sync(Caller caller, Sync request) {
      return unexpected("sync");
    }

    @Override
    public CompletableFuture<Ack> markDelivered(Caller caller, MarkDelivered request) {
      return unexpected("markDelivered");
    }

    @Override
    public CompletableFuture<Ack> markRead(Caller caller, MarkRead request) {
      return unexpected("markRead");
    }

    @Override
    public CompletableFuture<ReceiptList> receipts(Caller caller, GetReceipts request) {
      return answer(
          "receipts",
          caller,
          request,
          ReceiptList.newBuilder()
              .setConversationId(request.getConversationId())
              .addReceipts(Receipt.newBuilder().setUserId("bob").setDeliveredSeq(4).setReadSeq(3))
              .build());
    }
  }

  static ParleyException error(ErrorCode code) {
    return new ParleyException(code, "canned " + code.name());
  }
}
