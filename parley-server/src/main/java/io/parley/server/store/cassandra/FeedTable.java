package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.StoreUnavailableException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Per-(user, shard) change feeds: {@code shard_feed}, {@code PRIMARY KEY ((user_id, shard,
 * bucket), feed_seq)} with {@code bucket = feed_seq / }{@value Buckets#SIZE}, and {@code
 * shard_feed_heads}, the highest committed feed seq of each (user, shard), written in the same
 * logged batch as the entries and clustered by shard under the user, so one query reads all of a
 * user's heads. Reads never go past the head, so an entry that is on disk without its head (a
 * failed batch replayed late, see docs/architecture.md) stays invisible until a later commit
 * overwrites it. Feed seqs themselves are assigned by the store's single writer ({@link
 * FeedHeads}). Thread-safe.
 */
final class FeedTable {
  private static final int HEAD_READS_IN_FLIGHT = 128;

  /** One feed: a user's entries of one shard. */
  record Key(String userId, int shard) {}

  private final Cql cql;
  private final int shards;
  private final PreparedStatement insert;
  private final PreparedStatement insertHead;
  private final PreparedStatement selectHead;
  private final PreparedStatement selectHeads;
  private final PreparedStatement page;

  FeedTable(Cql cql, int shards) {
    this.cql = cql;
    this.shards = shards;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.shard_feed (user_id, shard, bucket, feed_seq, conversation_id, seq)"
                + " VALUES (?, ?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.insertHead =
        cql.prepare(
            "INSERT INTO ${ks}.shard_feed_heads (user_id, shard, head) VALUES (?, ?, ?)"
                + " USING TIMESTAMP ?");
    this.selectHead =
        cql.prepare("SELECT head FROM ${ks}.shard_feed_heads WHERE user_id = ? AND shard = ?");
    this.selectHeads =
        cql.prepare("SELECT shard, head FROM ${ks}.shard_feed_heads WHERE user_id = ?");
    this.page =
        cql.prepare(
            "SELECT feed_seq, conversation_id, seq FROM ${ks}.shard_feed"
                + " WHERE user_id = ? AND shard = ? AND bucket = ? AND feed_seq > ?"
                + " AND feed_seq <= ? LIMIT ?");
  }

  void append(
      List<BatchableStatement<?>> batch,
      Key feed,
      long feedSeq,
      String conversationId,
      long seq,
      long timestamp) {
    batch.add(
        Cql.bind(
            insert,
            feed.userId(),
            feed.shard(),
            Buckets.of(feedSeq),
            feedSeq,
            conversationId,
            seq,
            timestamp));
  }

  void putHead(List<BatchableStatement<?>> batch, Key feed, long head, long timestamp) {
    batch.add(Cql.bind(insertHead, feed.userId(), feed.shard(), head, timestamp));
  }

  /** The highest committed feed seq of one feed, 0 if none. */
  long head(Key feed) {
    Ids.check(feed.userId());
    Row row = cql.one(Cql.bind(selectHead, feed.userId(), feed.shard()));
    return row == null ? 0 : row.getLong("head");
  }

  /** The committed heads of every shard feed of the user (index = shard, 0 if none). */
  long[] heads(String userId) {
    Ids.check(userId);
    long[] out = new long[shards];
    for (Row row : cql.rows(Cql.bind(selectHeads, userId), r -> r)) {
      int shard = row.getInt("shard");
      if (shard >= 0 && shard < shards) {
        out[shard] = row.getLong("head");
      }
    }
    return out;
  }

  /**
   * The committed heads of many feeds at once (absent feeds map to 0), read concurrently in slices
   * so that a first message to a large group costs a few round trips, not one per member.
   */
  Map<Key, Long> heads(Collection<Key> feeds) {
    Map<Key, Long> out = new HashMap<>();
    List<Key> keys = new ArrayList<>(feeds);
    for (int from = 0; from < keys.size(); from += HEAD_READS_IN_FLIGHT) {
      List<Key> slice = keys.subList(from, Math.min(keys.size(), from + HEAD_READS_IN_FLIGHT));
      List<CompletableFuture<AsyncResultSet>> reads = new ArrayList<>(slice.size());
      CqlSession session = cql.session();
      for (Key feed : slice) {
        reads.add(
            session
                .executeAsync(Cql.bind(selectHead, feed.userId(), feed.shard()))
                .toCompletableFuture());
      }
      for (int i = 0; i < slice.size(); i++) {
        Row row;
        try {
          row = reads.get(i).join().one();
        } catch (CompletionException e) {
          Throwable cause = e.getCause() == null ? e : e.getCause();
          throw new StoreUnavailableException("cannot read feed heads: " + cause.getMessage(), cause);
        }
        out.put(slice.get(i), row == null ? 0 : row.getLong("head"));
      }
    }
    return out;
  }

  List<FeedEntry> read(String userId, int shard, long afterFeedSeq, int limit) {
    Ids.check(userId);
    Ids.checkLimit(limit);
    if (shard < 0 || shard >= shards) {
      throw new IllegalArgumentException(
          "shard must be in [0, " + shards + "), got " + shard);
    }
    if (limit == 0 || afterFeedSeq == Long.MAX_VALUE) {
      return List.of();
    }
    long after = Math.max(afterFeedSeq, 0);
    long head = head(new Key(userId, shard));
    if (head <= after) {
      return List.of();
    }
    List<FeedEntry> out = new ArrayList<>(Math.min(limit, 128));
    for (long bucket = Buckets.of(after + 1);
        bucket <= Buckets.of(head) && out.size() < limit;
        bucket++) {
      int remaining = limit - out.size();
      out.addAll(
          cql.rows(
              Cql.bind(page, userId, shard, bucket, after, head, remaining),
              r ->
                  new FeedEntry(
                      userId,
                      shard,
                      r.getLong("feed_seq"),
                      r.getString("conversation_id"),
                      r.getLong("seq"))));
    }
    return out;
  }
}
