package io.parley.server.bus.kafka;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.parley.protocol.cluster.v1.CreateChannelArgs;
import io.parley.protocol.cluster.v1.CreateGroupArgs;
import io.parley.protocol.cluster.v1.DeviceArgs;
import io.parley.protocol.cluster.v1.Done;
import io.parley.protocol.cluster.v1.PresenceNoticeList;
import io.parley.protocol.cluster.v1.PresenceStatusArg;
import io.parley.protocol.cluster.v1.ProfileList;
import io.parley.protocol.cluster.v1.UserArgs;
import io.parley.protocol.cluster.v1.UserIdList;
import io.parley.protocol.cluster.v1.UserRecordReply;
import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.ConversationList;
import io.parley.protocol.v1.ConversationResult;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.EditMessage;
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
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.PushTargetResult;
import io.parley.protocol.v1.ReceiptList;
import io.parley.protocol.v1.RegisterPushTarget;
import io.parley.protocol.v1.RemoveMember;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.protocol.v1.SendTyping;
import io.parley.protocol.v1.SetConversationMuted;
import io.parley.protocol.v1.SetMemberRole;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.protocol.v1.UnregisterPushTarget;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.protocol.v1.UpdateProfile;
import io.parley.server.core.Caller;
import io.parley.server.delivery.DeliveryService;
import io.parley.server.messaging.ConversationService;
import io.parley.server.messaging.MessageService;
import io.parley.server.notify.ClientNotifications;
import io.parley.server.presence.PresenceService;
import io.parley.server.store.UserRecord;
import io.parley.server.user.UserService;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The one table of every service method a gateway can call on an engine through Kafka. A unit
 * test checks by reflection that it covers every method of every service interface the gateway
 * uses, so a new service method cannot be forgotten. Wire numbers are stable: a removed method's
 * number is never given to another. Immutable.
 */
public final class RpcMethods {
  private static final List<RpcMethod<?, ?, ?>> TABLE = new ArrayList<>();

  // ---- ConversationService ---------------------------------------------------------------------
  public static final RpcMethod<ConversationService, OpenDirect, ConversationResult> OPEN_DIRECT =
      client(1, ConversationService.class, "openDirect", OpenDirect.class, OpenDirect.parser(),
          ConversationResult.parser(), ConversationService::openDirect);
  // 2 and 3 (createGroup and createChannel without a chosen id) are retired.
  public static final RpcMethod<ConversationService, CreateGroupArgs, ConversationResult>
      CREATE_GROUP =
          add(13, ConversationService.class, "createGroup",
              List.of(Caller.class, String.class, CreateGroup.class), CreateGroupArgs.parser(),
              ConversationResult.parser(),
              (s, c, q) -> s.createGroup(c, q.getConversationId(), q.getRequest()));
  public static final RpcMethod<ConversationService, CreateChannelArgs, ConversationResult>
      CREATE_CHANNEL =
          add(14, ConversationService.class, "createChannel",
              List.of(Caller.class, String.class, CreateChannel.class), CreateChannelArgs.parser(),
              ConversationResult.parser(),
              (s, c, q) -> s.createChannel(c, q.getConversationId(), q.getRequest()));
  public static final RpcMethod<ConversationService, GetConversation, ConversationResult>
      GET_CONVERSATION =
          client(4, ConversationService.class, "getConversation", GetConversation.class,
              GetConversation.parser(), ConversationResult.parser(),
              ConversationService::getConversation);
  public static final RpcMethod<ConversationService, ListConversations, ConversationList>
      LIST_CONVERSATIONS =
          client(5, ConversationService.class, "listConversations", ListConversations.class,
              ListConversations.parser(), ConversationList.parser(),
              ConversationService::listConversations);
  public static final RpcMethod<ConversationService, JoinChannel, ConversationResult> JOIN_CHANNEL =
      client(6, ConversationService.class, "joinChannel", JoinChannel.class, JoinChannel.parser(),
          ConversationResult.parser(), ConversationService::joinChannel);
  public static final RpcMethod<ConversationService, LeaveConversation, Ack> LEAVE =
      client(7, ConversationService.class, "leave", LeaveConversation.class,
          LeaveConversation.parser(), Ack.parser(), ConversationService::leave);
  public static final RpcMethod<ConversationService, AddMembers, Ack> ADD_MEMBERS =
      client(8, ConversationService.class, "addMembers", AddMembers.class, AddMembers.parser(),
          Ack.parser(), ConversationService::addMembers);
  public static final RpcMethod<ConversationService, RemoveMember, Ack> REMOVE_MEMBER =
      client(9, ConversationService.class, "removeMember", RemoveMember.class,
          RemoveMember.parser(), Ack.parser(), ConversationService::removeMember);
  public static final RpcMethod<ConversationService, SetMemberRole, Ack> SET_MEMBER_ROLE =
      client(10, ConversationService.class, "setMemberRole", SetMemberRole.class,
          SetMemberRole.parser(), Ack.parser(), ConversationService::setMemberRole);
  public static final RpcMethod<ConversationService, UpdateConversation, ConversationResult>
      UPDATE_CONVERSATION =
          client(11, ConversationService.class, "updateConversation", UpdateConversation.class,
              UpdateConversation.parser(), ConversationResult.parser(),
              ConversationService::updateConversation);
  public static final RpcMethod<ConversationService, ListMembers, MemberList> LIST_MEMBERS =
      client(12, ConversationService.class, "listMembers", ListMembers.class, ListMembers.parser(),
          MemberList.parser(), ConversationService::listMembers);

