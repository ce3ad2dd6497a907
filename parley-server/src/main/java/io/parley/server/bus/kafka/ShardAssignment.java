package io.parley.server.bus.kafka;

import java.util.Set;

/**
 * What a cluster engine does when the engines' consumer group gives it conversation shards (the
 * command topic's partitions) or takes them away: take over the shards' fences and journals, and
 * give them up. Called on the {@link CommandServer}'s poll thread, inside the rebalance.
 */
public interface ShardAssignment {

  /**
   * The engine now owns {@code shards}: called before any command of them runs. Throwing stops the
   * command server (the process then exits, and the group gives the shards to another engine).
   */
  void assigned(Set<Integer> shards);

  /**
   * The engine no longer owns {@code shards}: called after their started calls finished (or a
   * deadline passed) and their offsets were committed, or at once when the group already gave
   * them to another engine (the membership was lost).
   */
  void revoked(Set<Integer> shards);

  /** Owns nothing and does nothing: an engine without a journal or ownership state. */
  ShardAssignment NONE =
      new ShardAssignment() {
        @Override
        public void assigned(Set<Integer> shards) {}

        @Override
        public void revoked(Set<Integer> shards) {}
      };
}
