package io.parley.server.store.rocksdb;

import io.parley.server.store.GroupCommitQueue;
import io.parley.server.store.StoreUnavailableException;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB side of the store's {@link GroupCommitQueue}: applies a batch of prepared writes as
 * one {@link WriteBatch} with one sync, assigning feed seqs as it goes ({@link FeedSequences}),
 * and forgets the seqs it handed out when the write fails. Writer-thread confined.
 */
final class RocksDbBatchWriter implements GroupCommitQueue.Engine<PreparedWrite> {
  private final RocksDB db;
  private final WriteOptions writeOptions;
  private final Function<StoreColumnFamily, ColumnFamilyHandle> handles;
  private final BatchCommitter committer;
  private final FeedSequences feedSequences;

  RocksDbBatchWriter(
      RocksDB db,
      WriteOptions writeOptions,
      Function<StoreColumnFamily, ColumnFamilyHandle> handles,
      BatchCommitter committer,
      FeedSequences feedSequences) {
    this.db = Objects.requireNonNull(db, "db");
    this.writeOptions = Objects.requireNonNull(writeOptions, "writeOptions");
    this.handles = Objects.requireNonNull(handles, "handles");
    this.committer = Objects.requireNonNull(committer, "committer");
    this.feedSequences = Objects.requireNonNull(feedSequences, "feedSequences");
  }

  @Override
  public long epochOf(PreparedWrite write) {
    return write.epoch();
  }

  @Override
  public long commit(List<PreparedWrite> accepted) throws Exception {
    if (accepted.stream().allMatch(PreparedWrite::isEmpty)) {
      return -1;
    }
    try (WriteBatch batch = new WriteBatch()) {
      for (PreparedWrite w : accepted) {
        w.applyTo(batch, handles, feedSequences);
      }
      long started = System.nanoTime();
      committer.commit(db, writeOptions, batch);
      long nanos = System.nanoTime() - started;
      feedSequences.commit();
      return nanos;
    } catch (Exception e) {
      feedSequences.rollback();
      throw e;
    } catch (Error e) {
      // An Error while writing one batch (the native library) fails that batch and bumps the
      // epoch, like any other failure, instead of stopping the writer for every later write.
      feedSequences.rollback();
      throw new StoreUnavailableException("store commit failed: " + e, e);
    }
  }
}
