package io.parley.server.gateway.session;

import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.delivery.DeliveryService;
import io.parley.server.messaging.ConversationService;
import io.parley.server.messaging.MessageService;
import io.parley.server.notify.ClientNotifications;
import io.parley.server.presence.PresenceService;
import io.parley.server.user.UserService;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Maps each service request of a {@link ClientFrame} onto the matching service call and the result
 * onto the matching {@link ServerFrame} payload (ConversationResult, Ack, SendResult, ...). Holds
 * no business rules: authorization and validation happen in the services.
 *
 * <p>Session-level requests (Authenticate, RefreshToken, Ping, SubscribePresence) are handled by
 * the {@link Session} itself; passing one here, or a frame with no request set, fails with {@code
 * UNSUPPORTED}. A service that throws instead of returning a failed future is treated the same as
 * a failed future. Stateless and thread-safe.
 */
public final class RequestDispatcher {
  private final ConversationService conversations;
  private final MessageService messages;
  private final DeliveryService delivery;
  private final PresenceService presence;
  private final UserService users;
  private final ClientNotifications notifications;

  public RequestDispatcher(
      ConversationService conversations,
      MessageService messages,
      DeliveryService delivery,
      PresenceService presence,
      UserService users,
      ClientNotifications notifications) {
    this.notifications = Objects.requireNonNull(notifications, "notifications");
    this.conversations = Objects.requireNonNull(conversations, "conversations");
    this.messages = Objects.requireNonNull(messages, "messages");
    this.delivery = Objects.requireNonNull(delivery, "delivery");
    this.presence = Objects.requireNonNull(presence, "presence");
    this.users = Objects.requireNonNull(users, "users");
  }

  /**
   * Calls the service for the frame's request.
   *
   * @return a builder with the result payload set (the caller sets the request id), or a failed
   *     future carrying the service's error
   */
  public CompletableFuture<ServerFrame.Builder> dispatch(Caller caller, ClientFrame f) {
    switch (f.getRequestCase()) {
      case OPEN_DIRECT:
        return call(() -> conversations.openDirect(caller, f.getOpenDirect()), ServerFrame.Builder::setConversation);
      case CREATE_GROUP:
        return call(() -> conversations.createGroup(caller, f.getCreateGroup()), ServerFrame.Builder::setConversation);
      case CREATE_CHANNEL:
        return call(() -> conversations.createChannel(caller, f.getCreateChannel()), ServerFrame.Builder::setConversation);
      case GET_CONVERSATION:
        return call(() -> conversations.getConversation(caller, f.getGetConversation()), ServerFrame.Builder::setConversation);
      case LIST_CONVERSATIONS:
        return call(() -> conversations.listConversations(caller, f.getListConversations()), ServerFrame.Builder::setConversationList);
      case JOIN_CHANNEL:
        return call(() -> conversations.joinChannel(caller, f.getJoinChannel()), ServerFrame.Builder::setConversation);
      case LEAVE_CONVERSATION:
        return call(() -> conversations.leave(caller, f.getLeaveConversation()), ServerFrame.Builder::setAck);
      case ADD_MEMBERS:
        return call(() -> conversations.addMembers(caller, f.getAddMembers()), ServerFrame.Builder::setAck);
      case REMOVE_MEMBER:
        return call(() -> conversations.removeMember(caller, f.getRemoveMember()), ServerFrame.Builder::setAck);
      case SET_MEMBER_ROLE:
        return call(() -> conversations.setMemberRole(caller, f.getSetMemberRole()), ServerFrame.Builder::setAck);
      case UPDATE_CONVERSATION:
        return call(() -> conversations.updateConversation(caller, f.getUpdateConversation()), ServerFrame.Builder::setConversation);
      case LIST_MEMBERS:
        return call(() -> conversations.listMembers(caller, f.getListMembers()), ServerFrame.Builder::setMemberList);
      case SEND_MESSAGE:
        return call(() -> messages.send(caller, f.getSendMessage()), ServerFrame.Builder::setSendResult);
      case EDIT_MESSAGE:
        return call(() -> messages.edit(caller, f.getEditMessage()), ServerFrame.Builder::setSendResult);
      case DELETE_MESSAGE:
        return call(() -> messages.delete(caller, f.getDeleteMessage()), ServerFrame.Builder::setSendResult);
      case ADD_REACTION:
        return call(() -> messages.addReaction(caller, f.getAddReaction()), ServerFrame.Builder::setSendResult);
      case REMOVE_REACTION:
        return call(() -> messages.removeReaction(caller, f.getRemoveReaction()), ServerFrame.Builder::setSendResult);
      case GET_HISTORY:
        return call(() -> messages.history(caller, f.getGetHistory()), ServerFrame.Builder::setHistory);
      case SYNC:
        return call(() -> delivery.sync(caller, f.getSync()), ServerFrame.Builder::setSyncResult);
      case MARK_DELIVERED:
        return call(() -> delivery.markDelivered(caller, f.getMarkDelivered()), ServerFrame.Builder::setAck);
      case MARK_READ:
        return call(() -> delivery.markRead(caller, f.getMarkRead()), ServerFrame.Builder::setAck);
      case GET_RECEIPTS:
        return call(() -> delivery.receipts(caller, f.getGetReceipts()), ServerFrame.Builder::setReceipts);
      case SEND_TYPING:
        return call(() -> presence.typing(caller, f.getSendTyping()), ServerFrame.Builder::setAck);
      case SET_PRESENCE:
        return call(() -> presence.setStatus(caller, f.getSetPresence().getStatus()), ServerFrame.Builder::setAck);
      case GET_PROFILE:
        return call(() -> users.getProfile(caller, f.getGetProfile()), ServerFrame.Builder::setProfile);
      case UPDATE_PROFILE:
        return call(() -> users.updateProfile(caller, f.getUpdateProfile()), ServerFrame.Builder::setProfile);
      case REGISTER_PUSH_TARGET:
        return call(() -> notifications.registerPushTarget(caller, f.getRegisterPushTarget()), ServerFrame.Builder::setPushTarget);
      case UNREGISTER_PUSH_TARGET:
        return call(() -> notifications.unregisterPushTarget(caller, f.getUnregisterPushTarget()), ServerFrame.Builder::setAck);
      case SET_CONVERSATION_MUTED:
        return call(() -> notifications.setConversationMuted(caller, f.getSetConversationMuted()), ServerFrame.Builder::setAck);
      default:
        return CompletableFuture.failedFuture(
            new ParleyException(ErrorCode.UNSUPPORTED, "unsupported request kind"));
    }
  }

  private static <T> CompletableFuture<ServerFrame.Builder> call(
      Supplier<CompletableFuture<T>> service, BiConsumer<ServerFrame.Builder, T> setter) {
    CompletableFuture<T> f;
    try {
      f = service.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (f == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("service returned no future"));
    }
    return f.thenApply(
        result -> {
          ServerFrame.Builder b = ServerFrame.newBuilder();
          setter.accept(b, Objects.requireNonNull(result, "service completed with null"));
          return b;
        });
  }
}
