package io.parley.server.messaging;

import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.MessageDeleted;
import io.parley.protocol.v1.MessageEdited;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.ReactionAdded;
import io.parley.protocol.v1.ReactionRemoved;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.server.core.Caller;
import io.parley.server.core.Ids;
import io.parley.server.core.ParleyException;
import io.parley.server.core.Validation;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.IdempotencyEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoredEvent;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;

/**
 * The {@link MessageService}. Sends, edits, deletes and reactions are sequenced on the
 * conversation's lane; history is read from committed state on the read executor.
 *
 * <p>Sends and reactions need a user (the system caller gets {@code BAD_REQUEST}; the admin API
 * posts as a user). Send rules: {@code conversation_id} and {@code client_msg_id} are required (at most 128
 * characters), {@code content_type} at most 128 characters, the body at most {@code
 * limits.maxMessageBytes} ({@code TOO_LARGE}), at most 50 mentions; mentions of users who are not
 * members are dropped; {@code reply_to_seq} must not be beyond the end of the log. In channels
 * only owners and admins post ({@code FORBIDDEN}). The message gets a time-ordered {@code m_} id,
 * the next seq and a timestamp that never goes back within the conversation. The sender's read
 * and delivered positions move to their own message in the same commit, so their own messages
 * are never unread.
 *
 * <p>Idempotency: the key is (conversation, sender, {@code client_msg_id}). A resend with the same
 * content (content type, body, reply target) returns the original {@link SendResult} with {@code
 * duplicate = true} and creates nothing, also after a restart (the key is committed with the
 * event) and while the original is still committing (the resend completes with it). A resend with
 * different content is rejected with {@code CONFLICT}. A resend of a since deleted message returns
 * the original result (its content is gone and cannot be compared).
 *
 * <p>Edits: only the original sender, of a posted message that is not deleted. Deletes: the sender,
 * or an owner or admin; the deleted message's content is removed from the stored log in the same
 * commit (see {@link Tombstones}). Reactions: any member, at most 64 bytes, on a message that is
 * not deleted; every add or remove is an event (clients fold them as a set). Edits, deletes and
 * reactions answer with their own seq and the target's message id. Message counts (and so unread
 * counts) are not decreased by deletes.
 *
 * <p>Before-send hook: when one is configured, sends and edits are checked by it before they are
 * handed to the sequencer (in arrival order per conversation, see {@link ArrivalOrder}); a
 * rewrite replaces the content that is stored. Resends of a committed {@code client_msg_id} skip
 * the hook, and their content is not compared with the stored one (it may be a rewrite).
 *
 * <p>Thread-safe; never blocks the caller.
 */
public final class MessageServiceImpl implements MessageService {
  static final int MAX_CONTENT_TYPE_CHARS = 128;
  static final int MAX_MENTIONS = 50;
  static final int MAX_REACTION_BYTES = 64;
  private static final String MESSAGE_NOT_FOUND = "message not found";
  /** The fingerprint of a remembered edit, delete or reaction: no send's content matches it. */
  private static final byte[] NOT_A_SEND = new byte[0];

  private final EngineContext ctx;
  private final BeforeSendHook hook;
  private final ArrivalOrder arrivalOrder = new ArrivalOrder();

  public MessageServiceImpl(EngineContext ctx) {
    this(ctx, BeforeSendHook.NONE);
  }

  public MessageServiceImpl(EngineContext ctx, BeforeSendHook hook) {
    this.ctx = Objects.requireNonNull(ctx, "ctx");
    this.hook = Objects.requireNonNull(hook, "hook");
  }

