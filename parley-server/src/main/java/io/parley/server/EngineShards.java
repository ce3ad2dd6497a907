package io.parley.server;

import io.parley.server.bus.kafka.EngineJournal;
import io.parley.server.bus.kafka.ShardAssignment;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.cassandra.CassandraStore;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A cluster engine's ownership of conversation shards, as the engines' consumer group assigns
 * them: taking a shard over fences its previous owner and replays its journal into the store
 * ({@link EngineJournal}), and both taking and giving up a shard make the store reject writes
 * built on what the sequencer cached about the shard before. Presence asks it whose notices this
 * engine announces. Thread-safe.
 */
final class EngineShards implements ShardAssignment {
  private final ConversationShards shards;
  private final EngineJournal journal;
  private final CassandraStore store;
  private final Set<Integer> owned = ConcurrentHashMap.newKeySet();

  /**
   * @param journal the shards' fences and journals, with {@code store} (both null for an engine
   *     without a journal, whose store is its own)
   */
  EngineShards(ConversationShards shards, EngineJournal journal, CassandraStore store) {
    this.shards = Objects.requireNonNull(shards, "shards");
    if ((journal == null) != (store == null)) {
      throw new IllegalArgumentException("a journal needs the store it fences, and vice versa");
    }
    this.journal = journal;
    this.store = store;
  }

  @Override
  public void assigned(Set<Integer> assigned) {
    if (journal != null) {
      journal.acquire(assigned, store::replayJournal);
      assigned.forEach(store::invalidateShard);
    }
    owned.addAll(assigned);
  }

  @Override
  public void revoked(Set<Integer> revoked) {
    owned.removeAll(revoked);
    if (journal != null) {
      journal.release(revoked);
      revoked.forEach(store::invalidateShard);
    }
  }

  /** True when this engine owns the shard of {@code key} (a user or conversation id). */
  boolean owns(String key) {
    return owned.contains(shards.of(key));
  }
}
