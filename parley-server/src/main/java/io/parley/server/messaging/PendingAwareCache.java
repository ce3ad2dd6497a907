package io.parley.server.messaging;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A bounded LRU map for lane-confined state that never evicts an entry written by a change whose
 * commit has not completed yet: such an entry is ahead of the disk, and re-reading it from the
 * store would return stale data. Entries may hold a null value (a cached "absent"). Not
 * thread-safe: owned by one lane.
 */
final class PendingAwareCache<K, V> {

  /** A cached value and the number of the change that last wrote it (0 = read from disk). */
  record Slot<V>(V value, long writeNo) {}

  private final LinkedHashMap<K, Slot<V>> map;

  /**
   * @param maxEntries soft bound: clean entries beyond it are evicted oldest-first
   * @param committedWriteNo the owner's commit watermark; entries with a higher write number stay
   */
  PendingAwareCache(int maxEntries, LongSupplier committedWriteNo) {
    this.map =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<K, Slot<V>> eldest) {
            return size() > maxEntries
                && eldest.getValue().writeNo() <= committedWriteNo.getAsLong();
          }
        };
  }

  /** The cached entry, or null when nothing is cached for the key. */
  Slot<V> get(K key) {
    return map.get(key);
  }

  /** Caches a value read from the store. */
  void putClean(K key, V value) {
    map.put(key, new Slot<>(value, 0L));
  }

  /** Caches a value written by change {@code writeNo}; it stays until that change commits. */
  void putDirty(K key, V value, long writeNo) {
    map.put(key, new Slot<>(value, writeNo));
  }

  int size() {
    return map.size();
  }
}