  @Override
  public CompletableFuture<SendResult> send(Caller caller, SendMessage request) {
    return EngineFailures.guard(
        () -> {
          Access.requireUser(caller);
          String id = Validation.requireId("conversation_id", request.getConversationId());
          String cmid = Validation.requireId("client_msg_id", request.getClientMsgId());
          Validation.maxChars("content_type", request.getContentType(), MAX_CONTENT_TYPE_CHARS);
          requireBodySize(request.getBody().size());
          if (request.getMentionsCount() > MAX_MENTIONS) {
            throw ParleyException.badRequest("at most " + MAX_MENTIONS + " mentions");
          }
          byte[] fp =
              ContentFingerprint.of(
                  request.getContentType(), request.getBody(), request.getReplyToSeq());
          if (!hook.enabled()) {
            return ctx.sequencer()
                .submit(id, lane -> sendOnLane(lane, caller, id, cmid, request, fp));
          }
          // A resend of a committed message is answered from the log without asking the hook
          // again (one key lookup on the read executor, never on the caller's event loop). A
          // resend racing its still-uncommitted original asks the hook again; the lane then
          // answers it as a duplicate of the original.
          CompletableFuture<SendMessage> checked =
              ctx.read(() -> ctx.store().idempotentSeq(id, caller.userId(), cmid).isPresent())
                  .thenCompose(
                      stored ->
                          stored
                              ? CompletableFuture.completedFuture(request)
                              : hook.check(
                                      new BeforeSendHook.Submission(
                                          BeforeSendHook.Submission.SEND,
                                          id,
                                          caller.userId(),
                                          caller.deviceId(),
                                          cmid,
                                          0,
                                          new BeforeSendHook.Content(
                                              request.getContentType(), request.getBody())))
                                  .thenApply(content -> withContent(request, content)));
          return arrivalOrder.inOrder(
              id,
              checked,
              r -> ctx.sequencer().submit(id, lane -> sendOnLane(lane, caller, id, cmid, r, fp)));
        });
  }

  private SendMessage withContent(SendMessage request, BeforeSendHook.Content content) {
    if (content.contentType().equals(request.getContentType())
        && content.body().equals(request.getBody())) {
      return request;
    }
    Validation.maxChars("content_type", content.contentType(), MAX_CONTENT_TYPE_CHARS);
    requireBodySize(content.body().size());
    return request.toBuilder().setContentType(content.contentType()).setBody(content.body()).build();
  }

  private CompletableFuture<SendResult> sendOnLane(
      LaneContext lane,
      Caller caller,
      String id,
      String cmid,
      SendMessage request,
      byte[] fingerprint) {
    ConversationState s = lane.state(id);
    MemberRecord me = Access.requireVisible(s, caller);
    if (caller.isChecked() && s.isChannel() && !Access.isManager(me.role())) {
      throw ParleyException.forbidden("only owners and admins can post in a channel");
    }
    String user = caller.userId();

    ConversationState.RecentSend recent = s.recentSend(user, cmid);
    if (recent != null) {
      if (!Arrays.equals(recent.fingerprint(), fingerprint)) {
        throw conflict();
      }
      return recent.result().thenApply(MessageServiceImpl::asDuplicate);
    }
    OptionalLong prior = ctx.store().idempotentSeq(id, user, cmid);
    if (prior.isPresent()) {
      return CompletableFuture.completedFuture(
          duplicateOf(s, prior.getAsLong(), fingerprint, hook.enabled()));
    }

    ConversationRecord head = s.head();
    if (request.getReplyToSeq() > head.lastSeq()) {
      throw ParleyException.badRequest("reply_to_seq is beyond the end of the conversation");
    }
    Set<String> mentions = new LinkedHashSet<>();
    for (String m : request.getMentionsList()) {
      if (Validation.isValidUserId(m) && s.member(m) != null) {
        mentions.add(m);
      }
    }

    StateChange ch = s.change(ctx.clock());
    Event e =
        ch.append(
            actor(caller)
                .setMessagePosted(
                    MessagePosted.newBuilder()
                        .setMessageId(Ids.timeOrdered(Ids.MESSAGE_PREFIX))
                        .setClientMsgId(cmid)
                        .setContentType(request.getContentType())
                        .setBody(request.getBody())
                        .setReplyToSeq(request.getReplyToSeq())
                        .addAllMentions(mentions)));
    CompletableFuture<SendResult> promise = new CompletableFuture<>();
    ch.putSend(
        new IdempotencyEntry(id, user, cmid, e.getSeq()),
        new ConversationState.RecentSend(fingerprint, promise));
    if (me != null) {
      ReceiptRecord old = s.receipt(user);
      ch.putReceipt(
          new ReceiptRecord(
              id,
              user,
              Math.max(old == null ? 0 : old.deliveredSeq(), e.getSeq()),
              e.getSeq(),
              s.head().messageCount()));
    }
    return answerWhenCommitted(
        lane, ch, resultOf(e, e.getMessagePosted().getMessageId(), false), promise);
  }

