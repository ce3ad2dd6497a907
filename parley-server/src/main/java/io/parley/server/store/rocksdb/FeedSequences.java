package io.parley.server.store.rocksdb;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Assigns per-user feed seqs for the group commit writer. Each user's last committed feed seq is
 * loaded lazily from disk and cached (a bounded LRU, so memory does not grow with the number of
 * users ever seen). Seqs handed out for the batch being built are kept apart and only merged into
 * the cache by {@link #commit()} once the batch is durable; {@link #rollback()} discards them and
 * the cache, so after a failed commit every counter is re-read from what is really on disk.
 *
 * <p>Not thread-safe: confined to the writer thread.
 */
final class FeedSequences {
  private final ToLongFunction<String> lastOnDisk;
  private final Map<String, Long> pending = new LinkedHashMap<>();
  private final LinkedHashMap<String, Long> committed;

  /**
   * @param lastOnDisk the highest committed feed seq of a user, 0 if none
   * @param cacheSize most users whose counters are kept in memory
   */
  FeedSequences(ToLongFunction<String> lastOnDisk, int cacheSize) {
    if (cacheSize < 1) {
      throw new IllegalArgumentException("cacheSize must be positive");
    }
    this.lastOnDisk = lastOnDisk;
    this.committed =
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
      current = committed.get(userId);
    }
    long last = current != null ? current : lastOnDisk.applyAsLong(userId);
    long next = last + 1;
    pending.put(userId, next);
    return next;
  }

  /** The batch is durable: its seqs become the users' committed heads. */
  void commit() {
    committed.putAll(pending);
    pending.clear();
  }

  /** The batch failed: forget its seqs and every cached head. */
  void rollback() {
    pending.clear();
    committed.clear();
  }
}
