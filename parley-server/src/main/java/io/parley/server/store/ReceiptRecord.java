package io.parley.server.store;

import java.util.Objects;

/**
 * A user's cumulative positions in a conversation. Both positions only move forward.
 *
 * @param deliveredSeq every event up to this seq reached one of the user's devices
 * @param readSeq the user read every event up to this seq
 * @param readMessageOrdinal the conversation's message count at {@code readSeq}; the unread count
 *     is {@code messageCount - readMessageOrdinal}
 */
public record ReceiptRecord(
    String conversationId,
    String userId,
    long deliveredSeq,
    long readSeq,
    long readMessageOrdinal) {
  public ReceiptRecord {
    Objects.requireNonNull(conversationId, "conversationId");
    Objects.requireNonNull(userId, "userId");
  }
}
