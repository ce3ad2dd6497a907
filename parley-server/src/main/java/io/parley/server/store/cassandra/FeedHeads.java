package io.parley.server.store.cassandra;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
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
  private final Function<Collection<String>, Map<String, Long>> committedHeads;
  private final Map<String, Long> pending = new LinkedHashMap<>();
  private final LinkedHashMap<String, Long> cache;

  /**
   * @param committedHead reads one user's committed head (0 if none)
   * @param committedHeads reads many users' committed heads at once
   * @param cacheSize most users whose heads are kept in memory
   */
  FeedHeads(
      ToLongFunction<String> committedHead,
      Function<Collection<String>, Map<String, Long>> committedHeads,
      int cacheSize) {
    this.committedHead = committedHead;
    this.committedHeads = committedHeads;
    this.cache =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > cacheSize;
          }
        };
  }

  /** Loads the heads of every listed user that is not known yet, in one bulk read. */
  void preload(Collection<String> userIds) {
    Set<String> missing = new LinkedHashSet<>();
    for (String userId : userIds) {
      if (!pending.containsKey(userId) && !cache.containsKey(userId)) {
        missing.add(userId);
      }
    }
    if (missing.size() > 1) {
      cache.putAll(committedHeads.apply(missing));
    }
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
