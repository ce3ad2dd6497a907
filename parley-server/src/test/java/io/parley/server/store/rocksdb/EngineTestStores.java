package io.parley.server.store.rocksdb;

import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import org.rocksdb.RocksDBException;

/**
 * Opens a real {@link RocksDbStore} whose group commits fail on demand (RocksDB itself rejects the
 * batch), so engine tests exercise the store's genuine failure path: the batch's writes fail, the
 * epoch moves, and stale writes queued behind are rejected.
 */
public final class EngineTestStores {
  private EngineTestStores() {}

  /** A store that fails every commit for which {@code failCommit} answers true. */
  public static RocksDbStore openFailing(Path dir, BooleanSupplier failCommit) {
    return RocksDbStore.open(
        dir,
        false,
        64,
        (db, options, batch) -> {
          if (failCommit.getAsBoolean()) {
            throw new RocksDBException("injected commit failure");
          }
          db.write(options, batch);
        });
  }
}
