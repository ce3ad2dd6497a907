package io.parley.server;

import io.parley.server.bus.kafka.EngineJournal;
import io.parley.server.bus.kafka.ShardAssignment;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.cassandra.CassandraStore;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster engine's ownership of conversation shards, as the engines' consumer group assigns
 * them: taking a shard over fences its previous owner and replays its journal into the store
 * ({@link EngineJournal}), and both taking and giving up a shard make the store reject writes
 * built on what the sequencer cached about the shard before. Presence asks it whose notices this
 * engine announces. Thread-safe.
 */
final class EngineShards implements ShardAssignment {
  private static final Logger log = LoggerFactory.getLogger(EngineShards.class);

  /** How long a takeover is retried before the engine gives up (within Kafka's poll interval). */
  static final Duration TAKEOVER_DEADLINE = Duration.ofSeconds(120);

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

  /**
   * Takes the shards over, retrying for up to {@link #TAKEOVER_DEADLINE} while Kafka or Cassandra
   * fail (a loaded or briefly unreachable cluster must not make the engine give up: the group would
   * hand the shards to another engine, which meets the same trouble); throws after that, which
   * stops the engine.
   */
  @Override
  public void assigned(Set<Integer> assigned) {
    if (journal != null) {
      long deadline = System.nanoTime() + TAKEOVER_DEADLINE.toNanos();
      long backoffMs = 200;
      while (true) {
        try {
          journal.acquire(assigned, store::replayJournal);
          break;
        } catch (RuntimeException e) {
          if (System.nanoTime() > deadline) {
            throw e;
          }
          log.warn("taking over shards {} failed (retrying in {} ms): {}", assigned, backoffMs,
              e.toString());
          sleep(backoffMs);
          backoffMs = Math.min(5_000, backoffMs * 2);
        }
      }
      assigned.forEach(store::invalidateShard);
    }
    owned.addAll(assigned);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while taking shards over", e);
    }
  }

  @Override
  public void revoked(Set<Integer> revoked) {
    owned.removeAll(revoked);
    if (journal != null) {
      journal.release(revoked);
      revoked.forEach(store::invalidateShard);
    }
  }

  /** The conversation shards this engine sequences now. */
  Set<Integer> ownedShards() {
    return Set.copyOf(owned);
  }

  /** True when this engine owns the shard of {@code key} (a user or conversation id). */
  boolean owns(String key) {
    return owned.contains(shards.of(key));
  }
}
