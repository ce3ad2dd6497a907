package io.parley.server.store.rocksdb;

import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Applies one group-commit batch to the database. Production uses {@link #ROCKSDB}; tests pass a
 * committer that makes RocksDB itself reject chosen batches, to exercise the failure path.
 */
@FunctionalInterface
interface BatchCommitter {
  BatchCommitter ROCKSDB = (db, options, batch) -> db.write(options, batch);

  void commit(RocksDB db, WriteOptions options, WriteBatch batch) throws RocksDBException;
}