  // ---- MessageService --------------------------------------------------------------------------
  public static final RpcMethod<MessageService, SendMessage, SendResult> SEND =
      client(20, MessageService.class, "send", SendMessage.class, SendMessage.parser(),
          SendResult.parser(), MessageService::send);
  public static final RpcMethod<MessageService, EditMessage, SendResult> EDIT =
      client(21, MessageService.class, "edit", EditMessage.class, EditMessage.parser(),
          SendResult.parser(), MessageService::edit);
  public static final RpcMethod<MessageService, DeleteMessage, SendResult> DELETE =
      client(22, MessageService.class, "delete", DeleteMessage.class, DeleteMessage.parser(),
          SendResult.parser(), MessageService::delete);
  public static final RpcMethod<MessageService, AddReaction, SendResult> ADD_REACTION =
      client(23, MessageService.class, "addReaction", AddReaction.class, AddReaction.parser(),
          SendResult.parser(), MessageService::addReaction);
  public static final RpcMethod<MessageService, RemoveReaction, SendResult> REMOVE_REACTION =
      client(24, MessageService.class, "removeReaction", RemoveReaction.class,
          RemoveReaction.parser(), SendResult.parser(), MessageService::removeReaction);
  public static final RpcMethod<MessageService, GetHistory, HistoryPage> HISTORY =
      client(25, MessageService.class, "history", GetHistory.class, GetHistory.parser(),
          HistoryPage.parser(), MessageService::history);

  // ---- DeliveryService -------------------------------------------------------------------------
  public static final RpcMethod<DeliveryService, Sync, SyncResult> SYNC =
      client(30, DeliveryService.class, "sync", Sync.class, Sync.parser(), SyncResult.parser(),
          DeliveryService::sync);
  public static final RpcMethod<DeliveryService, MarkDelivered, Ack> MARK_DELIVERED =
      client(31, DeliveryService.class, "markDelivered", MarkDelivered.class,
          MarkDelivered.parser(), Ack.parser(), DeliveryService::markDelivered);
  public static final RpcMethod<DeliveryService, MarkRead, Ack> MARK_READ =
      client(32, DeliveryService.class, "markRead", MarkRead.class, MarkRead.parser(),
          Ack.parser(), DeliveryService::markRead);
  public static final RpcMethod<DeliveryService, GetReceipts, ReceiptList> RECEIPTS =
      client(33, DeliveryService.class, "receipts", GetReceipts.class, GetReceipts.parser(),
          ReceiptList.parser(), DeliveryService::receipts);

