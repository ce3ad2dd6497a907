package io.parley.server.store;

/**
 * One entry of a user's change feed: "event {@code seq} of {@code conversationId} concerns this
 * user". Direct and group conversations write one entry per member per event; channels write
 * entries only for the joining or leaving user's own membership events, so a large channel never
 * fans out a write per subscriber. Feed sequence numbers are per user, strictly increasing, and
 * assigned in commit order, so a reader that saw feed entry N has also seen every entry before N.
 */
public record FeedEntry(String userId, long feedSeq, String conversationId, long seq) {}