  /**
   * Commits and publishes the change, then completes {@code promise} (which a resend with the same
   * key may already wait on) with {@code result}, or with the failure.
   */
  private CompletableFuture<SendResult> answerWhenCommitted(
      LaneContext lane, StateChange ch, SendResult result, CompletableFuture<SendResult> promise) {
    ctx.commitAndPublish(lane, ch)
        .whenComplete(
            (v, err) -> {
              if (err == null) {
                promise.complete(result);
              } else {
                promise.completeExceptionally(err);
              }
            });
    return promise;
  }

  /**
   * The original result of a committed send. With a before-send hook the stored content may be
   * the hook's rewrite of what the client sent, which the resend cannot be compared with, so the
   * content check ({@code CONFLICT}) is skipped then ({@code mayBeRewritten}).
   */
  private static SendResult duplicateOf(
      ConversationState s, long seq, byte[] fingerprint, boolean mayBeRewritten) {
    StoredEvent original = s.event(seq);
    if (original == null && seq > s.head().lastSeq()) {
      throw movedSince(s);
    }
    if (original != null && !original.event().hasMessagePosted()) {
      throw conflict(); // the key was used for an edit, delete or reaction
    }
    if (original == null) {
      throw new IllegalStateException(
          "idempotency key of " + s.conversationId() + " points at missing message " + seq);
    }
    MessagePosted p = original.event().getMessagePosted();
    if (!Tombstones.isTombstone(p)
        && !mayBeRewritten
        && !Arrays.equals(
            fingerprint,
            ContentFingerprint.of(p.getContentType(), p.getBody(), p.getReplyToSeq()))) {
      throw conflict();
    }
    return resultOf(original.event(), p.getMessageId(), true);
  }

  @Override
  public CompletableFuture<SendResult> edit(Caller caller, EditMessage request) {
    return EngineFailures.guard(
        () -> {
          Validation.maxChars("content_type", request.getContentType(), MAX_CONTENT_TYPE_CHARS);
          requireBodySize(request.getBody().size());
          if (!hook.enabled()) {
            return editOnTarget(caller, request);
          }
          String id = Validation.requireId("conversation_id", request.getConversationId());
          CompletableFuture<EditMessage> checked =
              hook.check(
                  new BeforeSendHook.Submission(
                      BeforeSendHook.Submission.EDIT,
                      id,
                      Objects.toString(caller.userId(), ""),
                      caller.deviceId(),
                      "",
                      request.getTargetSeq(),
                      new BeforeSendHook.Content(request.getContentType(), request.getBody())))
              .thenApply(content -> withContent(request, content));
          return arrivalOrder.inOrder(id, checked, r -> editOnTarget(caller, r));
        });
  }

  private EditMessage withContent(EditMessage request, BeforeSendHook.Content content) {
    if (content.contentType().equals(request.getContentType())
        && content.body().equals(request.getBody())) {
      return request;
    }
    Validation.maxChars("content_type", content.contentType(), MAX_CONTENT_TYPE_CHARS);
    requireBodySize(content.body().size());
    return request.toBuilder().setContentType(content.contentType()).setBody(content.body()).build();
  }

  private CompletableFuture<SendResult> editOnTarget(Caller caller, EditMessage request) {
          return onTarget(
              caller,
              request.getConversationId(),
              request.getTargetSeq(),
              request.getClientMsgId(),
              (me, target) -> {
                if (caller.isChecked()
                    && !target.event().getActorUserId().equals(caller.userId())) {
                  throw ParleyException.forbidden("only the sender can edit a message");
                }
                return actor(caller)
                    .setMessageEdited(
                        MessageEdited.newBuilder()
                            .setTargetSeq(target.seq())
                            .setContentType(request.getContentType())
                            .setBody(request.getBody()));
              });
  }