  // ---- PresenceService -------------------------------------------------------------------------
  public static final RpcMethod<PresenceService, SendTyping, Ack> TYPING =
      client(40, PresenceService.class, "typing", SendTyping.class, SendTyping.parser(),
          Ack.parser(), PresenceService::typing);
  public static final RpcMethod<PresenceService, PresenceStatusArg, Ack> SET_STATUS =
      add(41, PresenceService.class, "setStatus", List.of(Caller.class, PresenceStatus.class),
          PresenceStatusArg.parser(), Ack.parser(),
          (s, c, q) -> s.setStatus(c, q.getStatus()));
  public static final RpcMethod<PresenceService, UserIdList, PresenceNoticeList> CURRENT_PRESENCE =
      add(42, PresenceService.class, "current", List.of(List.class), UserIdList.parser(),
          PresenceNoticeList.parser(),
          (s, c, q) ->
              s.current(q.getUserIdsList())
                  .thenApply(l -> PresenceNoticeList.newBuilder().addAllNotices(l).build()));
  public static final RpcMethod<PresenceService, DeviceArgs, Done> DEVICE_CONNECTED =
      add(43, PresenceService.class, "deviceConnected", List.of(String.class, String.class),
          DeviceArgs.parser(), Done.parser(),
          (s, c, q) -> {
            s.deviceConnected(q.getUserId(), q.getDeviceId());
            return done();
          });
  public static final RpcMethod<PresenceService, DeviceArgs, Done> DEVICE_DISCONNECTED =
      add(44, PresenceService.class, "deviceDisconnected", List.of(String.class, String.class),
          DeviceArgs.parser(), Done.parser(),
          (s, c, q) -> {
            s.deviceDisconnected(q.getUserId(), q.getDeviceId());
            return done();
          });

  // ---- UserService -----------------------------------------------------------------------------
  public static final RpcMethod<UserService, UserArgs, UserRecordReply> ENSURE_ACTIVE =
      add(50, UserService.class, "ensureActive", List.of(String.class), UserArgs.parser(),
          UserRecordReply.parser(),
          (s, c, q) -> s.ensureActive(q.getUserId()).thenApply(RpcMethods::userRecordReply));
  public static final RpcMethod<UserService, GetProfile, Profile> GET_PROFILE =
      client(51, UserService.class, "getProfile", GetProfile.class, GetProfile.parser(),
          Profile.parser(), UserService::getProfile);
  public static final RpcMethod<UserService, UpdateProfile, Profile> UPDATE_PROFILE =
      client(52, UserService.class, "updateProfile", UpdateProfile.class, UpdateProfile.parser(),
          Profile.parser(), UserService::updateProfile);
  public static final RpcMethod<UserService, UserArgs, Profile> UPSERT_USER =
      add(53, UserService.class, "upsert", List.of(String.class, String.class, String.class),
          UserArgs.parser(), Profile.parser(),
          (s, c, q) -> s.upsert(q.getUserId(), q.getDisplayName(), q.getAvatarUrl()));
  public static final RpcMethod<UserService, UserArgs, Profile> SET_DEACTIVATED =
      add(54, UserService.class, "setDeactivated", List.of(String.class, boolean.class),
          UserArgs.parser(), Profile.parser(),
          (s, c, q) -> s.setDeactivated(q.getUserId(), q.getDeactivated()));
  public static final RpcMethod<UserService, UserArgs, ProfileList> LIST_USERS =
      add(55, UserService.class, "list", List.of(String.class, int.class), UserArgs.parser(),
          ProfileList.parser(),
          (s, c, q) ->
              s.list(q.getAfterUserId(), q.getLimit())
                  .thenApply(l -> ProfileList.newBuilder().addAllProfiles(l).build()));

