package io.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.Event;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class EventOrdererTest {

  private static Event event(String conversation, long seq) {
    return Event.newBuilder().setConversationId(conversation).setSeq(seq).build();
  }

  /** A forward history read: events after {@code afterSeq}, oldest first, at most {@code limit}. */
  private static List<Event> history(String conversation, long afterSeq, long limit, long head) {
    List<Event> out = new ArrayList<>();
    for (long s = afterSeq + 1; s <= head && out.size() < limit; s++) {
      out.add(event(conversation, s));
    }
    return out;
  }

  private record Fetch(EventOrderer.Gap gap) {}

  /**
   * Live delivery of 1..N per conversation with holes, duplicates and arbitrary reordering (the
   * head N always arrives, otherwise nothing could reveal the missing tail); gap fetches are
   * answered in random order and interleaved with live events, in pages of random size.
   */
  @Property(tries = 300)
  void deliversEveryEventExactlyOnceInOrderAfterGapFills(
      @ForAll @IntRange(min = 1, max = 3) int conversations,
      @ForAll @IntRange(min = 1, max = 80) int n,
      @ForAll @IntRange(min = 0, max = 100) int missingPercent,
      @ForAll @IntRange(min = 0, max = 100) int duplicatePercent,
      @ForAll @IntRange(min = 1, max = 12) int pageCap,
      @ForAll long seed) {
    Random random = new Random(seed);
    EventOrderer orderer = new EventOrderer(10_000);
    Map<String, Long> heads = new HashMap<>();
    List<Event> live = new ArrayList<>();
    for (int c = 0; c < conversations; c++) {
      String id = "c" + c;
      long head = n + c;
      heads.put(id, head);
      orderer.track(id, 0);
      for (long s = 1; s <= head; s++) {
        if (s == head || random.nextInt(100) >= missingPercent) {
          live.add(event(id, s));
          if (random.nextInt(100) < duplicatePercent) {
            live.add(event(id, s));
          }
        }
      }
    }
    Collections.shuffle(live, random);

    Map<String, List<Long>> delivered = new HashMap<>();
    List<Fetch> outstanding = new ArrayList<>();
    int next = 0;
    while (next < live.size() || !outstanding.isEmpty()) {
      boolean answerFetch = !outstanding.isEmpty() && (next == live.size() || random.nextBoolean());
      List<Event> out;
      if (answerFetch) {
        EventOrderer.Gap gap = outstanding.remove(random.nextInt(outstanding.size())).gap();
        long limit = Math.min(gap.size(), pageCap);
        out =
            orderer.fill(
                gap,
                history(gap.conversationId(), gap.afterSeq(), limit, heads.get(gap.conversationId())));
      } else {
        out = orderer.offer(live.get(next++));
      }
      for (Event e : out) {
        delivered.computeIfAbsent(e.getConversationId(), k -> new ArrayList<>()).add(e.getSeq());
      }
      for (EventOrderer.Gap gap : orderer.takeGaps()) {
        assertThat(gap.size()).isPositive();
        outstanding.add(new Fetch(gap));
      }
    }

    assertThat(orderer.hasGaps()).isFalse();
    for (Map.Entry<String, Long> h : heads.entrySet()) {
      assertThat(delivered.get(h.getKey()))
          .as("conversation %s", h.getKey())
          .containsExactlyElementsOf(LongStream.rangeClosed(1, h.getValue()).boxed().toList());
      assertThat(orderer.lastDelivered(h.getKey())).hasValue(h.getValue());
    }
  }

  /** Replaying any prefix of what was delivered (a reconnect's sync overlap) delivers nothing. */
  @Property
  void replayedEventsAreNeverDeliveredTwice(
      @ForAll @IntRange(min = 1, max = 50) int n, @ForAll @IntRange(min = 0, max = 50) int replay) {
    EventOrderer orderer = new EventOrderer(100);
    orderer.track("c", 0);
    for (long s = 1; s <= n; s++) {
      assertThat(orderer.offer(event("c", s))).extracting(Event::getSeq).containsExactly(s);
    }
    for (long s = Math.max(1, n - replay); s <= n; s++) {
      assertThat(orderer.offer(event("c", s))).isEmpty();
    }
    assertThat(orderer.takeGaps()).isEmpty();
  }

  @Test
  void aHoleBecomesOneGapUntilItIsFilled() {
    EventOrderer orderer = new EventOrderer(100);
    orderer.track("c", 3);

    assertThat(orderer.offer(event("c", 7))).isEmpty();
    assertThat(orderer.offer(event("c", 6))).isEmpty();
    assertThat(orderer.takeGaps()).containsExactly(new EventOrderer.Gap("c", 3, 6));
    assertThat(orderer.offer(event("c", 8))).isEmpty();
    assertThat(orderer.takeGaps()).as("one fetch per conversation at a time").isEmpty();

    List<Event> out = orderer.fill(new EventOrderer.Gap("c", 3, 6), history("c", 3, 2, 8));

    assertThat(out).extracting(Event::getSeq).containsExactly(4L, 5L, 6L, 7L, 8L);
    assertThat(orderer.takeGaps()).isEmpty();
  }

  @Test
  void aFailedFetchIsOfferedAgain() {
    EventOrderer orderer = new EventOrderer(100);
    orderer.track("c", 0);
    orderer.offer(event("c", 3));
    assertThat(orderer.takeGaps()).hasSize(1);

    orderer.fillFailed("c");

    assertThat(orderer.takeGaps()).containsExactly(new EventOrderer.Gap("c", 0, 3));
  }

  @Test
  void aConnectionLossForgetsOutstandingFetches() {
    EventOrderer orderer = new EventOrderer(100);
    orderer.track("c", 0);
    orderer.offer(event("c", 3));
    assertThat(orderer.takeGaps()).hasSize(1);

    orderer.resetFetches();

    assertThat(orderer.takeGaps()).hasSize(1);
  }

  @Test
  void aFetchWithoutProgressSkipsEventsTheLogNoLongerHas() {
    EventOrderer orderer = new EventOrderer(100);
    orderer.track("c", 2);
    orderer.offer(event("c", 5));
    EventOrderer.Gap gap = orderer.takeGaps().get(0);

    List<Event> out = orderer.fill(gap, List.of());

    assertThat(out).extracting(Event::getSeq).containsExactly(5L);
    assertThat(orderer.lastDelivered("c")).hasValue(5);
  }

  @Test
  void aStaleFetchAnswerDoesNotSkipAnything() {
    EventOrderer orderer = new EventOrderer(100);
    orderer.track("c", 3);
    orderer.offer(event("c", 7));
    EventOrderer.Gap gap = orderer.takeGaps().get(0);
    orderer.offer(event("c", 4));
    orderer.offer(event("c", 5));

    List<Event> out = orderer.fill(gap, history("c", 3, 1, 7));

    assertThat(out).isEmpty();
    assertThat(orderer.takeGaps()).containsExactly(new EventOrderer.Gap("c", 5, 7));
  }

  @Test
  void anUnknownConversationStartsAtTheFirstEventSeen() {
    EventOrderer orderer = new EventOrderer(100);

    assertThat(orderer.offer(event("new", 41))).extracting(Event::getSeq).containsExactly(41L);
    assertThat(orderer.takeGaps()).isEmpty();
    assertThat(orderer.offer(event("new", 40))).isEmpty();
  }

  @Test
  void trackDoesNotMoveAKnownConversation() {
    EventOrderer orderer = new EventOrderer(100);
    orderer.track("c", 5);
    orderer.track("c", 1);
    orderer.track("c", 9);

    assertThat(orderer.lastDelivered("c")).hasValue(5);
  }

  @Test
  void theBufferIsBoundedAndKeepsTheEventsClosestToTheHole() {
    EventOrderer orderer = new EventOrderer(3);
    orderer.track("c", 0);
    for (long s = 10; s >= 2; s--) {
      orderer.offer(event("c", s));
    }

    List<Event> out = orderer.fill(orderer.takeGaps().get(0), history("c", 0, 1, 1));

    assertThat(out).extracting(Event::getSeq).containsExactly(1L, 2L, 3L, 4L);
  }

  @Test
  void forgettingAConversationDropsItsPosition() {
    EventOrderer orderer = new EventOrderer(100);
    orderer.track("c", 5);
    orderer.takeChanged();

    orderer.forget("c");

    assertThat(orderer.lastDelivered("c")).isEmpty();
    assertThat(orderer.takeChanged()).isTrue();
    assertThat(orderer.snapshot()).isEmpty();
  }
}
