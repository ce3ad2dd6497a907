package io.parley.client;

import java.util.List;
import java.util.Objects;

/**
 * Optional parts of a message sent with {@link ParleyClient#send(String, String, byte[],
 * SendOptions)}. Immutable.
 *
 * @param clientMsgId the idempotency key to use, or {@code null} to let the client generate a
 *     random UUID. Supplying one lets the application correlate the message with its own records
 *     (e.g. an optimistic bubble) before the send completes.
 * @param replyToSeq seq of the message this one replies to; 0 for none
 * @param mentions ids of users mentioned in the message
 */
public record SendOptions(String clientMsgId, long replyToSeq, List<String> mentions) {
  private static final SendOptions NONE = new SendOptions(null, 0, List.of());

  public SendOptions {
    if (clientMsgId != null && clientMsgId.isEmpty()) {
      throw new IllegalArgumentException("clientMsgId must be null or non-empty");
    }
    if (replyToSeq < 0) {
      throw new IllegalArgumentException("replyToSeq must be >= 0");
    }
    mentions = List.copyOf(Objects.requireNonNull(mentions, "mentions"));
  }

  /** No options: generated id, not a reply, no mentions. */
  public static SendOptions none() {
    return NONE;
  }

  /** Returns a copy with the given idempotency key. */
  public SendOptions withClientMsgId(String id) {
    return new SendOptions(Objects.requireNonNull(id, "id"), replyToSeq, mentions);
  }

  /** Returns a copy replying to {@code seq}. */
  public SendOptions withReplyTo(long seq) {
    return new SendOptions(clientMsgId, seq, mentions);
  }

  /** Returns a copy mentioning the given users. */
  public SendOptions withMentions(List<String> userIds) {
    return new SendOptions(clientMsgId, replyToSeq, userIds);
  }
}