  // ---- ClientNotifications ---------------------------------------------------------------------
  public static final RpcMethod<ClientNotifications, RegisterPushTarget, PushTargetResult>
      REGISTER_PUSH_TARGET =
          client(60, ClientNotifications.class, "registerPushTarget", RegisterPushTarget.class,
              RegisterPushTarget.parser(), PushTargetResult.parser(),
              ClientNotifications::registerPushTarget);
  public static final RpcMethod<ClientNotifications, UnregisterPushTarget, Ack>
      UNREGISTER_PUSH_TARGET =
          client(61, ClientNotifications.class, "unregisterPushTarget", UnregisterPushTarget.class,
              UnregisterPushTarget.parser(), Ack.parser(),
              ClientNotifications::unregisterPushTarget);
  public static final RpcMethod<ClientNotifications, SetConversationMuted, Ack>
      SET_CONVERSATION_MUTED =
          client(62, ClientNotifications.class, "setConversationMuted", SetConversationMuted.class,
              SetConversationMuted.parser(), Ack.parser(),
              ClientNotifications::setConversationMuted);

  /** The service interfaces the table covers: everything in {@code GatewayServices} but tokens. */
  public static final List<Class<?>> SERVICES =
      List.of(
          ConversationService.class,
          MessageService.class,
          DeliveryService.class,
          PresenceService.class,
          UserService.class,
          ClientNotifications.class);

  private static final Map<Integer, RpcMethod<?, ?, ?>> BY_ID = index();

  private RpcMethods() {}

  /** Every method, in table order. */
  public static List<RpcMethod<?, ?, ?>> all() {
    return List.copyOf(TABLE);
  }

  /** The method with this wire number. */
  public static Optional<RpcMethod<?, ?, ?>> byId(int id) {
    return Optional.ofNullable(BY_ID.get(id));
  }

  /** A {@link UserRecord} as its wire message. */
  public static UserRecordReply userRecordReply(UserRecord u) {
    return UserRecordReply.newBuilder()
        .setUserId(u.userId())
        .setDisplayName(u.displayName())
        .setAvatarUrl(u.avatarUrl())
        .setDeactivated(u.deactivated())
        .setCreatedAtMs(u.createdAtMs())
        .setUpdatedAtMs(u.updatedAtMs())
        .build();
  }

  /** The {@link UserRecord} a wire message stands for. */
  public static UserRecord userRecord(UserRecordReply r) {
    return new UserRecord(
        r.getUserId(),
        r.getDisplayName(),
        r.getAvatarUrl(),
        r.getDeactivated(),
        r.getCreatedAtMs(),
        r.getUpdatedAtMs());
  }

  private static CompletableFuture<Done> done() {
    return CompletableFuture.completedFuture(Done.getDefaultInstance());
  }

  /** A client-protocol method {@code CompletableFuture<R> name(Caller, Q)}. */
  private static <S, Q extends Message, R extends Message> RpcMethod<S, Q, R> client(
      int id,
      Class<S> service,
      String name,
      Class<Q> requestType,
      Parser<Q> requestParser,
      Parser<R> responseParser,
      RpcMethod.Invoker<S, Q, R> invoker) {
    return add(
        id, service, name, List.of(Caller.class, requestType), requestParser, responseParser,
        invoker);
  }

  private static <S, Q extends Message, R extends Message> RpcMethod<S, Q, R> add(
      int id,
      Class<S> service,
      String name,
      List<Class<?>> javaParameters,
      Parser<Q> requestParser,
      Parser<R> responseParser,
      RpcMethod.Invoker<S, Q, R> invoker) {
    RpcMethod<S, Q, R> m =
        new RpcMethod<>(id, service, name, javaParameters, requestParser, responseParser, invoker);
    TABLE.add(m);
    return m;
  }

  private static Map<Integer, RpcMethod<?, ?, ?>> index() {
    Map<Integer, RpcMethod<?, ?, ?>> m = new HashMap<>();
    for (RpcMethod<?, ?, ?> method : TABLE) {
      if (m.put(method.id(), method) != null) {
        throw new IllegalStateException("duplicate RPC method id " + method.id());
      }
    }
    return Map.copyOf(m);
  }
}
