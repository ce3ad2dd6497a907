package io.parley.server.store.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.google.protobuf.ByteString;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.Role;
import io.parley.server.store.EventRef;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.ParleyStoreConformanceTest;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.WebhookRecord;
import io.parley.server.testing.CassandraExtension;
import io.parley.server.testing.CassandraTestCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The storage conformance suite against a real forked Cassandra node, plus what only this engine
 * has: bucket boundaries, and schema migrations that are recorded and idempotent. A commit is made
 * to fail genuinely: the batch is sent at consistency THREE to a keyspace with one replica, which
 * the node rejects as unavailable without applying anything.
 */
@ExtendWith(CassandraExtension.class)
class CassandraStoreConformanceIT extends ParleyStoreConformanceTest {
  private static final String KEYSPACE = "conformance";

  /** More than one, so that the shared suite runs against feeds split by shard. */
  private static final ConversationShards SHARDS = new ConversationShards(8);

  private final CassandraTestCluster cluster;
  private final AtomicBoolean failNext = new AtomicBoolean();
  private boolean emptied;

  CassandraStoreConformanceIT(CassandraTestCluster cluster) {
    this.cluster = cluster;
  }

  @Override
  protected ParleyStore openStore() {
    // One shared session for every open keeps the suite fast; the server's own open path (its own
    // session) is covered by CassandraChatIT.
    CassandraStore store =
        CassandraStore.open(
            cluster.adminSession(),
            false,
            cluster.config(KEYSPACE),
            SHARDS,
            64,
            null,
            (session, batch) ->
                session.execute(
                    failNext.getAndSet(false)
                        ? batch.setConsistencyLevel(ConsistencyLevel.THREE)
                        : batch));
    // JUnit makes a new instance per test: the first open of a test starts from empty tables.
    if (!emptied) {
      cluster.truncateAll(KEYSPACE);
      emptied = true;
    }
    return store;
  }

  @Override
  protected void failNextCommit() {
    failNext.set(true);
  }

  @Test
  void aKeyspaceKeepsTheShardCountItWasCreatedWith() {
    reopen(); // the first open of this test emptied the settings with every other table

    assertThatThrownBy(
            () ->
                CassandraStore.open(
                    cluster.adminSession(),
                    false,
                    cluster.config(KEYSPACE),
                    new ConversationShards(SHARDS.count() + 1),
                    64,
                    null,
                    BatchCommitter.CASSANDRA))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("was created with " + SHARDS.count() + " conversation shards");
    assertThat(store.shards()).isEqualTo(SHARDS);
  }

  @Test
  void eventRangesCrossBucketBoundariesInBothDirections() {
    long first = Buckets.SIZE * 2 - 3;
    long last = Buckets.SIZE * 2 + 2;
    StoreWrite w = new StoreWrite();
    for (long seq = first; seq <= last; seq++) {
      w.appendEvent(message("big", seq, seq));
    }
    commit(w);

    assertThat(store.events("big", 0, Long.MAX_VALUE, 100, true))
        .extracting(StoredEvent::seq)
        .containsExactlyElementsOf(LongStream.rangeClosed(first, last).boxed().toList());
    assertThat(store.events("big", 0, Long.MAX_VALUE, 4, false))
        .extracting(StoredEvent::seq)
        .containsExactly(last, last - 1, last - 2, last - 3);
    assertThat(store.events("big", first + 1, Buckets.SIZE * 2, 10, false))
        .extracting(StoredEvent::seq)
        .containsExactly(Buckets.SIZE * 2, Buckets.SIZE * 2 - 1, Buckets.SIZE * 2 - 2);
    assertThat(store.event("big", Buckets.SIZE * 2)).isPresent();
  }

