package io.parley.client;

import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.PresenceNotice;
import io.parley.protocol.v1.ReceiptNotice;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.protocol.v1.TypingNotice;

/**
 * Receives what the server pushes and what the client observes. Every method has an empty default,
 * so an application overrides only what it needs.
 *
 * <p><b>Threading.</b> Every callback of one client runs on that client's single callback thread
 * (named {@code parley-client-callbacks-N}), one at a time, in the order the client observed the
 * underlying frames. Callbacks never run on the network thread. A callback may call any {@link
 * ParleyClient} method; it should return quickly, because later callbacks (and the completion of
 * futures returned by the client, which complete on the same thread) wait for it. Exceptions
 * thrown by a callback are logged and otherwise ignored.
 */
public interface ParleyListener {

  /**
   * A conversation event. For every conversation, events arrive exactly once and in seq order,
   * whether they came live, from sync after a reconnect, or from a history fetch that filled a
   * gap. (Across a restart of the SDK with a state directory, events delivered in the last moments
   * before the process died may be delivered again; see {@code docs/sdk-java.md}.)
   */
  default void onEvent(Event event) {}

  /** The connection state changed. */
  default void onConnectionStateChanged(ConnectionState state) {}

  /** A sync reported the current state of a conversation (including unread counts). */
  default void onConversation(Conversation conversation) {}

  /** The user is no longer a member of the conversation; drop its local state. */
  default void onConversationRemoved(String conversationId) {}

  /**
   * A sync finished: everything missed while offline has been delivered through {@link #onEvent}
   * and live delivery continues. Called after every successful (re)connect.
   */
  default void onSynced() {}

  /** A member started or stopped typing. */
  default void onTyping(TypingNotice notice) {}

  /** A followed user's presence changed (see {@link ParleyClient#subscribePresence}). */
  default void onPresence(PresenceNotice notice) {}

  /** A member's delivered/read position moved. */
  default void onReceipt(ReceiptNotice notice) {}

  /**
   * A message from the outbox was acknowledged by the server. Called for every outbox message,
   * including those restored from the state directory after a restart (whose original future no
   * longer exists).
   */
  default void onSendCompleted(SendMessage message, SendResult result) {}

  /** A message from the outbox was rejected for good (e.g. {@code FORBIDDEN}, {@code TOO_LARGE}). */
  default void onSendFailed(SendMessage message, ParleyClientException error) {}

  /**
   * A failure that no returned future reports: authentication rejected, the token provider failed,
   * a sync failed, state could not be persisted, or the client closed because the user was
   * deactivated.
   */
  default void onError(ParleyClientException error) {}
}
