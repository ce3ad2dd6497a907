package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import io.parley.server.config.ParleyConfig;
import io.parley.server.store.CommitStats;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.EventRef;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.WriteJournal;
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
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToLongFunction;

/**
 * The {@link ParleyStore} on an Apache Cassandra cluster, for deployments that outgrow one node's
 * disk. Data model (one table family per class: {@link UsersTable}, {@link EventsTable}, {@link
 * FeedTable}, ...), bucketing, consistency and atomicity are described in docs/architecture.md.
 *
 * <p><b>Writes</b> are validated on the calling thread and queued for a writer ({@link
 * GroupCommitQueue} with {@link CassandraBatchWriter}) that commits them as LOGGED batches at
 * LOCAL_QUORUM, assigns per-(user, shard) feed seqs in commit order, and completes the futures
 * <b>on the writer thread, in submission order</b>. A store opened with {@link #openJournaled}
 * (a cluster engine, which owns some conversation shards) has one writer per shard, each recording
 * its batches through that shard's {@link WriteJournal.Fence} and with its own {@linkplain
 * #epoch(String) epoch}, plus one writer without a journal for the writes that change no
 * conversation (users, push targets, mutes, the notification outbox); the others have one writer.
 * A write whose future completed is durable on a quorum of local replicas; a failed write's
 * outcome may be unknown (a timed-out logged batch can still be applied later from the batchlog),
 * and the epoch increases so that the sequencer reloads its state.
 *
 * <p><b>Reads</b> are synchronous LOCAL_QUORUM queries on the calling thread; with quorum writes
 * they see every write whose future has completed. Driver errors become {@link
 * StoreUnavailableException}.
 *
 * <p>The schema is created or migrated by {@link SchemaMigrations} when the store opens.
 * Thread-safe.
 */
public final class CassandraStore implements ParleyStore, CommitStats {
  private static final int MIN_QUEUE_CAPACITY = 4_096;

  /** A replayed record is tried this often (about 5 s of backoff) before activation fails. */
  private static final int REPLAY_ATTEMPTS = 8;

  private final CqlSession session;
  private final boolean ownsSession;
  private final Cql cql;
  private final ConversationShards shards;
  private final Tables tables;
  /** One writer, or (journaled) one per shard followed by the writer without a journal. */
  private final List<Writer> writers;
  private final boolean sharded;
  private final AtomicInteger runningWriters;

  /** A writer thread and the batch writer it commits through. */
  private record Writer(CassandraBatchWriter batches, GroupCommitQueue<StoreWrite> queue) {}

  private CassandraStore(
      CqlSession session,
      boolean ownsSession,
      String keyspace,
      ConversationShards shards,
      BatchCommitter committer,
      WriteJournal journal,
      int maxBatchWrites) {
    this.session = session;
    this.ownsSession = ownsSession;
    this.shards = shards;
    this.cql = new Cql(session, keyspace);
    this.tables = new Tables(cql, shards);
    this.sharded = journal != null;
    List<Writer> all = new ArrayList<>();
    if (sharded) {
      for (int shard = 0; shard < shards.count(); shard++) {
        all.add(writer(committer, journal, shard, "-" + shard, maxBatchWrites));
      }
    }
    all.add(writer(committer, null, -1, "", maxBatchWrites));
    this.writers = List.copyOf(all);
    this.runningWriters = new AtomicInteger(writers.size());
  }

  private Writer writer(
      BatchCommitter committer, WriteJournal journal, int shard, String suffix, int maxBatchWrites) {
    CassandraBatchWriter batches = new CassandraBatchWriter(session, tables, committer, journal, shard);
    GroupCommitQueue<StoreWrite> queue =
        new GroupCommitQueue<>(
            batches,
            "cassandra batch",
            "parley-cassandra-writer" + suffix,
            maxBatchWrites,
            Math.max(MIN_QUEUE_CAPACITY, 4 * maxBatchWrites),
            this::writerStopped);
    return new Writer(batches, queue);
  }

  /** The writer without a journal (the only one of an unjournaled store). */
  private Writer common() {
    return writers.get(writers.size() - 1);
  }

  /** The writer of a conversation's writes. */
  private Writer writerOf(String conversationId) {
    return sharded ? writers.get(shards.of(conversationId)) : common();
  }

