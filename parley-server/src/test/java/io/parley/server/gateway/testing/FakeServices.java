package io.parley.server.gateway.testing;

import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationList;
import io.parley.protocol.v1.ConversationResult;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.ErrorCode;
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
import io.parley.protocol.v1.MemberList;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.PresenceNotice;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.ReceiptList;
import io.parley.protocol.v1.RemoveMember;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.protocol.v1.SendTyping;
import io.parley.protocol.v1.SetMemberRole;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.protocol.v1.UpdateProfile;
import io.parley.server.auth.TokenVerifier;
import io.parley.server.notify.ClientNotifications;
import io.parley.server.auth.VerifiedToken;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.delivery.DeliveryService;
import io.parley.server.gateway.GatewayServices;
import io.parley.server.messaging.ConversationService;
import io.parley.server.messaging.MessageService;
import io.parley.server.presence.PresenceService;
import io.parley.server.store.UserRecord;
import io.parley.server.user.UserService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test double for every service the gateway calls. Tokens are {@code u:<userId>} (never expire)
 * or {@code u:<userId>:<expiresAtMs>}; {@code expired} fails with TOKEN_EXPIRED, anything else
 * with UNAUTHENTICATED. Sends to conversation {@code hang} never complete; sends to {@code boom}
 * throw. Syncs complete immediately with an empty complete page unless {@link #holdSyncs} is set,
 * in which case their futures are queued in {@link #pendingSyncs} for the test to complete.
 */
public final class FakeServices
    implements ConversationService,
        MessageService,
        DeliveryService,
        PresenceService,
        UserService,
        TokenVerifier,
        ClientNotifications {
  public final Set<String> deactivated = ConcurrentHashMap.newKeySet();
  public final BlockingQueue<CompletableFuture<SyncResult>> pendingSyncs = new LinkedBlockingQueue<>();
  public final List<Caller> syncCallers = new CopyOnWriteArrayList<>();
  public volatile boolean holdSyncs;
  public final List<String> connected = new CopyOnWriteArrayList<>();
  public final List<String> disconnected = new CopyOnWriteArrayList<>();
  public final Map<String, PresenceStatus> presence = new ConcurrentHashMap<>();
  public final List<SendMessage> sent = new CopyOnWriteArrayList<>();
  private final AtomicLong seq = new AtomicLong();

  public GatewayServices services() {
    return new GatewayServices(this, this, this, this, this, this, this);
  }

  // ClientNotifications: the gateway only routes these; their behaviour is tested in notify.

  @Override
  public CompletableFuture<io.parley.protocol.v1.PushTargetResult> registerPushTarget(
      Caller caller, io.parley.protocol.v1.RegisterPushTarget request) {
    return CompletableFuture.completedFuture(
        io.parley.protocol.v1.PushTargetResult.newBuilder()
            .setDeviceId(caller.deviceId())
            .setProvider(request.getProvider())
            .build());
  }

  @Override
  public CompletableFuture<io.parley.protocol.v1.Ack> unregisterPushTarget(
      Caller caller, io.parley.protocol.v1.UnregisterPushTarget request) {
    return CompletableFuture.completedFuture(io.parley.protocol.v1.Ack.getDefaultInstance());
  }

  @Override
  public CompletableFuture<io.parley.protocol.v1.Ack> setConversationMuted(
      Caller caller, io.parley.protocol.v1.SetConversationMuted request) {
    return CompletableFuture.completedFuture(io.parley.protocol.v1.Ack.getDefaultInstance());
  }

  // TokenVerifier

  @Override
  public CompletableFuture<VerifiedToken> verify(String token) {
    if (token.equals("expired")) {
      return CompletableFuture.failedFuture(new ParleyException(ErrorCode.TOKEN_EXPIRED, "token expired"));
    }
    if (!token.startsWith("u:")) {
      return CompletableFuture.failedFuture(new ParleyException(ErrorCode.UNAUTHENTICATED, "bad token"));
    }
    String[] parts = token.split(":");
    long exp = parts.length > 2 ? Long.parseLong(parts[2]) : Long.MAX_VALUE;
    return CompletableFuture.completedFuture(new VerifiedToken(parts[1], exp));
  }

  // UserService

  @Override
  public CompletableFuture<UserRecord> ensureActive(String userId) {
    if (deactivated.contains(userId)) {
      return CompletableFuture.failedFuture(new ParleyException(ErrorCode.USER_DEACTIVATED, "user deactivated"));
    }
    return CompletableFuture.completedFuture(new UserRecord(userId, userId, "", false, 0, 0));
  }

  @Override
  public CompletableFuture<Profile> getProfile(Caller caller, GetProfile request) {
    return CompletableFuture.completedFuture(
        Profile.newBuilder().setUserId(request.getUserId()).setDisplayName(request.getUserId()).build());
  }

  @Override
  public CompletableFuture<Profile> updateProfile(Caller caller, UpdateProfile request) {
    return CompletableFuture.completedFuture(
        Profile.newBuilder().setUserId(caller.userId()).setDisplayName(request.getDisplayName()).build());
  }

  @Override
  public CompletableFuture<Profile> upsert(String userId, String displayName, String avatarUrl) {
    return CompletableFuture.completedFuture(Profile.newBuilder().setUserId(userId).build());
  }

  @Override
  public CompletableFuture<Profile> setDeactivated(String userId, boolean deactivate) {
    return CompletableFuture.completedFuture(Profile.newBuilder().setUserId(userId).setDeactivated(deactivate).build());
  }

  @Override
  public CompletableFuture<List<Profile>> list(String afterUserId, int limit) {
    return CompletableFuture.completedFuture(List.of());
  }

  // ConversationService

  private static CompletableFuture<ConversationResult> conv(String id) {
    return CompletableFuture.completedFuture(
        ConversationResult.newBuilder().setConversation(Conversation.newBuilder().setId(id)).build());
  }

  private static CompletableFuture<Ack> ack() {
    return CompletableFuture.completedFuture(Ack.getDefaultInstance());
  }

  @Override
  public CompletableFuture<ConversationResult> openDirect(Caller caller, OpenDirect request) {
    return conv("dm-" + caller.userId() + "-" + request.getUserId());
  }

  @Override
  public CompletableFuture<ConversationResult> createGroup(
      Caller caller, String conversationId, CreateGroup request) {
    return conv("g-" + request.getMetadata().getTitle());
  }

  @Override
  public CompletableFuture<ConversationResult> createChannel(
      Caller caller, String conversationId, CreateChannel request) {
    return conv("ch-" + request.getMetadata().getTitle());
  }

  @Override
  public CompletableFuture<ConversationResult> getConversation(Caller caller, GetConversation request) {
    return conv(request.getConversationId());
  }

  @Override
  public CompletableFuture<ConversationList> listConversations(Caller caller, ListConversations request) {
    return CompletableFuture.completedFuture(ConversationList.getDefaultInstance());
  }

  @Override
  public CompletableFuture<ConversationResult> joinChannel(Caller caller, JoinChannel request) {
    return conv(request.getConversationId());
  }

  @Override
  public CompletableFuture<Ack> leave(Caller caller, LeaveConversation request) {
    return ack();
  }

  @Override
  public CompletableFuture<Ack> addMembers(Caller caller, AddMembers request) {
    return ack();
  }

  @Override
  public CompletableFuture<Ack> removeMember(Caller caller, RemoveMember request) {
    return ack();
  }

  @Override
  public CompletableFuture<Ack> setMemberRole(Caller caller, SetMemberRole request) {
    return ack();
  }

  @Override
  public CompletableFuture<ConversationResult> updateConversation(Caller caller, UpdateConversation request) {
    return conv(request.getConversationId());
  }

  @Override
  public CompletableFuture<MemberList> listMembers(Caller caller, ListMembers request) {
    return CompletableFuture.completedFuture(MemberList.getDefaultInstance());
  }

  // MessageService

  @Override
  public CompletableFuture<SendResult> send(Caller caller, SendMessage request) {
    if (request.getConversationId().equals("hang")) {
      return new CompletableFuture<>();
    }
    if (request.getConversationId().equals("boom")) {
      throw new IllegalStateException("secret internal detail");
    }
    sent.add(request);
    long s = seq.incrementAndGet();
    return CompletableFuture.completedFuture(
        SendResult.newBuilder()
            .setConversationId(request.getConversationId())
            .setSeq(s)
            .setMessageId("m" + s)
            .setTimestampMs(System.currentTimeMillis())
            .build());
  }

  private static CompletableFuture<SendResult> result(String conversationId, long seq) {
    return CompletableFuture.completedFuture(
        SendResult.newBuilder().setConversationId(conversationId).setSeq(seq).build());
  }

  @Override
  public CompletableFuture<SendResult> edit(Caller caller, EditMessage request) {
    return result(request.getConversationId(), seq.incrementAndGet());
  }

  @Override
  public CompletableFuture<SendResult> delete(Caller caller, DeleteMessage request) {
    return result(request.getConversationId(), seq.incrementAndGet());
  }

  @Override
  public CompletableFuture<SendResult> addReaction(Caller caller, AddReaction request) {
    return result(request.getConversationId(), seq.incrementAndGet());
  }

  @Override
  public CompletableFuture<SendResult> removeReaction(Caller caller, RemoveReaction request) {
    return result(request.getConversationId(), seq.incrementAndGet());
  }

  @Override
  public CompletableFuture<HistoryPage> history(Caller caller, GetHistory request) {
    return CompletableFuture.completedFuture(
        HistoryPage.newBuilder().setConversationId(request.getConversationId()).build());
  }

  // DeliveryService

  @Override
  public CompletableFuture<SyncResult> sync(Caller caller, Sync request) {
    syncCallers.add(caller);
    if (holdSyncs) {
      CompletableFuture<SyncResult> f = new CompletableFuture<>();
      pendingSyncs.add(f);
      return f;
    }
    return CompletableFuture.completedFuture(
        SyncResult.newBuilder().setCursor("cursor").setComplete(true).build());
  }

  @Override
  public CompletableFuture<Ack> markDelivered(Caller caller, MarkDelivered request) {
    return ack();
  }

  @Override
  public CompletableFuture<Ack> markRead(Caller caller, MarkRead request) {
    return ack();
  }

  @Override
  public CompletableFuture<ReceiptList> receipts(Caller caller, GetReceipts request) {
    return CompletableFuture.completedFuture(
        ReceiptList.newBuilder().setConversationId(request.getConversationId()).build());
  }

  // PresenceService

  @Override
  public CompletableFuture<Ack> typing(Caller caller, SendTyping request) {
    return ack();
  }

  @Override
  public CompletableFuture<Ack> setStatus(Caller caller, PresenceStatus status) {
    presence.put(caller.userId(), status);
    return ack();
  }

  @Override
  public CompletableFuture<List<PresenceNotice>> current(List<String> userIds) {
    List<PresenceNotice> out = new ArrayList<>();
    for (String u : userIds) {
      out.add(
          PresenceNotice.newBuilder()
              .setUserId(u)
              .setStatus(presence.getOrDefault(u, PresenceStatus.PRESENCE_STATUS_OFFLINE))
              .build());
    }
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public void deviceConnected(String userId, String deviceId) {
    connected.add(userId + "/" + deviceId);
  }

  @Override
  public void deviceDisconnected(String userId, String deviceId) {
    disconnected.add(userId + "/" + deviceId);
  }
}