  @Test
  void feedSeqsContinueFromTheCommittedHeadAcrossABucketBoundary() {
    // A long-lived feed: its committed head sits just below a bucket boundary.
    long head = Buckets.SIZE - 3;
    cluster
        .adminSession()
        .execute(
            "INSERT INTO "
                + KEYSPACE
                + ".shard_feed_heads (user_id, shard, head) VALUES ('walker', "
                + shardOf("g1")
                + ", "
                + head
                + ")");
    StoreWrite w = new StoreWrite();
    for (int i = 1; i <= 6; i++) {
      w.appendFeed(List.of("walker"), "g1", i);
    }
    commit(w);

    assertThat(feedOf("walker", "g1", head, 100))
        .extracting(FeedEntry::feedSeq, FeedEntry::seq)
        .containsExactly(
            tuple(head + 1, 1L),
            tuple(head + 2, 2L),
            tuple(head + 3, 3L),
            tuple(head + 4, 4L),
            tuple(head + 5, 5L),
            tuple(head + 6, 6L));
    // head + 2 is the last seq of its bucket: this page spans two partitions.
    assertThat(Buckets.of(head + 3)).isEqualTo(Buckets.of(head + 2) + 1);
    assertThat(feedOf("walker", "g1", head + 1, 2))
        .extracting(FeedEntry::feedSeq)
        .containsExactly(head + 2, head + 3);
    assertThat(headOf("walker", "g1")).isEqualTo(head + 6);
  }

  /**
   * Writes submitted back to back share one logged batch; each still gets its own timestamp, so the
   * later write wins on the same row exactly as if they had been committed one after the other.
   */
  @Test
  void laterWritesWinWithinOneBatch() {
    MemberRecord asMember = member("g1", "alice", Role.ROLE_MEMBER);
    MemberRecord asOwner = member("g1", "alice", Role.ROLE_OWNER);
    List<CompletableFuture<Void>> futures =
        List.of(
            store.write(new StoreWrite().putMember(asMember)),
            store.write(new StoreWrite().removeMember(asMember)),
            store.write(new StoreWrite().putMember(asOwner)),
            store.write(new StoreWrite().putReceipt(new ReceiptRecord("g1", "alice", 1, 1, 1))),
            store.write(new StoreWrite().putReceipt(new ReceiptRecord("g1", "alice", 5, 4, 3))),
            store.write(new StoreWrite().putMember(member("g1", "bob", Role.ROLE_MEMBER))),
            store.write(new StoreWrite().removeMember(member("g1", "bob", Role.ROLE_MEMBER))));
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();

    assertThat(store.member("g1", "alice")).contains(asOwner);
    assertThat(store.userConversations("alice", "", 10)).containsExactly(asOwner);
    assertThat(store.member("g1", "bob")).isEmpty();
    assertThat(store.receipt("g1", "alice")).contains(new ReceiptRecord("g1", "alice", 5, 4, 3));
  }

  @Test
  void aMessageOfTheLargestAllowedSizeCommitsInALoggedBatch() {
    Event big =
        message("g1", 1, 1).event().toBuilder()
            .setMessagePosted(
                message("g1", 1, 1).event().getMessagePosted().toBuilder()
                    .setBody(ByteString.copyFrom(new byte[64 * 1024])))
            .build();
    List<String> members = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      members.add("member-" + i);
    }

    commit(
        new StoreWrite()
            .appendEvent(new StoredEvent(big, 1))
            .appendFeed(members, "g1", 1));