  private Writer writerFor(StoreWrite write) {
    if (!sharded) {
      return common();
    }
    int shard = -1;
    for (String conversationId : write.sequencedConversations()) {
      int s = shards.of(conversationId);
      if (shard >= 0 && s != shard) {
        throw new IllegalArgumentException(
            "a write may change the conversations of one shard only, got shards " + shard
                + " and " + s);
      }
      shard = s;
    }
    return shard < 0 ? common() : writers.get(shard);
  }

  /**
   * Connects to the cluster, applies missing schema migrations, checks that the keyspace was
   * created with the same shard count (recording it on first use) and starts the writer.
   *
   * @param shards the cluster's conversation shards (one per command partition)
   * @param maxBatchWrites most writes grouped into one logged batch, at least 1
   * @throws StoreUnavailableException if the cluster cannot be reached or the schema not applied
   * @throws IllegalStateException if the keyspace was created with another shard count
   */
  public static CassandraStore open(
      ParleyConfig.Cassandra config, ConversationShards shards, int maxBatchWrites) {
    return open(config, shards, maxBatchWrites, null, BatchCommitter.CASSANDRA);
  }

  /**
   * Same as {@link #open(ParleyConfig.Cassandra, ConversationShards, int)} for a cluster engine,
   * which owns the conversation shards the consumer group assigned to it: a shard's writes are
   * recorded through {@code journal}'s fence of that shard before they are applied (and fail while
   * this engine does not own it), and {@link #replayJournal} applies a previous owner's last
   * records when the shard is taken over.
   */
  public static CassandraStore openJournaled(
      ParleyConfig.Cassandra config,
      ConversationShards shards,
      int maxBatchWrites,
      WriteJournal journal) {
    return open(
        config, shards, maxBatchWrites, Objects.requireNonNull(journal, "journal"),
        BatchCommitter.CASSANDRA);
  }