  @Override
  public CompletableFuture<SendResult> delete(Caller caller, DeleteMessage request) {
    return EngineFailures.guard(
        () ->
            onTarget(
                caller,
                request.getConversationId(),
                request.getTargetSeq(),
                request.getClientMsgId(),
                (me, target) -> {
                  boolean own = target.event().getActorUserId().equals(caller.userId());
                  if (caller.isChecked() && !own && !Access.isManager(me.role())) {
                    throw ParleyException.forbidden(
                        "only the sender, owners and admins can delete a message");
                  }
                  return actor(caller)
                      .setMessageDeleted(MessageDeleted.newBuilder().setTargetSeq(target.seq()));
                }));
  }

  @Override
  public CompletableFuture<SendResult> addReaction(Caller caller, AddReaction request) {
    return EngineFailures.guard(
        () -> {
          Access.requireUser(caller);
          requireReaction(request.getReaction());
          return onTarget(
              caller,
              request.getConversationId(),
              request.getTargetSeq(),
              request.getClientMsgId(),
              (me, target) ->
                  actor(caller)
                      .setReactionAdded(
                          ReactionAdded.newBuilder()
                              .setTargetSeq(target.seq())
                              .setReaction(request.getReaction())));
        });
  }

  @Override
  public CompletableFuture<SendResult> removeReaction(Caller caller, RemoveReaction request) {
    return EngineFailures.guard(
        () -> {
          Access.requireUser(caller);
          requireReaction(request.getReaction());
          return onTarget(
              caller,
              request.getConversationId(),
              request.getTargetSeq(),
              request.getClientMsgId(),
              (me, target) ->
                  actor(caller)
                      .setReactionRemoved(
                          ReactionRemoved.newBuilder()
                              .setTargetSeq(target.seq())
                              .setReaction(request.getReaction())));
        });
  }

  /**
   * Sequences an event about an existing, not deleted message: checks visibility, finds the
   * target, lets {@code build} check permissions and build the event, tombstones the target for a
   * delete, commits, publishes and answers with the new seq and the target's message id. With an
   * idempotency key ({@code opId}, the request's {@code client_msg_id}) the key is recorded with
   * the event, and a repeat answers the first result instead of appending again.
   */
  private CompletableFuture<SendResult> onTarget(
      Caller caller,
      String conversationId,
      long targetSeq,
      String opId,
      BiFunction<MemberRecord, StoredEvent, Event.Builder> build) {
    String id = Validation.requireId("conversation_id", conversationId);
    if (targetSeq <= 0) {
      throw ParleyException.badRequest("target_seq is required");
    }
    if (!opId.isEmpty()) {
      Validation.requireId("client_msg_id", opId);
    }
    return ctx.sequencer()
        .submit(
            id,
            lane -> {
              ConversationState s = lane.state(id);
              MemberRecord me = Access.requireVisible(s, caller);
              String user = Objects.toString(caller.userId(), "");
              if (!opId.isEmpty()) {
                ConversationState.RecentSend recent = s.recentSend(user, opId);
                if (recent != null) {
                  return recent.result().thenApply(MessageServiceImpl::asDuplicate);
                }
                OptionalLong prior = ctx.store().idempotentSeq(id, user, opId);
                if (prior.isPresent()) {
                  return CompletableFuture.completedFuture(
                      repeatedOperation(s, prior.getAsLong()));
                }
              }
              StoredEvent target = s.event(targetSeq);
              if (target == null
                  || !target.event().hasMessagePosted()
                  || Tombstones.isTombstone(target.event().getMessagePosted())) {
                throw ParleyException.notFound(MESSAGE_NOT_FOUND);
              }
              Event.Builder event = build.apply(me, target);
              StateChange ch = s.change(ctx.clock());
              if (event.hasMessageDeleted()) {
                ch.rewrite(Tombstones.tombstone(target));
              }
              Event e = ch.append(event);
              SendResult result =
                  resultOf(e, target.event().getMessagePosted().getMessageId(), false);
              CompletableFuture<SendResult> promise = new CompletableFuture<>();
              if (!opId.isEmpty()) {
                ch.putSend(
                    new IdempotencyEntry(id, user, opId, e.getSeq()),
                    new ConversationState.RecentSend(NOT_A_SEND, promise));
              }
              return answerWhenCommitted(lane, ch, result, promise);
            });
  }

  /**
   * A stored idempotency key is newer than this state: another engine sequenced the conversation
   * since it was loaded (this one was paused while its shard moved). The state is dropped, never
   * answered from again, and the caller retries.
   */
  private static ParleyException movedSince(ConversationState s) {
    s.poison();
    return new ParleyException(
        ErrorCode.UNAVAILABLE, "conversation " + s.conversationId() + " moved, retry", 100);
  }

