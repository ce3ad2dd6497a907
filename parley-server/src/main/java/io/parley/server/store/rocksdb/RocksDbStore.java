package io.parley.server.store.rocksdb;

import io.parley.server.store.CommitStats;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.EventRef;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.GroupCommitQueue;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.UserRecord;
import io.parley.server.store.WebhookRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;

/**
 * The embedded {@link ParleyStore}: one RocksDB database with a column family per record kind
 * (key layout in {@link KeyCodec}, values in {@link RecordCodec}).
 *
 * <p><b>Writes</b> are validated and encoded on the calling thread, then queued for a single
 * writer thread ({@code parley-store-writer}) that commits every pending write as one {@code
 * WriteBatch} with one WAL sync (group commit), assigns per-user feed seqs in commit order, and
 * completes the futures <b>on the writer thread, in submission order</b>. Continuations that do
 * more than trivial work must therefore use the {@code thenXxxAsync} variants. When the queue is
 * full, {@link #write} blocks the caller until the writer catches up (back-pressure). A failed
 * commit fails all writes of its batch and increases the {@linkplain #epoch() epoch}; writes
 * tagged with an older epoch are then rejected (see {@link GroupCommitQueue}).
 *
 * <p><b>Reads</b> are synchronous RocksDB lookups and iterator scans on the calling thread; they
 * see every write whose future has completed. Ids sort by UTF-8 byte order (Unicode code point
 * order), which can differ from {@link String#compareTo} for characters outside the BMP.
 *
 * <p><b>Input:</b> ids must be non-empty, at most {@value KeyCodec#MAX_ID_BYTES} UTF-8 bytes,
 * well-formed and free of NUL; seqs written must be positive. Violations throw {@link
 * IllegalArgumentException} from the call itself (for {@link #write}, before anything is queued).
 *
 * <p><b>Lifecycle:</b> {@link #close()} refuses new writes, finishes the queued ones, stops the
 * writer and releases the native resources; afterwards writes fail and reads throw {@link
 * StoreUnavailableException}. Called on the writer thread itself, close returns without waiting.
 *
 * <p>Thread-safe: every method may be called from any thread.
 */
public final class RocksDbStore implements ParleyStore, CommitStats {
  private static final int FEED_COUNTER_CACHE_USERS = 65_536;
  private static final int MIN_QUEUE_CAPACITY = 4_096;

  private final RocksDbResources resources;
  private final GroupCommitQueue<PreparedWrite> writer;
  /** Read-locked by every read, write-locked once to free the natives: no use after free. */
  private final ReentrantReadWriteLock nativeLock = new ReentrantReadWriteLock();
  private volatile boolean nativesClosed;

  private RocksDbStore(RocksDbResources resources, BatchCommitter committer, int maxBatchWrites) {
    this.resources = resources;
    FeedSequences feedSequences =
        new FeedSequences(this::lastFeedSeqOnDisk, FEED_COUNTER_CACHE_USERS);
    this.writer =
        new GroupCommitQueue<>(
            new RocksDbBatchWriter(
                resources.db(), resources.writeOptions(), resources::handle, committer, feedSequences),
            "store commit",
            "parley-store-writer",
            maxBatchWrites,
            Math.max(MIN_QUEUE_CAPACITY, 4 * maxBatchWrites),
            this::closeNatives);
  }

  /**
   * Opens (creating directories and the database if needed) the store in {@code dataDir}.
   *
   * @param fsync whether each group commit waits for the WAL to reach the disk (true in
   *     production; the WAL is always written)
   * @param maxBatchWrites most writes grouped into one commit, at least 1
   * @throws StoreUnavailableException if the database cannot be opened (I/O error, held by another
   *     process, incompatible format)
   */
  public static RocksDbStore open(Path dataDir, boolean fsync, int maxBatchWrites) {
    return open(dataDir, fsync, maxBatchWrites, BatchCommitter.ROCKSDB);
  }

