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
 * Per-user change feeds: {@code feed}, {@code PRIMARY KEY ((user_id, bucket), feed_seq)} with
 * {@code bucket = feed_seq / }{@value Buckets#SIZE}, and {@code feed_heads}, each user's highest
 * committed feed seq, written in the same logged batch as the entries. Reads never go past the
 * head, so an entry that is on disk without its head (a failed batch replayed late, see
 * docs/architecture.md) stays invisible until a later commit overwrites it. Feed seqs themselves
 * are assigned by the store's single writer ({@link FeedHeads}). Thread-safe.
 */
final class FeedTable {
  private static final int HEAD_READS_IN_FLIGHT = 128;

  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement insertHead;
  private final PreparedStatement selectHead;
  private final PreparedStatement page;

  FeedTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.feed (user_id, bucket, feed_seq, conversation_id, seq)"
                + " VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.insertHead =
        cql.prepare("INSERT INTO ${ks}.feed_heads (user_id, head) VALUES (?, ?) USING TIMESTAMP ?");
    this.selectHead = cql.prepare("SELECT head FROM ${ks}.feed_heads WHERE user_id = ?");
    this.page =
        cql.prepare(
            "SELECT feed_seq, conversation_id, seq FROM ${ks}.feed"
                + " WHERE user_id = ? AND bucket = ? AND feed_seq > ? AND feed_seq <= ? LIMIT ?");
  }

  void append(
      List<BatchableStatement<?>> batch,
      String userId,
      long feedSeq,
      String conversationId,
      long seq,
      long timestamp) {
    batch.add(
        Cql.bind(
            insert, userId, Buckets.of(feedSeq), feedSeq, conversationId, seq, timestamp));
  }

  void putHead(List<BatchableStatement<?>> batch, String userId, long head, long timestamp) {
    batch.add(Cql.bind(insertHead, userId, head, timestamp));
  }

  /** The highest committed feed seq of the user, 0 if none. */
  long head(String userId) {
    Ids.check(userId);
    Row row = cql.one(Cql.bind(selectHead, userId));
    return row == null ? 0 : row.getLong("head");
  }

  /**
   * The committed heads of many users at once (absent users map to 0), read concurrently in
   * slices so that a first message to a large group costs a few round trips, not one per member.
   */
  Map<String, Long> heads(Collection<String> userIds) {
    Map<String, Long> out = new HashMap<>();
    List<String> ids = new ArrayList<>(userIds);
    for (int from = 0; from < ids.size(); from += HEAD_READS_IN_FLIGHT) {
      List<String> slice = ids.subList(from, Math.min(ids.size(), from + HEAD_READS_IN_FLIGHT));
      List<CompletableFuture<AsyncResultSet>> reads = new ArrayList<>(slice.size());
      CqlSession session = cql.session();
      for (String userId : slice) {
        reads.add(session.executeAsync(Cql.bind(selectHead, userId)).toCompletableFuture());
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

  List<FeedEntry> read(String userId, long afterFeedSeq, int limit) {
    Ids.check(userId);
    Ids.checkLimit(limit);
    if (limit == 0 || afterFeedSeq == Long.MAX_VALUE) {
      return List.of();
    }
    long after = Math.max(afterFeedSeq, 0);
    long head = head(userId);
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
              Cql.bind(page, userId, bucket, after, head, remaining),
              r ->
                  new FeedEntry(
                      userId, r.getLong("feed_seq"), r.getString("conversation_id"), r.getLong("seq"))));
    }
    return out;
  }
}
