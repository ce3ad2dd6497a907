package io.parley.server.store;

/**
 * One entry of a user's change feed: "event {@code seq} of {@code conversationId} concerns this
 * user". Direct and group conversations write one entry per member per event; channels write
 * entries only for the joining or leaving user's own membership events, so a large channel never
 * fans out a write per subscriber.
 *
 * <p>A user has one feed per {@link ConversationShards shard}; an entry lives in the feed of its
 * conversation's shard. Feed sequence numbers are per (user, shard), strictly increasing, and
 * assigned in commit order, so a reader that saw entry N of a shard's feed has also seen every
 * entry before N of that feed.
 */
public record FeedEntry(String userId, int shard, long feedSeq, String conversationId, long seq) {}
