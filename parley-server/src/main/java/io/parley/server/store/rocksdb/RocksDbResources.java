package io.parley.server.store.rocksdb;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the RocksDB database of the store with options tuned for a small machine, and owns every
 * native object that has to be closed with it: column family handles, the database, options, the
 * shared block cache and the bloom filter.
 *
 * <p>Memory: one LRU block cache of {@value #BLOCK_CACHE_BYTES} bytes shared by all column
 * families, which is also charged for the memtables (at most {@value #MEMTABLE_BUDGET_BYTES}
 * bytes through a shared write buffer manager), so the store's native memory stays near the cache
 * size. The write-ahead log is always on; {@code fsync} only decides whether each commit waits for
 * it to reach the disk.
 *
 * <p>Not thread-safe for {@link #close()}: the owner closes it once, after every user of the
 * handles has stopped. The accessors may be called from any thread while it is open.
 */
final class RocksDbResources implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RocksDbResources.class);
  static final long BLOCK_CACHE_BYTES = 64L << 20;
  static final long MEMTABLE_BUDGET_BYTES = 32L << 20;
  private static final long WRITE_HEAVY_MEMTABLE_BYTES = 16L << 20;
  private static final long MEMTABLE_BYTES = 4L << 20;
  private static final byte[] FORMAT_KEY = "format".getBytes(StandardCharsets.UTF_8);
  private static final byte[] FORMAT_VERSION = {1};

  static {
    RocksDB.loadLibrary();
  }

  private final RocksDB db;
  private final DBOptions dbOptions;
  private final Cache cache;
  private final WriteBufferManager writeBufferManager;
  private final BloomFilter bloomFilter;
  private final List<ColumnFamilyOptions> cfOptions;
  private final List<ColumnFamilyHandle> allHandles;
  private final Map<StoreColumnFamily, ColumnFamilyHandle> handles;
  private final WriteOptions writeOptions;
  private final ReadOptions readOptions;

  private RocksDbResources(
      RocksDB db,
      DBOptions dbOptions,
      Cache cache,
      WriteBufferManager writeBufferManager,
      BloomFilter bloomFilter,
      List<ColumnFamilyOptions> cfOptions,
      List<ColumnFamilyHandle> allHandles,
      Map<StoreColumnFamily, ColumnFamilyHandle> handles,
      WriteOptions writeOptions,
      ReadOptions readOptions) {
    this.db = db;
    this.dbOptions = dbOptions;
    this.cache = cache;
    this.writeBufferManager = writeBufferManager;
    this.bloomFilter = bloomFilter;
    this.cfOptions = cfOptions;
    this.allHandles = allHandles;
    this.handles = handles;
    this.writeOptions = writeOptions;
    this.readOptions = readOptions;
  }

  /**
   * Opens (creating if needed) the database in {@code dataDir}.
   *
   * @throws IOException if the directory cannot be created
   * @throws RocksDBException if RocksDB cannot open it (e.g. another process holds its lock) or
   *     it was written by an incompatible format version
   */
  static RocksDbResources open(Path dataDir, boolean fsync) throws IOException, RocksDBException {
    Files.createDirectories(dataDir);
    List<AutoCloseable> created = new ArrayList<>();
    try {
      Cache cache = track(created, new LRUCache(BLOCK_CACHE_BYTES));
      WriteBufferManager wbm =
          track(created, new WriteBufferManager(MEMTABLE_BUDGET_BYTES, cache));
      BloomFilter bloom = track(created, new BloomFilter(10));
      DBOptions dbOptions =
          track(
              created,
              new DBOptions()
                  .setCreateIfMissing(true)
                  .setCreateMissingColumnFamilies(true)
                  .setWriteBufferManager(wbm)
                  .setMaxBackgroundJobs(2)
                  .setMaxOpenFiles(512)
                  // With several column families a WAL file lives until every family with data
                  // in it has flushed; this bound forces flushes of quiet families.
                  .setMaxTotalWalSize(64L << 20)
                  .setBytesPerSync(1L << 20)
                  .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
                  .setMaxLogFileSize(8L << 20)
                  .setKeepLogFileNum(3)
                  .setStatsDumpPeriodSec(0));

      List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      ColumnFamilyOptions defaultOptions = track(created, columnFamilyOptions(cache, null, false));
      cfOptions.add(defaultOptions);
      descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, defaultOptions));
      for (StoreColumnFamily cf : StoreColumnFamily.values()) {
        ColumnFamilyOptions o =
            track(
                created,
                columnFamilyOptions(cache, cf.pointLookups() ? bloom : null, cf.writeHeavy()));
        cfOptions.add(o);
        descriptors.add(new ColumnFamilyDescriptor(cf.nameBytes(), o));
      }

      List<ColumnFamilyHandle> allHandles = new ArrayList<>();
      RocksDB db = RocksDB.open(dbOptions, dataDir.toString(), descriptors, allHandles);
      // Registered for the failure path below; unwinding in reverse closes handles before the db.
      created.add(db);
      created.addAll(allHandles);
      Map<StoreColumnFamily, ColumnFamilyHandle> handles = new EnumMap<>(StoreColumnFamily.class);
      for (StoreColumnFamily cf : StoreColumnFamily.values()) {
        handles.put(cf, allHandles.get(cf.ordinal() + 1));
      }
      WriteOptions writeOptions = track(created, new WriteOptions().setSync(fsync));
      ReadOptions readOptions = track(created, new ReadOptions());
      checkFormat(db, handles.get(StoreColumnFamily.META));
      return new RocksDbResources(
          db, dbOptions, cache, wbm, bloom, cfOptions, allHandles, handles, writeOptions,
          readOptions);
    } catch (RocksDBException | RuntimeException | Error e) {
      closeAll(created);
      throw e;
    }
  }

  private static ColumnFamilyOptions columnFamilyOptions(
      Cache cache, BloomFilter bloom, boolean writeHeavy) {
    BlockBasedTableConfig table =
        new BlockBasedTableConfig()
            .setBlockCache(cache)
            .setCacheIndexAndFilterBlocks(true)
            .setPinL0FilterAndIndexBlocksInCache(true);
    if (bloom != null) {
      table.setFilterPolicy(bloom);
    }
    return new ColumnFamilyOptions()
        .setTableFormatConfig(table)
        .setWriteBufferSize(writeHeavy ? WRITE_HEAVY_MEMTABLE_BYTES : MEMTABLE_BYTES)
        .setMaxWriteBufferNumber(2)
        .setCompressionType(CompressionType.LZ4_COMPRESSION)
        .setLevelCompactionDynamicLevelBytes(true);
  }

  /** Stamps a new database with the key/value format version and refuses unknown versions. */
  private static void checkFormat(RocksDB db, ColumnFamilyHandle meta) throws RocksDBException {
    byte[] stored = db.get(meta, FORMAT_KEY);
    if (stored == null) {
      try (WriteOptions sync = new WriteOptions().setSync(true)) {
        db.put(meta, sync, FORMAT_KEY, FORMAT_VERSION);
      }
    } else if (!Arrays.equals(stored, FORMAT_VERSION)) {
      throw new RocksDBException(
          "unsupported store format version " + Arrays.toString(stored) + ", expected "
              + Arrays.toString(FORMAT_VERSION));
    }
  }

  private static <T extends AutoCloseable> T track(List<AutoCloseable> created, T resource) {
    created.add(resource);
    return resource;
  }

  private static void closeAll(List<AutoCloseable> created) {
    // Reverse creation order: handles before the db, the db before the options it was opened with.
    List<AutoCloseable> reversed = new ArrayList<>(created);
    Collections.reverse(reversed);
    for (AutoCloseable c : reversed) {
      try {
        c.close();
      } catch (Exception ignored) {
        // Best effort while unwinding a failed open; the original failure is rethrown.
      }
    }
  }

  RocksDB db() {
    return db;
  }

  ColumnFamilyHandle handle(StoreColumnFamily cf) {
    return handles.get(cf);
  }

  /** Write options of every commit: WAL on, sync as configured. */
  WriteOptions writeOptions() {
    return writeOptions;
  }

  /** Default read options for point lookups; never modified after open. */
  ReadOptions readOptions() {
    return readOptions;
  }

  /**
   * Closes everything. The WAL is synced first so that a clean shutdown is durable even when
   * commits do not wait for fsync.
   */
  @Override
  public void close() {
    try {
      db.syncWal();
    } catch (RocksDBException e) {
      log.warn("could not sync the write-ahead log while closing the store", e);
    }
    for (ColumnFamilyHandle h : allHandles) {
      h.close();
    }
    db.close();
    writeOptions.close();
    readOptions.close();
    for (ColumnFamilyOptions o : cfOptions) {
      o.close();
    }
    dbOptions.close();
    bloomFilter.close();
    writeBufferManager.close();
    cache.close();
  }
}
