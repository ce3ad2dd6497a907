package io.parley.server.store.cassandra;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Assigns per-user feed seqs for the writer: each user's committed head is read lazily from {@code
 * feed_heads} and cached in a bounded LRU. Seqs handed out for the batch being built stay pending
 * until {@link #commit()}; {@link #rollback()} forgets them and the whole cache, so after a failed
 * batch every head is re-read from the cluster. (The embedded engine has the same logic in its own
 * package; this copy stays here so the engines remain independent of each other.)
 *
 * <p>Not thread-safe: confined to the writer thread.
 */
final class FeedHeads {
  private final ToLongFunction<String> committedHead;
  private final Map<String, Long> pending = new LinkedHashMap<>();
  private final LinkedHashMap<String, Long> cache;

  FeedHeads(ToLongFunction<String> committedHead, int cacheSize) {
    this.committedHead = committedHead;
    this.cache =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > cacheSize;
          }
        };
  }

  /** The user's next feed seq in the batch being built. */
  long next(String userId) {
    Long current = pending.get(userId);
    if (current == null) {
      current = cache.get(userId);
    }
    long next = (current != null ? current : committedHead.applyAsLong(userId)) + 1;
    pending.put(userId, next);
    return next;
  }

  /** The batch is durable: its seqs become the users' heads. */
  void commit() {
    cache.putAll(pending);
    pending.clear();
  }

  /** The batch failed (or its outcome is unknown): forget its seqs and every cached head. */
  void rollback() {
    pending.clear();
    cache.clear();
  }
}
