package io.parley.server.messaging;

import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessageEdited;
import io.parley.protocol.v1.MessagePosted;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.StoredEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How deleted messages disappear from history. When a {@code MessageDeleted} commits, the same
 * store write rewrites the target {@code MessagePosted} as a tombstone: content type, body,
 * mentions and client message id cleared (message id, reply target, actor and timestamp stay).
 * Because sending requires a client message id, an empty one marks a tombstone unambiguously.
 * Edits of a deleted message are redacted when read ({@link #redact}), so no reader ever gets
 * deleted content from the store. Stateless; thread-safe.
 */
public final class Tombstones {
  private Tombstones() {}

  /** True when the posted message was deleted. */
  public static boolean isTombstone(MessagePosted posted) {
    return posted.getClientMsgId().isEmpty();
  }

  /** The tombstone replacing a stored {@code MessagePosted} event. */
  public static StoredEvent tombstone(StoredEvent posted) {
    MessagePosted p = posted.event().getMessagePosted();
    MessagePosted stripped =
        MessagePosted.newBuilder()
            .setMessageId(p.getMessageId())
            .setReplyToSeq(p.getReplyToSeq())
            .build();
    return new StoredEvent(
        posted.event().toBuilder().setMessagePosted(stripped).build(), posted.messageOrdinal());
  }

  /**
   * The wire events for readers: edits whose target message was deleted lose their content.
   * Targets are looked up in {@code events} first, then in the store (blocking reads, at most one
   * per distinct edited target).
   */
  public static List<Event> redact(ParleyStore store, List<StoredEvent> events) {
    Map<Long, Event> bySeq = new HashMap<>();
    for (StoredEvent x : events) {
      bySeq.put(x.seq(), x.event());
    }
    Map<Long, Boolean> deleted = new HashMap<>();
    List<Event> out = new ArrayList<>(events.size());
    for (StoredEvent se : events) {
      Event e = se.event();
      if (e.hasMessageEdited()) {
        long target = e.getMessageEdited().getTargetSeq();
        String conversationId = e.getConversationId();
        boolean gone =
            deleted.computeIfAbsent(
                target,
                t -> {
                  Event te = bySeq.get(t);
                  if (te == null) {
                    te = store.event(conversationId, t).map(StoredEvent::event).orElse(null);
                  }
                  return te == null || !te.hasMessagePosted() || isTombstone(te.getMessagePosted());
                });
        if (gone) {
          e =
              e.toBuilder()
                  .setMessageEdited(MessageEdited.newBuilder().setTargetSeq(target).build())
                  .build();
        }
      }
      out.add(e);
    }
    return out;
  }
}
