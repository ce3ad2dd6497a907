package io.parley.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.protocol.v1.Role;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link ParleyStore} implementation must have. A subclass per engine
 * provides {@link #openStore()} (and a way to make a commit fail) and inherits every test.
 */
public abstract class ParleyStoreConformanceTest {
  private static final long TIMEOUT_SECONDS = 30;

  /** The store under test; reassigned by {@link #reopen()}. */
  protected ParleyStore store;

  /**
   * Opens the store on this test's data. Every call within one test must see the same data
   * (so that {@link #reopen()} checks durability); different tests get independent data.
   */
  protected abstract ParleyStore openStore();

  /**
   * Makes the next commit of the current store fail the way a storage failure (I/O error, disk
   * full) would, after which the store must keep working.
   */
  protected abstract void failNextCommit();

  @BeforeEach
  void openStoreForTest() {
    store = openStore();
  }

  @AfterEach
  void closeStoreAfterTest() {
    if (store != null) {
      store.close();
    }
  }

  /** Closes the store and opens it again on the same data. */
  protected final void reopen() {
    store.close();
    store = null;
    store = openStore();
  }

  // ---- records ----

  @Test
  void writtenUserIsReadBack() {
    UserRecord u = user("alice");

    commit(new StoreWrite().putUser(u));

    assertThat(store.user("alice")).contains(u);
    assertThat(store.user("bob")).isEmpty();
  }

  @Test
  void usersAreListedInIdOrderAfterTheCursor() {
    StoreWrite w = new StoreWrite();
    for (String id : List.of("dave", "alice", "carol", "bob", "erin")) {
      w.putUser(user(id));
    }
    commit(w);

    assertThat(ids(store.users("", 2))).containsExactly("alice", "bob");
    assertThat(ids(store.users("bob", 2))).containsExactly("carol", "dave");
    assertThat(ids(store.users("dave", 10))).containsExactly("erin");
    assertThat(ids(store.users("b", 10))).containsExactly("bob", "carol", "dave", "erin");
    assertThat(store.users("erin", 10)).isEmpty();
    assertThat(store.users("", 0)).isEmpty();
  }

  @Test
  void laterPutOfTheSameUserReplacesIt() {
    commit(new StoreWrite().putUser(user("alice")));
    UserRecord renamed = new UserRecord("alice", "Alice B.", "https://a/b.png", true, 1, 99);

    commit(new StoreWrite().putUser(renamed));

    assertThat(store.user("alice")).contains(renamed);
  }

  @Test
  void writtenConversationIsReadBackWithItsMetadata() {
    ConversationRecord c = conversation("g1", 7);

    commit(new StoreWrite().putConversation(c));

    assertThat(store.conversation("g1")).contains(c);
    assertThat(store.conversation("g2")).isEmpty();
  }

  @Test
  void memberUpsertIsVisibleFromBothTheConversationAndTheUser() {
    MemberRecord m = member("g1", "alice", Role.ROLE_OWNER);

    commit(new StoreWrite().putMember(m));

    assertThat(store.member("g1", "alice")).contains(m);
    assertThat(store.members("g1", "", 10)).containsExactly(m);
    assertThat(store.userConversations("alice", "", 10)).containsExactly(m);
  }

  @Test
  void memberRemovalDeletesBothEntries() {
    MemberRecord alice = member("g1", "alice", Role.ROLE_MEMBER);
    MemberRecord bob = member("g1", "bob", Role.ROLE_MEMBER);
    commit(new StoreWrite().putMember(alice).putMember(bob));

    commit(new StoreWrite().removeMember(alice));

    assertThat(store.member("g1", "alice")).isEmpty();
    assertThat(store.members("g1", "", 10)).containsExactly(bob);
    assertThat(store.userConversations("alice", "", 10)).isEmpty();
    assertThat(store.userConversations("bob", "", 10)).containsExactly(bob);
  }

  @Test
  void membersArePagedInUserIdOrderWithinTheirConversation() {
    StoreWrite w = new StoreWrite();
    for (String u : List.of("u3", "u1", "u5", "u2", "u4")) {
      w.putMember(member("g1", u, Role.ROLE_MEMBER));
    }
    // Neighbouring conversations whose ids extend or precede "g1" must not leak in.
    w.putMember(member("g", "u0", Role.ROLE_MEMBER));
    w.putMember(member("g10", "u0", Role.ROLE_MEMBER));
    commit(w);

    assertThat(userIds(store.members("g1", "", 2))).containsExactly("u1", "u2");
    assertThat(userIds(store.members("g1", "u2", 2))).containsExactly("u3", "u4");
    assertThat(userIds(store.members("g1", "u4", 2))).containsExactly("u5");
    assertThat(store.members("g1", "u5", 2)).isEmpty();
    assertThat(userIds(store.members("g", "", 10))).containsExactly("u0");
  }

  @Test
  void userConversationsArePagedInConversationIdOrder() {
    StoreWrite w = new StoreWrite();
    for (String c : List.of("c3", "c1", "c4", "c2")) {
      w.putMember(member(c, "alice", Role.ROLE_MEMBER));
    }
    w.putMember(member("c1", "alice2", Role.ROLE_MEMBER));
    commit(w);

    assertThat(conversationIds(store.userConversations("alice", "", 3)))
        .containsExactly("c1", "c2", "c3");
    assertThat(conversationIds(store.userConversations("alice", "c3", 3))).containsExactly("c4");
    assertThat(store.userConversations("alice", "", 1).get(0))
        .isEqualTo(member("c1", "alice", Role.ROLE_MEMBER));
  }

  @Test
  void receiptsAreReadBackAndListedByUser() {
    ReceiptRecord bob = new ReceiptRecord("g1", "bob", 5, 4, 3);
    ReceiptRecord alice = new ReceiptRecord("g1", "alice", 7, 7, 6);
    ReceiptRecord other = new ReceiptRecord("g2", "alice", 1, 1, 1);
    commit(new StoreWrite().putReceipt(bob).putReceipt(alice).putReceipt(other));
    ReceiptRecord bobLater = new ReceiptRecord("g1", "bob", 9, 8, 7);

    commit(new StoreWrite().putReceipt(bobLater));

    assertThat(store.receipt("g1", "bob")).contains(bobLater);
    assertThat(store.receipt("g1", "carol")).isEmpty();
    assertThat(store.receipts("g1", "", 10)).containsExactly(alice, bobLater);
    assertThat(store.receipts("g1", "alice", 10)).containsExactly(bobLater);
    assertThat(store.receipts("g1", "", 1)).containsExactly(alice);
  }

  @Test
  void idempotencyKeyReturnsTheOriginalSeqForItsSenderOnly() {
    commit(new StoreWrite().putIdempotency(new IdempotencyEntry("g1", "alice", "cm-1", 12)));

    assertThat(store.idempotentSeq("g1", "alice", "cm-1")).isEqualTo(OptionalLong.of(12));
    assertThat(store.idempotentSeq("g1", "bob", "cm-1")).isEmpty();
    assertThat(store.idempotentSeq("g2", "alice", "cm-1")).isEmpty();
    assertThat(store.idempotentSeq("g1", "alice", "cm-2")).isEmpty();
  }

  // ---- events ----

  @Test
  void eventIsReadBackWithItsMessageOrdinal() {
    StoredEvent e = message("g1", 1, 1);

    commit(new StoreWrite().appendEvent(e));

    assertThat(store.event("g1", 1)).contains(e);
    assertThat(store.event("g1", 2)).isEmpty();
    assertThat(store.event("g2", 1)).isEmpty();
  }

  @Test
  void eventRangesAreReadInBothDirectionsWithinBoundsAndLimits() {
    appendMessages("g1", 10);
    appendMessages("g", 3);
    appendMessages("g10", 3);

    assertThat(seqs(store.events("g1", 3, 7, 100, true))).containsExactly(3L, 4L, 5L, 6L, 7L);
    assertThat(seqs(store.events("g1", 3, 7, 2, true))).containsExactly(3L, 4L);
    assertThat(seqs(store.events("g1", 3, 7, 100, false))).containsExactly(7L, 6L, 5L, 4L, 3L);
    assertThat(seqs(store.events("g1", 3, 7, 2, false))).containsExactly(7L, 6L);
    assertThat(seqs(store.events("g1", 0, Long.MAX_VALUE, 100, true)))
        .containsExactlyElementsOf(seqRange(1, 10));
    assertThat(seqs(store.events("g1", 0, Long.MAX_VALUE, 3, false)))
        .containsExactly(10L, 9L, 8L);
    assertThat(seqs(store.events("g1", 9, 50, 100, true))).containsExactly(9L, 10L);
    assertThat(seqs(store.events("g1", 5, 5, 100, false))).containsExactly(5L);
    assertThat(store.events("g1", 11, 20, 100, true)).isEmpty();
    assertThat(store.events("g1", 11, 20, 100, false)).isEmpty();
    assertThat(store.events("g1", 7, 3, 100, true)).isEmpty();
    assertThat(store.events("g1", 1, 10, 0, true)).isEmpty();
    assertThat(store.events("g", 0, Long.MAX_VALUE, 100, false))
        .extracting(StoredEvent::conversationId)
        .containsOnly("g")
        .hasSize(3);
  }

  @Test
  void eventsAreReturnedAsStored() {
    appendMessages("g1", 3);

    List<StoredEvent> events = store.events("g1", 1, 3, 10, true);

    assertThat(events)
        .containsExactly(message("g1", 1, 1), message("g1", 2, 2), message("g1", 3, 3));
  }

  // ---- feeds ----

  @Test
  void feedEntriesGetPerUserSeqsStartingAtOne() {
    String g2 = sameShardAs("g1", "g");
    commit(new StoreWrite().appendFeed(List.of("alice", "bob"), "g1", 1));
    commit(new StoreWrite().appendFeed(List.of("alice"), g2, 1));
    commit(new StoreWrite().appendFeed(List.of("alice", "bob"), "g1", 2));

    assertThat(feedOf("alice", "g1", 0, 10))
        .containsExactly(
            entry("alice", 1, "g1", 1), entry("alice", 2, g2, 1), entry("alice", 3, "g1", 2));
    assertThat(feedOf("bob", "g1", 0, 10))
        .containsExactly(entry("bob", 1, "g1", 1), entry("bob", 2, "g1", 2));
    assertThat(headOf("alice", "g1")).isEqualTo(3);
    assertThat(headOf("bob", "g1")).isEqualTo(2);
    assertThat(store.feedHeads("carol")).hasSize(store.shards().count()).containsOnly(0L);
    assertThat(feedOf("carol", "g1", 0, 10)).isEmpty();
  }

  /**
   * A user has one feed per shard: entries of conversations in different shards are numbered
   * independently from 1, and each shard's feed holds only its own conversations. (With one shard
   * every conversation shares the single feed.)
   */
  @Test
  void feedsAreKeptPerShard() {
    int shards = store.shards().count();
    List<String> conversations = new ArrayList<>();
    for (int i = 0; conversations.size() < Math.min(shards, 3); i++) {
      String id = "c" + i;
      if (conversations.stream().noneMatch(c -> shardOf(c) == shardOf(id))) {
        conversations.add(id);
      }
    }
    String extra = "extra";
    for (int seq = 1; seq <= 2; seq++) {
      for (String c : conversations) {
        commit(new StoreWrite().appendFeed(List.of("alice"), c, seq));
      }
    }
    commit(new StoreWrite().appendFeed(List.of("alice"), extra, 1));

    List<FeedEntry> all = new ArrayList<>();
    long[] heads = store.feedHeads("alice");
    assertThat(heads).hasSize(shards);
    for (int shard = 0; shard < shards; shard++) {
      List<FeedEntry> feed = store.feed("alice", shard, 0, 100);
      int s = shard;
      assertThat(feed).allSatisfy(e -> assertThat(e.shard()).isEqualTo(s));
      assertThat(feed).allSatisfy(e -> assertThat(shardOf(e.conversationId())).isEqualTo(s));
      assertThat(feed).extracting(FeedEntry::feedSeq)
          .containsExactlyElementsOf(seqRange(1, feed.size()));
      assertThat(heads[shard]).isEqualTo(feed.size());
      all.addAll(feed);
    }
    assertThat(all).hasSize(2 * conversations.size() + 1);
    if (shards > 1) {
      for (String c : conversations) {
        assertThat(feedOf("alice", c, 0, 100))
            .filteredOn(e -> e.conversationId().equals(c))
            .extracting(FeedEntry::seq)
            .containsExactly(1L, 2L);
      }
    }
    assertThatThrownBy(() -> store.feed("alice", shards, 0, 10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.feed("alice", -1, 0, 10))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void feedIsReadAfterTheCursorWithALimit() {
    for (int seq = 1; seq <= 5; seq++) {
      commit(new StoreWrite().appendFeed(List.of("alice"), "g1", seq));
    }
    commit(new StoreWrite().appendFeed(List.of("alice2"), "g1", 1));

    assertThat(feedOf("alice", "g1", 2, 2))
        .extracting(FeedEntry::feedSeq)
        .containsExactly(3L, 4L);
    assertThat(feedOf("alice", "g1", 4, 10)).extracting(FeedEntry::feedSeq).containsExactly(5L);
    assertThat(feedOf("alice", "g1", 5, 10)).isEmpty();
  }

  @Test
  void severalAppendsInOneWriteAreOrderedAsAdded() {
    String g2 = sameShardAs("g1", "g");
    commit(
        new StoreWrite()
            .appendFeed(List.of("alice"), "g1", 1)
            .appendFeed(List.of("alice"), "g1", 2)
            .appendFeed(List.of("alice"), g2, 1));

    assertThat(feedOf("alice", "g1", 0, 10))
        .containsExactly(
            entry("alice", 1, "g1", 1), entry("alice", 2, "g1", 2), entry("alice", 3, g2, 1));
  }

  /**
   * Many threads, each the writer of its own conversation, append feed entries concurrently. Each
   * of every user's shard feeds must be gapless 1..N, together they hold exactly the appended
   * entries, list each conversation's events in seq order, and order any two entries of one shard
   * the same way for every user (commit order).
   */
  @Test
  void feedSeqsAreGaplessAndInCommitOrderAcrossConcurrentWriters() throws Exception {
    int threads = 6;
    int writesPerThread = 40;
    List<String> users = List.of("u0", "u1", "u2", "u3", "u4");
    Map<String, Set<String>> expected = new HashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<List<CompletableFuture<Void>>>> submitted = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String conv = "conv-" + t;
        List<List<String>> recipients = new ArrayList<>();
        for (int i = 0; i < writesPerThread; i++) {
          // u0 receives everything; the others a thread- and write-dependent subset.
          List<String> r = new ArrayList<>(List.of("u0"));
          r.add(users.get(1 + (t + i) % 4));
          if (i % 3 == 0) {
            r.add(users.get(1 + (t + i + 1) % 4));
          }
          recipients.add(r);
          for (String u : r) {
            expected.computeIfAbsent(u, k -> new HashSet<>()).add(conv + "#" + (i + 1));
          }
        }
        submitted.add(
            pool.submit(
                () -> {
                  start.await();
                  List<CompletableFuture<Void>> futures = new ArrayList<>();
                  for (int i = 0; i < writesPerThread; i++) {
                    futures.add(
                        store.write(new StoreWrite().appendFeed(recipients.get(i), conv, i + 1)));
                  }
                  return futures;
                }));
      }
      start.countDown();
      for (Future<List<CompletableFuture<Void>>> f : submitted) {
        List<CompletableFuture<Void>> futures = f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
            .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    int shards = store.shards().count();
    Map<String, Integer> rankInU0 = new HashMap<>();
    for (int shard = 0; shard < shards; shard++) {
      List<FeedEntry> u0 = store.feed("u0", shard, 0, 10_000);
      for (int i = 0; i < u0.size(); i++) {
        rankInU0.put(u0.get(i).conversationId() + "#" + u0.get(i).seq(), i);
      }
    }
    for (String u : users) {
      List<String> all = new ArrayList<>();
      for (int shard = 0; shard < shards; shard++) {
        List<FeedEntry> feed = store.feed(u, shard, 0, 10_000);
        assertThat(feed).extracting(FeedEntry::feedSeq)
            .containsExactlyElementsOf(seqRange(1, feed.size()));
        assertThat(store.feedHeads(u)[shard]).isEqualTo(feed.size());
        feed.forEach(e -> all.add(e.conversationId() + "#" + e.seq()));
        assertInOrder(u, feed, rankInU0);
      }
      assertThat(all).containsExactlyInAnyOrderElementsOf(expected.get(u));
    }
  }

  /** One shard feed of a user: each conversation in seq order, entries in u0's commit order. */
  private static void assertInOrder(
      String u, List<FeedEntry> feed, Map<String, Integer> rankInU0) {
    Map<String, Long> lastSeqPerConversation = new HashMap<>();
    int lastRank = -1;
    for (FeedEntry e : feed) {
      Long previous = lastSeqPerConversation.put(e.conversationId(), e.seq());
      assertThat(previous == null || previous < e.seq())
          .as("%s: %s after seq %s", u, e, previous)
          .isTrue();
      int rank = rankInU0.get(e.conversationId() + "#" + e.seq());
      assertThat(rank).as("%s: commit order of %s", u, e).isGreaterThan(lastRank);
      lastRank = rank;
    }
  }

  // ---- ordering and durability ----

  @Test
  void futuresCompleteInSubmissionOrder() throws Exception {
    List<Integer> completed = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      int n = i;
      futures.add(
          store
              .write(new StoreWrite().putUser(user("user-" + i)))
              .whenComplete((v, e) -> completed.add(n)));
    }

    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);

    assertThat(completed).containsExactlyElementsOf(IntStream.range(0, 200).boxed().toList());
  }

  @Test
  void everyRecordKindSurvivesCloseAndReopen() {
    UserRecord alice = user("alice");
    ConversationRecord g1 = conversation("g1", 2);
    MemberRecord aliceInG1 = member("g1", "alice", Role.ROLE_OWNER);
    ReceiptRecord receipt = new ReceiptRecord("g1", "alice", 2, 2, 2);
    commit(
        new StoreWrite()
            .putUser(alice)
            .putConversation(g1)
            .putMember(aliceInG1)
            .appendEvent(message("g1", 1, 1))
            .appendEvent(message("g1", 2, 2))
            .putIdempotency(new IdempotencyEntry("g1", "alice", "cm-2", 2))
            .putReceipt(receipt)
            .appendFeed(List.of("alice"), "g1", 1)
            .appendFeed(List.of("alice"), "g1", 2));

    reopen();

    assertThat(store.user("alice")).contains(alice);
    assertThat(store.conversation("g1")).contains(g1);
    assertThat(store.member("g1", "alice")).contains(aliceInG1);
    assertThat(store.userConversations("alice", "", 10)).containsExactly(aliceInG1);
    assertThat(store.events("g1", 1, 2, 10, true))
        .containsExactly(message("g1", 1, 1), message("g1", 2, 2));
    assertThat(store.idempotentSeq("g1", "alice", "cm-2")).isEqualTo(OptionalLong.of(2));
    assertThat(store.receipt("g1", "alice")).contains(receipt);
    assertThat(headOf("alice", "g1")).isEqualTo(2);
  }

  @Test
  void feedSeqsContinueAfterReopen() {
    commit(new StoreWrite().appendFeed(List.of("alice"), "g1", 1));
    commit(new StoreWrite().appendFeed(List.of("alice"), "g1", 2));

    reopen();
    commit(new StoreWrite().appendFeed(List.of("alice"), "g1", 3));

    assertThat(feedOf("alice", "g1", 0, 10))
        .extracting(FeedEntry::feedSeq, FeedEntry::seq)
        .containsExactly(
            tuple(1L, 1L),
            tuple(2L, 2L),
            tuple(3L, 3L));
  }

  // ---- epochs ----

  @Test
  void failedCommitRaisesTheEpochAndStaleWritesAreRejected() {
    long before = store.epoch();
    failNextCommit();

    CompletableFuture<Void> failed =
        store.write(new StoreWrite().putUser(user("ghost")).epoch(before));

    assertThatThrownBy(failed::join).hasCauseInstanceOf(StoreUnavailableException.class);
    assertThat(store.epoch()).isGreaterThan(before);
    assertThat(store.user("ghost")).isEmpty();

    CompletableFuture<Void> stale =
        store.write(new StoreWrite().putUser(user("stale")).epoch(before));
    assertThatThrownBy(stale::join).hasCauseInstanceOf(StoreUnavailableException.class);
    assertThat(store.user("stale")).isEmpty();

    commit(new StoreWrite().putUser(user("fresh")).epoch(store.epoch()));
    commit(new StoreWrite().putUser(user("untagged")));
    assertThat(store.user("fresh")).isPresent();
    assertThat(store.user("untagged")).isPresent();
  }

  @Test
  void failedCommitLeavesNoFeedGap() {
    commit(new StoreWrite().appendFeed(List.of("alice"), "g1", 1));
    failNextCommit();
    CompletableFuture<Void> failed =
        store.write(new StoreWrite().appendFeed(List.of("alice"), "g1", 2));
    assertThatThrownBy(failed::join).isInstanceOf(CompletionException.class);

    commit(new StoreWrite().appendFeed(List.of("alice"), "g1", 2));

    assertThat(feedOf("alice", "g1", 0, 10))
        .containsExactly(entry("alice", 1, "g1", 1), entry("alice", 2, "g1", 2));
  }

  // ---- helpers ----

  protected final int shardOf(String conversationId) {
    return store.shards().of(conversationId);
  }

  /** The user's feed of the shard that holds {@code conversationId}. */
  protected final List<FeedEntry> feedOf(
      String userId, String conversationId, long afterFeedSeq, int limit) {
    return store.feed(userId, shardOf(conversationId), afterFeedSeq, limit);
  }

  /** The head of the user's feed of the shard that holds {@code conversationId}. */
  protected final long headOf(String userId, String conversationId) {
    return store.feedHeads(userId)[shardOf(conversationId)];
  }

  protected final FeedEntry entry(String userId, long feedSeq, String conversationId, long seq) {
    return new FeedEntry(userId, shardOf(conversationId), feedSeq, conversationId, seq);
  }

  /** A conversation id {@code prefix<n>}, other than {@code other}, in the same shard. */
  protected final String sameShardAs(String other, String prefix) {
    for (int n = 0; ; n++) {
      String id = prefix + n;
      if (!id.equals(other) && shardOf(id) == shardOf(other)) {
        return id;
      }
    }
  }

  /** Writes and waits for durability. */
  protected final void commit(StoreWrite w) {
    try {
      store.write(w).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("write failed", e);
    }
  }

  protected final void appendMessages(String conversationId, int count) {
    StoreWrite w = new StoreWrite();
    for (int seq = 1; seq <= count; seq++) {
      w.appendEvent(message(conversationId, seq, seq));
    }
    commit(w);
  }

  protected static UserRecord user(String id) {
    return new UserRecord(id, "Name of " + id, "https://avatars/" + id, false, 1_000, 2_000);
  }

  /** A group conversation record with the given last seq (also used by other store tests). */
  public static ConversationRecord conversation(String id, long lastSeq) {
    return new ConversationRecord(
        id,
        ConversationKind.CONVERSATION_KIND_GROUP,
        ConversationMetadata.newBuilder()
            .setTitle("Title " + id)
            .setAppData(ByteString.copyFromUtf8("{\"x\":1}"))
            .build(),
        false,
        ReceiptVisibility.RECEIPT_VISIBILITY_MEMBERS,
        1_000,
        lastSeq,
        lastSeq,
        lastSeq,
        3);
  }

  protected static MemberRecord member(String conversationId, String userId, Role role) {
    return new MemberRecord(conversationId, userId, role, 5_000, 1);
  }

  protected static StoredEvent message(String conversationId, long seq, long ordinal) {
    Event e =
        Event.newBuilder()
            .setConversationId(conversationId)
            .setSeq(seq)
            .setTimestampMs(1_700_000_000_000L + seq)
            .setActorUserId("alice")
            .setMessagePosted(
                MessagePosted.newBuilder()
                    .setMessageId("m-" + conversationId + "-" + seq)
                    .setClientMsgId("cm-" + seq)
                    .setContentType("text/plain")
                    .setBody(ByteString.copyFromUtf8("hello " + seq)))
            .build();
    return new StoredEvent(e, ordinal);
  }

  // ---- notifications ----

  @Test
  void notifyMarksAreListedInConversationAndSeqOrderAndCleared() {
    commit(
        new StoreWrite()
            .markNotifyPending("c2", 1)
            .markNotifyPending("c1", 2)
            .markNotifyPending("c1", 1));

    assertThat(store.notifyPending(10))
        .containsExactly(new EventRef("c1", 1), new EventRef("c1", 2), new EventRef("c2", 1));
    assertThat(store.isNotifyPending("c1", 2)).isTrue();

    commit(new StoreWrite().clearNotifyPending(new EventRef("c1", 2)));
    reopen();

    assertThat(store.notifyPending(10))
        .containsExactly(new EventRef("c1", 1), new EventRef("c2", 1));
    assertThat(store.isNotifyPending("c1", 2)).isFalse();
  }

  @Test
  void outboxJobsSurviveReopenAndLaneHeadsAreTheLowestSeqOfEachLane() {
    commit(
        new StoreWrite()
            .putOutboxJob(job("lane-b", 7))
            .putOutboxJob(job("lane-a", 3))
            .putOutboxJob(job("lane-a", 2))
            .putOutboxJob(job("lane-c", 1)));
    reopen();

    assertThat(store.outboxLaneHeads("", 10))
        .extracting(OutboxJob::lane, OutboxJob::seq)
        .containsExactly(tuple("lane-a", 2L), tuple("lane-b", 7L), tuple("lane-c", 1L));
    assertThat(store.outboxLaneHeads("lane-a", 1))
        .extracting(OutboxJob::lane)
        .containsExactly("lane-b");
    assertThat(store.outboxLane("lane-a", 0, 10)).containsExactly(job("lane-a", 2), job("lane-a", 3));
  }

  @Test
  void aJobMovedInOneWriteIsReplacedAndARemovedJobIsGone() {
    OutboxJob first = job("lane", 1);
    commit(new StoreWrite().putOutboxJob(first).putOutboxJob(job("lane", 2)));

    OutboxJob retried = first.failed("HTTP 503", 99);
    commit(new StoreWrite().removeOutboxJob(first).putOutboxJob(retried));
    assertThat(store.outboxLane("lane", 0, 10)).containsExactly(retried, job("lane", 2));

    commit(new StoreWrite().removeOutboxJob(retried).putDeadLetter(retried));
    assertThat(store.outboxLaneHeads("", 10)).containsExactly(job("lane", 2));
    assertThat(store.deadLetter(retried.jobId())).contains(retried);
    assertThat(store.deadLetters("", 10)).containsExactly(retried);

    commit(new StoreWrite().removeDeadLetter(retried.jobId()));
    assertThat(store.deadLetters("", 10)).isEmpty();
  }

  @Test
  void webhooksPushTargetsAndMutesAreReadBack() {
    WebhookRecord hook =
        new WebhookRecord("wh1", "https://app.example/hook", "s3cret", List.of("message.created"), 5);
    PushTargetRecord phone = new PushTargetRecord("alice", "t1", "phone", "webhook", "tok", 6);
    PushTargetRecord tablet = new PushTargetRecord("alice", "t2", "tablet", "webhook", "tok2", 7);
    commit(
        new StoreWrite()
            .putWebhook(hook)
            .putPushTarget(tablet)
            .putPushTarget(phone)
            .setMuted("alice", "c1", true));
    reopen();

    assertThat(store.webhook("wh1")).contains(hook);
    assertThat(store.webhooks("", 10)).containsExactly(hook);
    assertThat(store.pushTargets("alice", 10)).containsExactly(phone, tablet);
    assertThat(store.pushTarget("alice", "t2")).contains(tablet);
    assertThat(store.pushTargets("bob", 10)).isEmpty();
    assertThat(store.isMuted("alice", "c1")).isTrue();
    assertThat(store.isMuted("alice", "c2")).isFalse();

    commit(
        new StoreWrite().removeWebhook("wh1").removePushTarget(phone).setMuted("alice", "c1", false));

    assertThat(store.webhook("wh1")).isEmpty();
    assertThat(store.pushTargets("alice", 10)).containsExactly(tablet);
    assertThat(store.isMuted("alice", "c1")).isFalse();
  }

  private static OutboxJob job(String lane, long seq) {
    return new OutboxJob(
        lane,
        seq,
        lane + "-" + seq,
        "webhook",
        "wh1",
        ("{\"seq\":" + seq + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8),
        0,
        1000 + seq,
        "",
        500);
  }

  private static List<String> ids(List<UserRecord> users) {
    return users.stream().map(UserRecord::userId).toList();
  }

  private static List<String> userIds(List<MemberRecord> members) {
    return members.stream().map(MemberRecord::userId).toList();
  }

  private static List<String> conversationIds(List<MemberRecord> members) {
    return members.stream().map(MemberRecord::conversationId).toList();
  }

  private static List<Long> seqs(List<StoredEvent> events) {
    return events.stream().map(StoredEvent::seq).toList();
  }

  private static List<Long> seqRange(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long s = from; s <= to; s++) {
      out.add(s);
    }
    return out;
  }
}
