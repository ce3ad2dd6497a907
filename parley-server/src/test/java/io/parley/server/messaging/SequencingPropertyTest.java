package io.parley.server.messaging;

import static io.parley.server.messaging.EngineFixture.await;
import static io.parley.server.messaging.EngineFixture.message;
import static io.parley.server.messaging.EngineFixture.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MarkRead;
import io.parley.protocol.v1.SendResult;
import io.parley.server.core.ParleyException;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.rocksdb.EngineTestStores;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Randomized property test of sequencing: random interleavings of sends, resends, reactions and
 * receipts from concurrent threads over several conversations, with and without injected commit
 * failures, must keep every log gapless 1..N, publish exactly the log in seq order, map every
 * idempotency key to exactly one message, and keep resends idempotent across a restart. Seeds
 * are fixed so a failure reproduces.
 */
class SequencingPropertyTest {
  private static final String[] USERS = {"ann", "ben", "cat"};
  private static final int THREADS = 4;
  private static final int OPS_PER_THREAD = 60;

  @TempDir Path dir;

  record Key(String conversationId, String userId, String clientMsgId) {}

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6})
  void randomInterleavingsKeepLogsGaplessAndSendsIdempotent(long seed) throws Exception {
    boolean injectFailures = seed % 2 == 0;
    Random failures = new Random(seed * 31);
    AtomicBoolean failing = new AtomicBoolean(false);
    AtomicInteger injected = new AtomicInteger();
    EngineFixture fx =
        new EngineFixture(
            dir,
            EngineFixture.LIMITS,
            data ->
                EngineTestStores.openFailing(
                    data,
                    () -> {
                    if (failing.get() && failures.nextInt(8) == 0) {
                      injected.incrementAndGet();
                      return true;
                    }
                    return false;
                  }));
    try {
      fx.users(USERS);
      List<String> conversations = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        conversations.add(
            await(fx.engine().conversations().createGroup(user("ann"),
                    CreateGroup.newBuilder().addMemberIds("ben").addMemberIds("cat").build()))
                .getConversation()
                .getId());
      }
      failing.set(injectFailures);

      Map<Key, List<SendResult>> results = new ConcurrentHashMap<>();
      ExecutorService threads = Executors.newFixedThreadPool(THREADS);
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        Random rnd = new Random(seed * 1000 + t);
        all.add(CompletableFuture.runAsync(() -> drive(fx, rnd, conversations, results), threads));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      threads.shutdown();
      failing.set(false);

      for (String c : conversations) {
        assertGaplessAndConsistent(fx, c);
      }
      assertIdempotent(fx, results);
      if (injectFailures) {
        assertThat(injected.get()).as("failures were injected").isPositive();
      }

      fx.restart();
      for (Map.Entry<Key, List<SendResult>> e : results.entrySet()) {
        Key k = e.getKey();
        SendResult again =
            await(fx.engine().messages().send(user(k.userId()),
                message(k.conversationId(), k.clientMsgId(), body(k))));
        assertThat(again.getDuplicate()).isTrue();
        assertThat(again.getSeq()).isEqualTo(e.getValue().get(0).getSeq());
      }
      for (String c : conversations) {
        assertThat(fx.store().conversation(c).orElseThrow().lastSeq()).isEqualTo(fx.log(c).size());
      }
    } finally {
      fx.close();
    }
  }

  /** Random operations; sends are retried on UNAVAILABLE like a client would. */
  private static void drive(
      EngineFixture fx, Random rnd, List<String> conversations, Map<Key, List<SendResult>> results) {
    List<CompletableFuture<?>> pending = new ArrayList<>();
    for (int i = 0; i < OPS_PER_THREAD; i++) {
      String c = conversations.get(rnd.nextInt(conversations.size()));
      String u = USERS[rnd.nextInt(USERS.length)];
      int op = rnd.nextInt(10);
      CompletableFuture<?> f;
      if (op < 7) {
        Key k = new Key(c, u, "k" + rnd.nextInt(12));
        f = sendWithRetry(fx, k, 0).thenAccept(r -> results.computeIfAbsent(k, x -> new ArrayList<>()).add(r));
      } else if (op < 9) {
        f = fx.engine().delivery().markRead(user(u), MarkRead.newBuilder().setConversationId(c).setSeq(rnd.nextInt(40)).build())
            .exceptionally(e -> null);
      } else {
        f = fx.engine().messages().addReaction(user(u), AddReaction.newBuilder().setConversationId(c)
                .setTargetSeq(1 + rnd.nextInt(30)).setReaction("+1").build())
            .exceptionally(e -> null);
      }
      pending.add(f);
      if (rnd.nextInt(3) == 0) {
        f.join();
      }
    }
    pending.forEach(CompletableFuture::join);
  }

  private static CompletableFuture<SendResult> sendWithRetry(EngineFixture fx, Key k, int attempt) {
    return fx.engine().messages().send(user(k.userId()), message(k.conversationId(), k.clientMsgId(), body(k)))
        .handle((r, e) -> {
          if (e == null) {
            return CompletableFuture.completedFuture(r);
          }
          ParleyException pe = (ParleyException) e;
          if (pe.code() != ErrorCode.UNAVAILABLE || attempt > 200) {
            return CompletableFuture.<SendResult>failedFuture(e);
          }
          return sendWithRetry(fx, k, attempt + 1);
        })
        .thenCompose(x -> x);
  }

  private static String body(Key k) {
    return k.conversationId() + "|" + k.userId() + "|" + k.clientMsgId();
  }

  private static void assertGaplessAndConsistent(EngineFixture fx, String c) {
    List<Event> log = fx.log(c);
    for (int i = 0; i < log.size(); i++) {
      assertThat(log.get(i).getSeq()).as("seq at index %d of %s", i, c).isEqualTo(i + 1);
    }
    List<Event> published = fx.publishedEvents(c);
    assertThat(published).as("published events of %s are the log in seq order", c).isEqualTo(log);
    ConversationRecord head = fx.store().conversation(c).orElseThrow();
    assertThat(head.lastSeq()).isEqualTo(log.size());
    long messages = log.stream().filter(Event::hasMessagePosted).count();
    assertThat(head.messageCount()).isEqualTo(messages);
    long ordinal = 0;
    for (Event e : log) {
      if (e.hasMessagePosted()) {
        ordinal++;
      }
      assertThat(fx.store().event(c, e.getSeq()).orElseThrow().messageOrdinal()).isEqualTo(ordinal);
    }
    for (String u : USERS) {
      List<Long> feedSeqs = new ArrayList<>();
      long after = 0;
      while (true) {
        List<FeedEntry> page = fx.store().feed(u, 0, after, 500);
        if (page.isEmpty()) {
          break;
        }
        for (FeedEntry f : page) {
          if (f.conversationId().equals(c)) {
            feedSeqs.add(f.seq());
          }
          after = f.feedSeq();
        }
      }
      assertThat(feedSeqs).as("feed of %s for %s", u, c).hasSize(log.size()).isSorted().doesNotHaveDuplicates();
    }
  }

  private static void assertIdempotent(EngineFixture fx, Map<Key, List<SendResult>> results) {
    Map<Key, Long> postedSeqs = new HashMap<>();
    for (Key k : results.keySet()) {
      for (Event e : fx.log(k.conversationId())) {
        if (e.hasMessagePosted()
            && e.getActorUserId().equals(k.userId())
            && e.getMessagePosted().getClientMsgId().equals(k.clientMsgId())) {
          assertThat(postedSeqs.put(k, e.getSeq())).as("one message for %s", k).isNull();
          assertThat(e.getMessagePosted().getBody().toStringUtf8()).isEqualTo(body(k));
        }
      }
    }
    for (Map.Entry<Key, List<SendResult>> e : results.entrySet()) {
      List<SendResult> rs = e.getValue();
      assertThat(rs.stream().map(SendResult::getSeq).distinct())
          .as("every answer for %s names the one message", e.getKey())
          .containsExactly(postedSeqs.get(e.getKey()));
      assertThat(rs.stream().filter(r -> !r.getDuplicate()).count()).isEqualTo(1);
      assertThat(rs.stream().map(SendResult::getMessageId).distinct()).hasSize(1);
    }
  }
}
