package io.parley.server.bus.kafka;

import io.micrometer.core.instrument.Timer;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.WriteJournal;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The {@link WriteJournal} of a cluster engine: each store batch is committed to {@code
 * <prefix>engine-journal} in a transaction of the {@link RoleLease}'s producer, so the engine
 * writes only while it holds the lease, and a standby that takes over applies the batches its
 * predecessor recorded but may not have applied ({@link #activate}). Until then (standing by) every
 * write fails: a standby must not write at all. Thread-safe.
 */
public final class EngineJournal implements WriteJournal {
  /**
   * Records a successor applies again: the store applies each record before it records the next,
   * so only the very last can be unapplied; the rest is margin (applying a record twice is
   * harmless).
   */
  static final int REPLAY_RECORDS = 16;

  private final KafkaSettings settings;
  private final Timer commits;
  private volatile RoleLease lease;

  /** @param commits records how long each journal commit takes (the fence's cost per batch) */
  public EngineJournal(KafkaSettings settings, Timer commits) {
    this.settings = settings;
    this.commits = commits;
  }

  /**
   * Called once this engine holds the lease, before it takes commands: reads the journal's last
   * records (the lease's fencing has settled any transaction the predecessor left open), hands
   * them to {@code replay} (which applies them to the store), and from then on records this
   * engine's batches under {@code held}.
   *
   * @throws IllegalStateException when the journal cannot be read
   * @throws StoreUnavailableException when the replay cannot be applied
   */
  public void activate(RoleLease held, Consumer<List<byte[]>> replay) {
    replay.accept(RoleLease.journalTail(settings, REPLAY_RECORDS));
    lease = held;
  }

  @Override
  public void record(byte[] batch) {
    RoleLease l = lease;
    if (l == null) {
      throw new StoreUnavailableException(
          "this engine stands by (another engine holds the engine lease): it does not write");
    }
    long started = System.nanoTime();
    l.journal(batch);
    commits.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
  }
}
