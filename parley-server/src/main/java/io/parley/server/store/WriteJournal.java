package io.parley.server.store;

/**
 * Where a store records each group commit before it applies it, when more than one process may
 * try to write the same data (a cluster engine and its standbys). A journal does two things at
 * once: it makes the batch durable outside the store, so that whoever writes next can apply it
 * again if this process stops between recording and applying; and it is the fence: recording
 * fails once another process has taken over, so a process that was paused or cut off can never
 * apply anything after its successor started. A store with a journal applies a recorded batch
 * until it succeeds: once recorded, a batch is committed.
 *
 * <p>Implementations are thread-safe; the store calls them from its writer thread.
 */
public interface WriteJournal {
  /**
   * Records one batch durably.
   *
   * @param batch the encoded batch, as the store will apply it
   * @throws StoreUnavailableException when the batch could not be recorded (nothing was
   *     recorded), or this process may not write (it stands by, or another process took over)
   */
  void record(byte[] batch);
}