  static CassandraStore open(
      ParleyConfig.Cassandra config,
      ConversationShards shards,
      int maxBatchWrites,
      WriteJournal journal,
      BatchCommitter committer) {
    Objects.requireNonNull(config, "config");
    CqlSession session;
    try {
      session = connect(config);
    } catch (DriverException | IllegalArgumentException e) {
      throw new StoreUnavailableException(
          "cannot connect to Cassandra at " + config.contactPoints() + ": " + e.getMessage(), e);
    }
    try {
      return open(session, true, config, shards, maxBatchWrites, journal, committer);
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /**
   * Opens the store on an existing session (tests share one across many opens); the session is
   * closed with the store only when {@code ownsSession}.
   */
  static CassandraStore open(
      CqlSession session,
      boolean ownsSession,
      ParleyConfig.Cassandra config,
      ConversationShards shards,
      int maxBatchWrites,
      WriteJournal journal,
      BatchCommitter committer) {
    if (maxBatchWrites < 1) {
      throw new IllegalArgumentException("maxBatchWrites must be positive, got " + maxBatchWrites);
    }
    try {
      SchemaMigrations.apply(session, config.keyspace(), config.replication());
      StoreSettings.requireShardCount(session, config.keyspace(), shards.count());
      CassandraStore store =
          new CassandraStore(
              session, ownsSession, config.keyspace(), shards, committer, journal, maxBatchWrites);
      store.writers.forEach(w -> w.queue().start());
      return store;
    } catch (DriverException e) {
      throw new StoreUnavailableException(
          "cannot prepare keyspace " + config.keyspace() + ": " + e.getMessage(), e);
    }
  }

  private static CqlSession connect(ParleyConfig.Cassandra config) {
    List<InetSocketAddress> points = new ArrayList<>();
    for (String hostPort : config.contactPoints()) {
      int colon = hostPort.lastIndexOf(':');
      points.add(
          InetSocketAddress.createUnresolved(
              hostPort.substring(0, colon).strip(),
              Integer.parseInt(hostPort.substring(colon + 1).strip())));
    }
    DriverConfigLoader loader =
        DriverConfigLoader.programmaticBuilder()
            .withString(DefaultDriverOption.REQUEST_CONSISTENCY, "LOCAL_QUORUM")
            .withString(DefaultDriverOption.REQUEST_SERIAL_CONSISTENCY, "LOCAL_SERIAL")
            // Every Parley statement carries an explicit timestamp, so retrying it is safe.
            .withBoolean(DefaultDriverOption.REQUEST_DEFAULT_IDEMPOTENCE, true)
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(10))
            .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(10))
            .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, Duration.ofSeconds(30))
            .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(30))
            .build();
    return CqlSession.builder()
        .addContactPoints(points)
        .withLocalDatacenter(config.localDatacenter())
        .withConfigLoader(loader)
        .build();
  }

  @Override
  public CompletableFuture<Void> write(StoreWrite write) {
    Objects.requireNonNull(write, "write");
    Tables.validate(write);
    return writerFor(write).queue().submit(write);
  }

  /** The epoch of the writer without a journal; a shard's writes use {@link #epoch(String)}. */
  @Override
  public long epoch() {
    return common().queue().epoch();
  }

  @Override
  public long epoch(String conversationId) {
    return writerOf(conversationId).queue().epoch();
  }

  @Override
  public Optional<UserRecord> user(String userId) {
    return tables.users.get(userId);
  }

  @Override
  public Optional<ConversationRecord> conversation(String conversationId) {
    return tables.conversations.get(conversationId);
  }

  @Override
  public Optional<MemberRecord> member(String conversationId, String userId) {
    return tables.members.get(conversationId, userId);
  }

  @Override
  public List<MemberRecord> members(String conversationId, String afterUserId, int limit) {
    return tables.members.members(conversationId, afterUserId, limit);
  }

  @Override
  public List<MemberRecord> userConversations(
      String userId, String afterConversationId, int limit) {
    return tables.members.userConversations(userId, afterConversationId, limit);
  }

  @Override
  public Optional<StoredEvent> event(String conversationId, long seq) {
    return tables.events.get(conversationId, seq);
  }

  @Override
  public List<StoredEvent> events(
      String conversationId, long fromSeq, long toSeq, int limit, boolean ascending) {
    return tables.events.range(conversationId, fromSeq, toSeq, limit, ascending);
  }

  @Override
  public OptionalLong idempotentSeq(String conversationId, String userId, String clientMsgId) {
    return tables.idempotency.get(conversationId, userId, clientMsgId);
  }

  @Override
  public ConversationShards shards() {
    return shards;
  }

  @Override
  public List<FeedEntry> feed(String userId, int shard, long afterFeedSeq, int limit) {
    return tables.feed.read(userId, shard, afterFeedSeq, limit);
  }

  @Override
  public long[] feedHeads(String userId) {
    return tables.feed.heads(userId);
  }

  @Override
  public Optional<ReceiptRecord> receipt(String conversationId, String userId) {
    return tables.receipts.get(conversationId, userId);
  }

  @Override
  public List<ReceiptRecord> receipts(String conversationId, String afterUserId, int limit) {
    return tables.receipts.list(conversationId, afterUserId, limit);
  }

  @Override
  public List<UserRecord> users(String afterUserId, int limit) {
    Objects.requireNonNull(afterUserId, "afterUserId");
    Ids.checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    return tables.users.list(afterUserId, limit);
  }

  @Override
  public List<EventRef> notifyPending(int limit) {
    return tables.notifyPending.list(limit);
  }

  @Override
  public boolean isNotifyPending(String conversationId, long seq) {
    return tables.notifyPending.contains(conversationId, seq);
  }

  @Override
  public List<OutboxJob> outboxLaneHeads(String afterLane, int limit) {
    return tables.outbox.laneHeads(afterLane, limit);
  }

  @Override
  public List<OutboxJob> outboxLane(String lane, long afterSeq, int limit) {
    return tables.outbox.lane(lane, afterSeq, limit);
  }

  @Override
  public Optional<OutboxJob> deadLetter(String jobId) {
    return tables.deadLetters.get(jobId);
  }

  @Override
  public List<OutboxJob> deadLetters(String afterJobId, int limit) {
    return tables.deadLetters.list(afterJobId, limit);
  }

  @Override
  public Optional<WebhookRecord> webhook(String webhookId) {
    return tables.webhooks.get(webhookId);
  }

  @Override
  public List<WebhookRecord> webhooks(String afterWebhookId, int limit) {
    return tables.webhooks.list(afterWebhookId, limit);
  }

  @Override
  public Optional<PushTargetRecord> pushTarget(String userId, String targetId) {
    return tables.pushTargets.get(userId, targetId);
  }

  @Override
  public List<PushTargetRecord> pushTargets(String userId, int limit) {
    return tables.pushTargets.list(userId, limit);
  }

  @Override
  public boolean isMuted(String userId, String conversationId) {
    return tables.mutes.isMuted(userId, conversationId);
  }

  /**
   * True while the writers accept writes and the latest batch of the writer without a journal did
   * not fail. A shard writer's failures do not count: its batches also fail while another engine
   * owns the shard, which says nothing about this store (the store's circuit breaker sees real
   * outages).
   */
  @Override
  public boolean isHealthy() {
    for (Writer w : writers) {
      if (!w.queue().isAccepting()) {
        return false;
      }
    }
    return !common().queue().lastCommitFailed() && !cql.isClosed();
  }

  /** Refuses new writes, finishes queued ones, then closes the session. Idempotent. */
  @Override
  public void close() {
    writers.forEach(w -> w.batches().closing());
    writers.forEach(w -> w.queue().close());
  }

  /**
   * A shard changes hands (this engine gives it up or takes it): every write built on state read
   * before this call is rejected, and the sequencer reloads the shard's conversations.
   */
  public void invalidateShard(int shard) {
    requireShardWriter(shard).queue().invalidate();
  }

  private Writer requireShardWriter(int shard) {
    if (!sharded || shard < 0 || shard >= shards.count()) {
      throw new IllegalArgumentException("no journaled writer for shard " + shard);
    }
    return writers.get(shard);
  }

  /**
   * Applies journal records (oldest first) exactly as their writer did, then stamps every later
   * write of the shard's writer above them. Applying a record again is harmless: every cell carries the
   * timestamp it was first written with, so anything written since wins over it. Call while this
   * shard writes nothing else (it is being taken over, before its commands are taken).
   *
   * @throws StoreUnavailableException if the cluster does not take a record (retried briefly)
   * @throws IllegalArgumentException if a record is malformed
   */
  public void replayJournal(int shard, List<byte[]> records) {
    CassandraBatchWriter batchWriter = requireShardWriter(shard).batches();
    long maxTimestamp = 0;
    for (byte[] record : records) {
      BatchStatement batch = JournalCodec.decode(record, this::prepareRecorded);
      if (batch.size() > 0) {
        batchWriter.apply(batch, REPLAY_ATTEMPTS);
      }
      maxTimestamp = Math.max(maxTimestamp, JournalCodec.maxTimestampMicros(record));
    }
    batchWriter.afterReplay(maxTimestamp);
  }

  private PreparedStatement prepareRecorded(String query) {
    try {
      return cql.session().prepare(query);
    } catch (DriverException e) {
      throw new StoreUnavailableException("cannot prepare a journaled statement: " + e.getMessage(), e);
    }
  }


  /** Number of logged batches executed successfully since open (all writers). */
  public long commitCount() {
    return sum(GroupCommitQueue::commits);
  }

  /** Number of {@link StoreWrite}s committed since open. */
  public long writeCount() {
    return sum(GroupCommitQueue::committedWrites);
  }

  /** Number of failed batches since open; each increased its writer's epoch. */
  public long failedCommitCount() {
    return sum(GroupCommitQueue::failedCommits);
  }

  /** Total time spent executing successful batches, in nanoseconds. */
  public long commitNanos() {
    return sum(GroupCommitQueue::commitNanos);
  }

  /** Writes in the most recent successful batch of the busiest writer. */
  public int lastBatchSize() {
    return (int) writers.stream().mapToLong(w -> w.queue().lastBatchSize()).max().orElse(0);
  }

  /** Writes waiting for the writers right now. */
  public int queuedWrites() {
    return (int) sum(GroupCommitQueue::queued);
  }

  private long sum(ToLongFunction<GroupCommitQueue<StoreWrite>> stat) {
    long total = 0;
    for (Writer w : writers) {
      total += stat.applyAsLong(w.queue());
    }
    return total;
  }

  /** Runs on each writer thread once it has stopped; the last one closes the session. */
  private void writerStopped() {
    if (runningWriters.decrementAndGet() == 0) {
      closeSession();
    }
  }

  /** Runs on the writer thread once it has stopped. */
  private void closeSession() {
    cql.markClosed();
    if (ownsSession) {
      session.close();
    }
  }
}