  /** The first result of an operation repeated with the same idempotency key. */
  private static SendResult repeatedOperation(ConversationState s, long seq) {
    StoredEvent first = s.event(seq);
    if (first == null && seq > s.head().lastSeq()) {
      throw movedSince(s);
    }
    long target = targetOf(first == null ? null : first.event());
    if (target <= 0) {
      throw new ParleyException(
          ErrorCode.CONFLICT, "client_msg_id was already used for another kind of request");
    }
    StoredEvent message = s.event(target);
    String messageId =
        message != null && message.event().hasMessagePosted()
            ? message.event().getMessagePosted().getMessageId()
            : "";
    return resultOf(first.event(), messageId, true);
  }

  /** The message an edit, delete or reaction event is about, or 0 for any other event. */
  private static long targetOf(Event e) {
    if (e == null) {
      return 0;
    }
    return switch (e.getKindCase()) {
      case MESSAGE_EDITED -> e.getMessageEdited().getTargetSeq();
      case MESSAGE_DELETED -> e.getMessageDeleted().getTargetSeq();
      case REACTION_ADDED -> e.getReactionAdded().getTargetSeq();
      case REACTION_REMOVED -> e.getReactionRemoved().getTargetSeq();
      default -> 0;
    };
  }

  @Override
  public CompletableFuture<HistoryPage> history(Caller caller, GetHistory request) {
    return EngineFailures.guard(
        () -> {
          String id = Validation.requireId("conversation_id", request.getConversationId());
          int cap = Math.max(1, ctx.limits().maxHistoryPage());
          int limit =
              request.getLimit() <= 0
                  ? Math.min(ConversationServiceImpl.DEFAULT_PAGE, cap)
                  : Math.min(request.getLimit(), cap);
          boolean forward = request.getDirection() == Direction.DIRECTION_FORWARD;
          long from = request.getFromSeq();
          return ctx.read(
              () -> {
                Access.Visible v = Access.requireVisible(ctx.store(), id, caller);
                long last = v.conversation().lastSeq();
                List<StoredEvent> events;
                if (forward) {
                  events =
                      from >= last
                          ? List.of()
                          : ctx.store().events(id, from + 1, last, limit + 1, true);
                } else {
                  long upper = from == 0 ? last : Math.min(from - 1, last);
                  events =
                      upper < 1 ? List.of() : ctx.store().events(id, 1, upper, limit + 1, false);
                }
                boolean more = events.size() > limit;
                List<StoredEvent> page = more ? events.subList(0, limit) : events;
                return HistoryPage.newBuilder()
                    .setConversationId(id)
                    .addAllEvents(Tombstones.redact(ctx.store(), page))
                    .setHasMore(more)
                    .build();
              });
        });
  }

  private void requireBodySize(int size) {
    if (size > ctx.limits().maxMessageBytes()) {
      throw new ParleyException(
          ErrorCode.TOO_LARGE,
          "message body is larger than " + ctx.limits().maxMessageBytes() + " bytes");
    }
  }

  private static void requireReaction(String reaction) {
    if (reaction.isEmpty()) {
      throw ParleyException.badRequest("reaction is required");
    }
    Validation.maxUtf8Bytes("reaction", reaction, MAX_REACTION_BYTES);
  }

  private static ParleyException conflict() {
    return new ParleyException(
        ErrorCode.CONFLICT, "client_msg_id was already used for a different message");
  }

  private static SendResult resultOf(Event e, String messageId, boolean duplicate) {
    return SendResult.newBuilder()
        .setConversationId(e.getConversationId())
        .setSeq(e.getSeq())
        .setMessageId(messageId)
        .setTimestampMs(e.getTimestampMs())
        .setDuplicate(duplicate)
        .build();
  }

  private static SendResult asDuplicate(SendResult r) {
    return r.toBuilder().setDuplicate(true).build();
  }

  private static Event.Builder actor(Caller caller) {
    return Event.newBuilder()
        .setActorUserId(caller.userId())
        .setActorDeviceId(caller.deviceId());
  }
}