  static RocksDbStore open(
      Path dataDir, boolean fsync, int maxBatchWrites, BatchCommitter committer) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(committer, "committer");
    if (maxBatchWrites < 1) {
      throw new IllegalArgumentException("maxBatchWrites must be positive, got " + maxBatchWrites);
    }
    RocksDbResources resources;
    try {
      resources = RocksDbResources.open(dataDir, fsync);
    } catch (IOException | RocksDBException e) {
      throw new StoreUnavailableException(
          "cannot open store at " + dataDir + ": " + e.getMessage(), e);
    }
    RocksDbStore store = new RocksDbStore(resources, committer, maxBatchWrites);
    store.writer.start();
    return store;
  }

  @Override
  public CompletableFuture<Void> write(StoreWrite write) {
    Objects.requireNonNull(write, "write");
    return writer.submit(PreparedWrite.of(write));
  }

  @Override
  public long epoch() {
    return writer.epoch();
  }

  @Override
  public Optional<UserRecord> user(String userId) {
    byte[] key = KeyCodec.key(userId);
    return read(
        () -> get(StoreColumnFamily.USERS, key).map(v -> RecordCodec.decodeUser(userId, v)));
  }

  @Override
  public Optional<ConversationRecord> conversation(String conversationId) {
    byte[] key = KeyCodec.key(conversationId);
    return read(
        () ->
            get(StoreColumnFamily.CONVERSATIONS, key)
                .map(v -> RecordCodec.decodeConversation(conversationId, v)));
  }

  @Override
  public Optional<MemberRecord> member(String conversationId, String userId) {
    byte[] key = KeyCodec.key(conversationId, userId);
    return read(
        () ->
            get(StoreColumnFamily.MEMBERS, key)
                .map(v -> RecordCodec.decodeMember(conversationId, userId, v)));
  }

  @Override
  public List<MemberRecord> members(String conversationId, String afterUserId, int limit) {
    return pageWithin(
        StoreColumnFamily.MEMBERS,
        conversationId,
        afterUserId,
        limit,
        (key, value) ->
            RecordCodec.decodeMember(
                conversationId, KeyCodec.decodeIdPair(key).second(), value));
  }

  @Override
  public List<MemberRecord> userConversations(
      String userId, String afterConversationId, int limit) {
    return pageWithin(
        StoreColumnFamily.USERCONV,
        userId,
        afterConversationId,
        limit,
        (key, value) ->
            RecordCodec.decodeMember(KeyCodec.decodeIdPair(key).second(), userId, value));
  }

  @Override
  public Optional<StoredEvent> event(String conversationId, long seq) {
    if (seq < 0) {
      KeyCodec.validateId(conversationId);
      return Optional.empty();
    }
    byte[] key = KeyCodec.key(conversationId, seq);
    return read(() -> get(StoreColumnFamily.EVENTS, key).map(RecordCodec::decodeEvent));
  }

  @Override
  public List<StoredEvent> events(
      String conversationId, long fromSeq, long toSeq, int limit, boolean ascending) {
    byte[] prefix = KeyCodec.prefix(conversationId);
    checkLimit(limit);
    if (limit == 0 || toSeq < 0 || fromSeq > toSeq) {
      return List.of();
    }
    byte[] lower = KeyCodec.withSeq(prefix, Math.max(fromSeq, 0));
    byte[] upper =
        toSeq == Long.MAX_VALUE ? KeyCodec.prefixEnd(prefix) : KeyCodec.withSeq(prefix, toSeq + 1);
    return read(
        () ->
            scan(
                StoreColumnFamily.EVENTS,
                lower,
                upper,
                limit,
                ascending,
                (key, value) -> RecordCodec.decodeEvent(value)));
  }

  @Override
  public OptionalLong idempotentSeq(String conversationId, String userId, String clientMsgId) {
    byte[] key = KeyCodec.key(conversationId, userId, clientMsgId);
    return read(
        () -> {
          Optional<byte[]> value = get(StoreColumnFamily.IDEMPOTENCY, key);
          return value.isPresent()
              ? OptionalLong.of(RecordCodec.decodeSeq(value.get()))
              : OptionalLong.empty();
        });
  }

  @Override
  public ConversationShards shards() {
    return ConversationShards.SINGLE;
  }

  /** The embedded store has one shard, so each user's feed is a single part (shard 0). */
  @Override
  public List<FeedEntry> feed(String userId, int shard, long afterFeedSeq, int limit) {
    checkShard(shard);
    byte[] prefix = KeyCodec.prefix(userId);
    checkLimit(limit);
    if (limit == 0 || afterFeedSeq == Long.MAX_VALUE) {
      return List.of();
    }
    byte[] lower = KeyCodec.withSeq(prefix, afterFeedSeq < 0 ? 0 : afterFeedSeq + 1);
    return read(
        () ->
            scan(
                StoreColumnFamily.FEED,
                lower,
                KeyCodec.prefixEnd(prefix),
                limit,
                true,
                (key, value) ->
                    RecordCodec.decodeFeed(userId, KeyCodec.trailingSeq(key), value)));
  }

  /** Reads the last committed feed seq from disk, so it reflects every completed write. */
  @Override
  public long[] feedHeads(String userId) {
    KeyCodec.validateId(userId);
    return new long[] {read(() -> lastFeedSeqOnDisk(userId))};
  }

  private static void checkShard(int shard) {
    if (shard != 0) {
      throw new IllegalArgumentException("the embedded store has one shard (0), not " + shard);
    }
  }

  @Override
  public Optional<ReceiptRecord> receipt(String conversationId, String userId) {
    byte[] key = KeyCodec.key(conversationId, userId);
    return read(
        () ->
            get(StoreColumnFamily.RECEIPTS, key)
                .map(v -> RecordCodec.decodeReceipt(conversationId, userId, v)));
  }

  @Override
  public List<ReceiptRecord> receipts(String conversationId, String afterUserId, int limit) {
    return pageWithin(
        StoreColumnFamily.RECEIPTS,
        conversationId,
        afterUserId,
        limit,
        (key, value) ->
            RecordCodec.decodeReceipt(
                conversationId, KeyCodec.decodeIdPair(key).second(), value));
  }

  @Override
  public List<UserRecord> users(String afterUserId, int limit) {
    return pageOfSingleIds(
        StoreColumnFamily.USERS,
        afterUserId,
        limit,
        (key, value) -> RecordCodec.decodeUser(KeyCodec.decodeId(key), value));
  }

  /** Records of a single-id family strictly after {@code afterId} ("" = from the start). */
  private <T> List<T> pageOfSingleIds(
      StoreColumnFamily cf, String afterId, int limit, Decoder<T> decoder) {
    Objects.requireNonNull(afterId, "afterId");
    checkLimit(limit);
    byte[] lower = afterId.isEmpty() ? null : KeyCodec.successor(KeyCodec.key(afterId));
    if (limit == 0) {
      return List.of();
    }
    return read(() -> scan(cf, lower, null, limit, true, decoder));
  }

  @Override
  public List<EventRef> notifyPending(int limit) {
    checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    return read(
        () ->
            scan(
                StoreColumnFamily.NOTIFY_PENDING,
                null,
                null,
                limit,
                true,
                (key, value) -> {
                  KeyCodec.IdSeq k = KeyCodec.decodeIdSeq(key);
                  return new EventRef(k.id(), k.seq());
                }));
  }

  @Override
  public boolean isNotifyPending(String conversationId, long seq) {
    if (seq < 0) {
      KeyCodec.validateId(conversationId);
      return false;
    }
    byte[] key = KeyCodec.key(conversationId, seq);
    return read(() -> get(StoreColumnFamily.NOTIFY_PENDING, key).isPresent());
  }

  @Override
  public List<OutboxJob> outboxLaneHeads(String afterLane, int limit) {
    Objects.requireNonNull(afterLane, "afterLane");
    checkLimit(limit);
    byte[] start = afterLane.isEmpty() ? null : KeyCodec.prefixEnd(KeyCodec.prefix(afterLane));
    if (limit == 0) {
      return List.of();
    }
    return read(
        () -> {
          List<OutboxJob> out = new ArrayList<>(Math.min(limit, 128));
          // One seek per lane: after taking a lane's first job, jump past the whole lane.
          try (ReadOptions options = new ReadOptions();
              RocksIterator it =
                  resources.db().newIterator(resources.handle(StoreColumnFamily.OUTBOX), options)) {
            if (start == null) {
              it.seekToFirst();
            } else {
              it.seek(start);
            }
            while (it.isValid() && out.size() < limit) {
              OutboxJob job = RecordCodec.decodeJob(it.value());
              out.add(job);
              it.seek(KeyCodec.prefixEnd(KeyCodec.prefix(job.lane())));
            }
            it.status();
          }
          return out;
        });
  }

  @Override
  public List<OutboxJob> outboxLane(String lane, long afterSeq, int limit) {
    byte[] prefix = KeyCodec.prefix(lane);
    checkLimit(limit);
    if (limit == 0 || afterSeq == Long.MAX_VALUE) {
      return List.of();
    }
    byte[] lower = KeyCodec.withSeq(prefix, afterSeq < 0 ? 0 : afterSeq + 1);
    return read(
        () ->
            scan(
                StoreColumnFamily.OUTBOX,
                lower,
                KeyCodec.prefixEnd(prefix),
                limit,
                true,
                (key, value) -> RecordCodec.decodeJob(value)));
  }

  @Override
  public Optional<OutboxJob> deadLetter(String jobId) {
    byte[] key = KeyCodec.key(jobId);
    return read(() -> get(StoreColumnFamily.DEAD_LETTERS, key).map(RecordCodec::decodeJob));
  }

  @Override
  public List<OutboxJob> deadLetters(String afterJobId, int limit) {
    return pageOfSingleIds(
        StoreColumnFamily.DEAD_LETTERS, afterJobId, limit, (key, value) -> RecordCodec.decodeJob(value));
  }

  @Override
  public Optional<WebhookRecord> webhook(String webhookId) {
    byte[] key = KeyCodec.key(webhookId);
    return read(
        () ->
            get(StoreColumnFamily.WEBHOOKS, key)
                .map(v -> RecordCodec.decodeWebhook(webhookId, v)));
  }

  @Override
  public List<WebhookRecord> webhooks(String afterWebhookId, int limit) {
    return pageOfSingleIds(
        StoreColumnFamily.WEBHOOKS,
        afterWebhookId,
        limit,
        (key, value) -> RecordCodec.decodeWebhook(KeyCodec.decodeId(key), value));
  }

  @Override
  public Optional<PushTargetRecord> pushTarget(String userId, String targetId) {
    byte[] key = KeyCodec.key(userId, targetId);
    return read(
        () ->
            get(StoreColumnFamily.PUSH_TARGETS, key)
                .map(v -> RecordCodec.decodePushTarget(userId, targetId, v)));
  }

  @Override
  public List<PushTargetRecord> pushTargets(String userId, int limit) {
    return pageWithin(
        StoreColumnFamily.PUSH_TARGETS,
        userId,
        "",
        limit,
        (key, value) ->
            RecordCodec.decodePushTarget(userId, KeyCodec.decodeIdPair(key).second(), value));
  }

  @Override
  public boolean isMuted(String userId, String conversationId) {
    byte[] key = KeyCodec.key(userId, conversationId);
    return read(() -> get(StoreColumnFamily.MUTES, key).isPresent());
  }

  /**
   * True while the store accepts writes and the latest commit did not fail: false after a failed
   * commit until a later one succeeds, and false once closing.
   */
  @Override
  public boolean isHealthy() {
    return writer.isAccepting() && !writer.lastCommitFailed() && !nativesClosed;
  }

  /**
   * Refuses new writes, finishes queued ones, stops the writer and frees the database.
   * Idempotent.
   */
  @Override
  public void close() {
    writer.close();
  }

  /** Number of successful group commits (RocksDB batch writes) since open. */
  public long commitCount() {
    return writer.commits();
  }

  /** Number of {@link StoreWrite}s made durable since open (summed over all commits). */
  public long writeCount() {
    return writer.committedWrites();
  }

  /** Number of failed group commits since open; each one increased the epoch. */
  public long failedCommitCount() {
    return writer.failedCommits();
  }

  /**
   * Total time spent writing successful group commits (the RocksDB batch write and its fsync), in
   * nanoseconds; divided by {@link #commitCount()} it is the mean commit latency.
   */
  public long commitNanos() {
    return writer.commitNanos();
  }

  /** Number of writes in the most recent successful commit (0 before the first). */
  public int lastBatchSize() {
    return writer.lastBatchSize();
  }

  /** Number of writes waiting for the writer thread right now. */
  public int queuedWrites() {
    return writer.queued();
  }

  // ---- internals ----

  /** Runs on the writer thread once it has stopped: nothing can write any more. */
  private void closeNatives() {
    Lock lock = nativeLock.writeLock();
    lock.lock();
    try {
      if (!nativesClosed) {
        nativesClosed = true;
        resources.close();
      }
    } finally {
      lock.unlock();
    }
  }

  /** A read against the open database; RocksDB errors become {@link StoreUnavailableException}. */
  @FunctionalInterface
  private interface Read<T> {
    T run() throws RocksDBException;
  }

  /** Decodes one key/value pair found by a scan. */
  @FunctionalInterface
  private interface Decoder<T> {
    T decode(byte[] key, byte[] value);
  }

  private <T> T read(Read<T> read) {
    Lock lock = nativeLock.readLock();
    lock.lock();
    try {
      if (nativesClosed) {
        throw new StoreUnavailableException("store is closed");
      }
      return read.run();
    } catch (RocksDBException e) {
      throw new StoreUnavailableException("read failed: " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
  }

  private Optional<byte[]> get(StoreColumnFamily cf, byte[] key) throws RocksDBException {
    return Optional.ofNullable(
        resources.db().get(resources.handle(cf), resources.readOptions(), key));
  }

  /** Records of one partition ({@code owner}) strictly after {@code afterId}, ascending. */
  private <T> List<T> pageWithin(
      StoreColumnFamily cf, String owner, String afterId, int limit, Decoder<T> decoder) {
    Objects.requireNonNull(afterId, "afterId");
    byte[] prefix = KeyCodec.prefix(owner);
    checkLimit(limit);
    byte[] lower = afterId.isEmpty() ? prefix : KeyCodec.successor(KeyCodec.key(owner, afterId));
    if (limit == 0) {
      return List.of();
    }
    return read(() -> scan(cf, lower, KeyCodec.prefixEnd(prefix), limit, true, decoder));
  }

  /**
   * Up to {@code limit} entries with {@code lower <= key < upper} (null = unbounded), lowest first
   * when ascending, else highest first.
   */
  private <T> List<T> scan(
      StoreColumnFamily cf,
      byte[] lower,
      byte[] upper,
      int limit,
      boolean ascending,
      Decoder<T> decoder)
      throws RocksDBException {
    List<T> out = new ArrayList<>(Math.min(limit, 128));
    // Declaration order matters: resources close in reverse, so the iterator goes first and the
    // bound slices it points into go last.
    try (Slice lowerBound = lower == null ? null : new Slice(lower);
        Slice upperBound = upper == null ? null : new Slice(upper);
        ReadOptions options = new ReadOptions();
        RocksIterator it = iterator(cf, options, lowerBound, upperBound, ascending)) {
      if (ascending) {
        if (lower == null) {
          it.seekToFirst();
        } else {
          it.seek(lower);
        }
        for (; it.isValid() && out.size() < limit; it.next()) {
          out.add(decoder.decode(it.key(), it.value()));
        }
      } else {
        if (upper == null) {
          it.seekToLast();
        } else {
          it.seekForPrev(upper);
          // seekForPrev is inclusive; the upper bound is not.
          if (it.isValid() && Arrays.equals(it.key(), upper)) {
            it.prev();
          }
        }
        for (; it.isValid() && out.size() < limit; it.prev()) {
          out.add(decoder.decode(it.key(), it.value()));
        }
      }
      it.status();
    }
    return out;
  }

  private RocksIterator iterator(
      StoreColumnFamily cf,
      ReadOptions options,
      Slice lowerBound,
      Slice upperBound,
      boolean ascending) {
    // Bounds let RocksDB stop at the partition edge instead of scanning past deleted keys. Only
    // the bound in the direction of travel is set; seekForPrev handles the other end.
    if (ascending && upperBound != null) {
      options.setIterateUpperBound(upperBound);
    }
    if (!ascending && lowerBound != null) {
      options.setIterateLowerBound(lowerBound);
    }
    return resources.db().newIterator(resources.handle(cf), options);
  }

  /** The highest feed seq of the user on disk, 0 if none. Any thread, natives open. */
  private long lastFeedSeqOnDisk(String userId) {
    byte[] prefix = KeyCodec.prefix(userId);
    try (Slice lowerBound = new Slice(prefix);
        ReadOptions options = new ReadOptions().setIterateLowerBound(lowerBound);
        RocksIterator it =
            resources.db().newIterator(resources.handle(StoreColumnFamily.FEED), options)) {
      it.seekForPrev(KeyCodec.prefixEnd(prefix));
      if (it.isValid()) {
        byte[] key = it.key();
        if (KeyCodec.startsWith(key, prefix)) {
          return KeyCodec.trailingSeq(key);
        }
      }
      it.status();
      return 0;
    } catch (RocksDBException e) {
      throw new StoreUnavailableException("cannot read feed head: " + e.getMessage(), e);
    }
  }

  private static void checkLimit(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must not be negative, got " + limit);
    }
  }
}
