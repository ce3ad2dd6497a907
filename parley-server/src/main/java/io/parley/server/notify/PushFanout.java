package io.parley.server.notify;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessagePosted;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Decides, once the push delay after a message has passed, which devices get a push: every push
 * target of every member except the sender, unless the member muted the conversation or one of
 * the member's devices already received the event (the member's delivered receipt reached its
 * seq: the client acknowledged it after getting it over its socket or a sync). Creates one {@code
 * push} job per device, with the member's exact unread total as badge, in the same commit that
 * completes the fan-out job, so each (event, device) gets exactly one job. Runs on the
 * notification thread (blocking store reads).
 */
final class PushFanout implements JobHandler {
  static final String OPAQUE_BODY = "New message";
  private static final int PAGE = 500;
  private static final int MAX_PREVIEW_CHARS = 200;

  private final ParleyStore store;
  private final Set<String> providers;
  private final boolean preview;
  private final Clock clock;
  private final Counter prepared;

  PushFanout(
      ParleyStore store, Set<String> providers, boolean preview, Clock clock, MeterRegistry metrics) {
    this.store = store;
    this.providers = Set.copyOf(providers);
    this.preview = preview;
    this.clock = clock;
    this.prepared =
        Counter.builder("parley.notify.pushes.prepared")
            .description("Push jobs created by fan-outs (one per device to notify)")
            .register(metrics);
  }

  @Override
  public CompletableFuture<JobOutcome> attempt(OutboxJob job) {
    String conversationId = job.target();
    Optional<StoredEvent> stored = store.event(conversationId, job.seq());
    Optional<ConversationRecord> conversation = store.conversation(conversationId);
    if (stored.isEmpty() || conversation.isEmpty() || !stored.get().event().hasMessagePosted()) {
      return CompletableFuture.completedFuture(new JobOutcome.Done("nothing_to_push", w -> {}));
    }
    Event e = stored.get().event();
    String title = title(conversation.get(), e.getActorUserId());
    String body = body(conversation.get(), e.getMessagePosted());
    List<OutboxJob> pushes = new ArrayList<>();
    String after = "";
    while (true) {
      List<MemberRecord> page = store.members(conversationId, after, PAGE);
      for (MemberRecord m : page) {
        if (shouldNotify(m.userId(), e)) {
          addPushes(pushes, m.userId(), e, title, body);
        }
      }
      if (page.size() < PAGE) {
        break;
      }
      after = page.get(page.size() - 1).userId();
    }
    String note = pushes.isEmpty() ? "no_push_needed" : "fanned_out";
    return CompletableFuture.completedFuture(
        new JobOutcome.Done(
            note,
            w -> {
              pushes.forEach(w::putOutboxJob);
              // Counted when the commit is being built; a failed commit retries the fan-out and
              // counts again, which only makes a test waiting for this counter wait longer.
              prepared.increment(pushes.size());
            }));
  }

  private boolean shouldNotify(String userId, Event e) {
    if (userId.equals(e.getActorUserId()) || store.isMuted(userId, e.getConversationId())) {
      return false;
    }
    Optional<ReceiptRecord> r = store.receipt(e.getConversationId(), userId);
    return r.isEmpty() || (r.get().deliveredSeq() < e.getSeq() && r.get().readSeq() < e.getSeq());
  }

  private void addPushes(List<OutboxJob> out, String userId, Event e, String title, String body) {
    List<PushTargetRecord> targets = store.pushTargets(userId, 100);
    if (targets.isEmpty()) {
      return;
    }
    long badge = unreadTotal(userId);
    long now = clock.millis();
    for (PushTargetRecord t : targets) {
      if (!providers.contains(t.provider())) {
        continue;
      }
      String lane = OutboxKeys.pushLane(userId, t.targetId(), e.getConversationId());
      String id = OutboxKeys.jobId(OutboxKeys.PUSH, lane, e.getSeq());
      PushMessage m =
          new PushMessage(
              id,
              userId,
              t.deviceId(),
              t.targetId(),
              "",
              e.getConversationId(),
              e.getSeq(),
              e.getMessagePosted().getMessageId(),
              title,
              body,
              badge);
      out.add(
          new OutboxJob(
              lane, e.getSeq(), id, OutboxKeys.PUSH, t.targetId(), PushJobs.encode(m), 0, now, "",
              now));
    }
  }

  /** The user's unread messages over all conversations, as the conversation list shows them. */
  long unreadTotal(String userId) {
    long total = 0;
    String after = "";
    while (true) {
      List<MemberRecord> page = store.userConversations(userId, after, PAGE);
      for (MemberRecord m : page) {
        Optional<ConversationRecord> c = store.conversation(m.conversationId());
        if (c.isEmpty()) {
          continue;
        }
        long readOrdinal =
            store
                .receipt(m.conversationId(), userId)
                .map(ReceiptRecord::readMessageOrdinal)
                .orElse(0L);
        total += Math.max(0L, c.get().messageCount() - readOrdinal);
      }
      if (page.size() < PAGE) {
        return total;
      }
      after = page.get(page.size() - 1).conversationId();
    }
  }

  private String title(ConversationRecord c, String actor) {
    String t = c.metadata().getTitle();
    if (!t.isBlank()) {
      return t;
    }
    return store.user(actor).map(u -> u.displayName().isBlank() ? actor : u.displayName()).orElse(actor);
  }

  /**
   * Only text the server can read is previewed, any other content type is opaque; the
   * conversation's {@code push_preview} overrides the server-wide default.
   */
  private String body(ConversationRecord c, MessagePosted m) {
    boolean show =
        switch (c.metadata().getPushPreview()) {
          case PUSH_PREVIEW_FULL -> true;
          case PUSH_PREVIEW_NONE -> false;
          default -> preview;
        };
    if (!show || !m.getContentType().startsWith("text/")) {
      return OPAQUE_BODY;
    }
    String text = new String(m.getBody().toByteArray(), StandardCharsets.UTF_8);
    return text.length() <= MAX_PREVIEW_CHARS ? text : text.substring(0, MAX_PREVIEW_CHARS) + "…";
  }
}
