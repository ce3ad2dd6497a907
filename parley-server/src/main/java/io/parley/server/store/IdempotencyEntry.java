package io.parley.server.store;

/**
 * Maps a client's idempotency key ({@code client_msg_id}, scoped to sender and conversation) to
 * the seq of the event it created, so that a resend returns the original event.
 */
public record IdempotencyEntry(
    String conversationId, String userId, String clientMsgId, long seq) {}
