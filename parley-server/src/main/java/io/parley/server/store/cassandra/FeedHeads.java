package io.parley.server.store.cassandra;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Assigns feed seqs for the writer: each feed's committed head (a feed is identified by a key of
 * type {@code K}, in production a (user, shard) {@link FeedTable.Key}) is read lazily from the
 * heads table and cached in a bounded LRU. Seqs handed out for the batch being built stay pending
 * until {@link #commit()}; {@link #rollback()} forgets them and the whole cache, so after a failed
 * batch every head is re-read from the cluster. (The embedded engine has the same logic in its own
 * package; this copy stays here so the engines remain independent of each other.)
 *
 * <p>Not thread-safe: confined to the writer thread.
 */
final class FeedHeads<K> {
  private final ToLongFunction<K> committedHead;
  private final Function<Collection<K>, Map<K, Long>> committedHeads;
  private final Map<K, Long> pending = new LinkedHashMap<>();
  private final LinkedHashMap<K, Long> cache;

  /**
   * @param committedHead reads one feed's committed head (0 if none)
   * @param committedHeads reads many feeds' committed heads at once
   * @param cacheSize most feeds whose heads are kept in memory
   */
  FeedHeads(
      ToLongFunction<K> committedHead,
      Function<Collection<K>, Map<K, Long>> committedHeads,
      int cacheSize) {
    this.committedHead = committedHead;
    this.committedHeads = committedHeads;
    this.cache =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<K, Long> eldest) {
            return size() > cacheSize;
          }
        };
  }

  /** Loads the heads of every listed feed that is not known yet, in one bulk read. */
  void preload(Collection<K> feeds) {
    Set<K> missing = new LinkedHashSet<>();
    for (K feed : feeds) {
      if (!pending.containsKey(feed) && !cache.containsKey(feed)) {
        missing.add(feed);
      }
    }
    if (missing.size() > 1) {
      cache.putAll(committedHeads.apply(missing));
    }
  }

  /** The feed's next feed seq in the batch being built. */
  long next(K feed) {
    Long current = pending.get(feed);
    if (current == null) {
      current = cache.get(feed);
    }
    long next = (current != null ? current : committedHead.applyAsLong(feed)) + 1;
    pending.put(feed, next);
    return next;
  }

  /** The batch is durable: its seqs become the feeds' heads. */
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