    assertThat(store.event("g1", 1)).contains(new StoredEvent(big, 1));
    assertThat(headOf("member-199", "g1")).isEqualTo(1);
  }

  @Test
  void invalidInputFailsTheCallerAndReadsFailAfterClose() {
    assertThatThrownBy(() -> store.write(new StoreWrite().putUser(user(""))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.write(new StoreWrite().appendEvent(message("g1", 0, 0))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.user("x".repeat(300)))
        .isInstanceOf(IllegalArgumentException.class);

    store.close();

    assertThatThrownBy(() -> store.user("alice")).isInstanceOf(StoreUnavailableException.class);
    assertThatThrownBy(() -> store.users("", 10)).isInstanceOf(StoreUnavailableException.class);
    assertThatThrownBy(() -> store.write(new StoreWrite().putUser(user("late"))).join())
        .hasCauseInstanceOf(StoreUnavailableException.class);
    assertThat(store.isHealthy()).isFalse();
  }

  @Test
  void schemaMigrationsAreRecordedAndIdempotent() {
    CqlSession admin = cluster.adminSession();

    List<Integer> again =
        SchemaMigrations.apply(admin, KEYSPACE, cluster.config(KEYSPACE).replication());

    assertThat(again).isEmpty();
    assertThat(
            admin
                .execute(
                    "SELECT version FROM " + KEYSPACE + ".schema_version WHERE scope = 'parley'")
                .all())
        .extracting(r -> r.getInt("version"))
        .containsExactlyElementsOf(
            SchemaMigrations.SCRIPTS.stream().map(SchemaMigrations::version).toList())
        .startsWith(1, 2, 3);
  }

  /**
   * Lanes, dead letters and marks are spread over shard partitions; listings must still come back
   * in key order across shards and page correctly from a cursor.
   */
  @Test
  void shardedNotificationListingsMergeInKeyOrderAndPage() {
    StoreWrite w = new StoreWrite();
    List<String> lanes = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String lane = "lane-" + (char) ('a' + i % 26) + i;
      lanes.add(lane);
      w.putOutboxJob(outboxJob(lane, 5)).putOutboxJob(outboxJob(lane, 3));
      w.putDeadLetter(outboxJob(lane, 9));
      w.markNotifyPending("conv-" + i, 2).markNotifyPending("conv-" + i, 1);
    }
    commit(w);
    lanes.sort(Ids.CODE_POINT_ORDER);

    List<String> paged = new ArrayList<>();
    String after = "";
    while (true) {
      List<OutboxJob> heads = store.outboxLaneHeads(after, 7);
      heads.forEach(j -> assertThat(j.seq()).isEqualTo(3));
      heads.forEach(j -> paged.add(j.lane()));
      if (heads.size() < 7) {
        break;
      }
      after = heads.get(heads.size() - 1).lane();
    }
    assertThat(paged).containsExactlyElementsOf(lanes);

    assertThat(store.deadLetters("", 100))
        .extracting(OutboxJob::lane)
        .containsExactlyElementsOf(lanes);
    assertThat(store.deadLetters(lanes.get(0) + "-9", 3))
        .extracting(OutboxJob::lane)
        .containsExactlyElementsOf(lanes.subList(1, 4));
    assertThat(store.notifyPending(3))
        .containsExactly(
            new EventRef("conv-0", 1), new EventRef("conv-0", 2), new EventRef("conv-1", 1));
  }

  /**
   * A write's statements share one timestamp and Cassandra lets a deletion win a timestamp tie, so
   * a removal and a put of the same key in one write must still end with the put (as in RocksDB).
   */
  @Test
  void aRemovalAndAPutOfTheSameKeyInOneWriteKeepThePut() {
    OutboxJob job = outboxJob("lane", 1);
    WebhookRecord hook = new WebhookRecord("wh1", "https://a/hook", "s", List.of("message.created"), 1);
    PushTargetRecord phone = new PushTargetRecord("alice", "t1", "phone", "webhook", "tok", 2);
    commit(
        new StoreWrite()
            .putOutboxJob(job)
            .putDeadLetter(job)
            .putWebhook(hook)
            .putPushTarget(phone)
            .markNotifyPending("c1", 1));

    OutboxJob retried = job.failed("HTTP 500", 77);
    OutboxJob replayed = job.replayed(88);
    WebhookRecord edited = new WebhookRecord("wh1", "https://b/hook", "s2", List.of(), 1);
    PushTargetRecord refreshed = new PushTargetRecord("alice", "t1", "phone", "webhook", "tok2", 3);
    commit(
        new StoreWrite()
            .removeOutboxJob(job)
            .putOutboxJob(retried)
            .removeDeadLetter(job.jobId())
            .putDeadLetter(replayed)
            .removeWebhook("wh1")
            .putWebhook(edited)
            .removePushTarget(phone)
            .putPushTarget(refreshed)
            .clearNotifyPending(new EventRef("c1", 1))
            .markNotifyPending("c1", 1)
            .setMuted("alice", "c1", false)
            .setMuted("alice", "c1", true)
            .setMuted("alice", "c2", true)
            .setMuted("alice", "c2", false));

    assertThat(store.outboxLane("lane", 0, 10)).containsExactly(retried);
    assertThat(store.deadLetter(job.jobId())).contains(replayed);
    assertThat(store.webhook("wh1")).contains(edited);
    assertThat(store.pushTarget("alice", "t1")).contains(refreshed);
    assertThat(store.isNotifyPending("c1", 1)).isTrue();
    assertThat(store.isMuted("alice", "c1")).isTrue();
    assertThat(store.isMuted("alice", "c2")).isFalse();
  }

  private static OutboxJob outboxJob(String lane, long seq) {
    return new OutboxJob(
        lane, seq, lane + "-" + seq, "webhook", "wh1", new byte[] {1, 2, (byte) seq}, 0, seq, "", 5);
  }
}
