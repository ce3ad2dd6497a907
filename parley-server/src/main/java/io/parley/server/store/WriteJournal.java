package io.parley.server.store;

/**
 * Where a store records each group commit of a conversation shard before it applies it, when more
 * than one process may try to write that shard's data (cluster engines that hand shards to each
 * other as the Kafka consumer group rebalances). A journal does two things at once: it makes the
 * batch durable outside the store, so that whoever owns the shard next can apply it again if this
 * process stops between recording and applying; and it is the fence: recording fails once another
 * process has taken the shard over, so a process that was paused or cut off can never apply
 * anything after its successor started. A store with a journal applies a recorded batch until it
 * succeeds: once recorded, a batch is committed.
 *
 * <p>Implementations are thread-safe; the store calls them from its writer threads.
 */
public interface WriteJournal {

  /**
   * The fence this process holds on {@code shard} now.
   *
   * @throws StoreUnavailableException when this process does not own the shard (it never did,
   *     gave it up, or is still replaying it)
   */
  Fence fence(int shard);

  /**
   * One period of ownership of one shard. A new period (the shard was given up and taken again)
   * is a new object, so a writer that compares the fence it records through with the previous one
   * knows when to forget what it cached about the shard's data.
   */
  interface Fence {
    /**
     * Records one batch durably.
     *
     * @param batch the encoded batch, as the store will apply it
     * @throws StoreUnavailableException when the batch could not be recorded (nothing was
     *     recorded), or this period of ownership is over (another process took the shard)
     */
    void record(byte[] batch);
  }
}
