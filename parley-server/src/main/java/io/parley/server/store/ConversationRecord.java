package io.parley.server.store;

import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.ReceiptVisibility;
import java.util.Objects;

/**
 * The head of a conversation: its kind and settings plus the counters the sequencer advances with
 * every commit.
 *
 * @param lastSeq seq of the newest event (0 before the first)
 * @param messageCount number of {@code MessagePosted} events in the log (used for unread counts)
 * @param lastMessageSeq seq of the newest {@code MessagePosted} event, 0 if none
 * @param memberCount current number of members
 */
public record ConversationRecord(
    String conversationId,
    ConversationKind kind,
    ConversationMetadata metadata,
    boolean isPublic,
    ReceiptVisibility receiptVisibility,
    long createdAtMs,
    long lastSeq,
    long messageCount,
    long lastMessageSeq,
    int memberCount) {
  public ConversationRecord {
    Objects.requireNonNull(conversationId, "conversationId");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(receiptVisibility, "receiptVisibility");
  }
}
