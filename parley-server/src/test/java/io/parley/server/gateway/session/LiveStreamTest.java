package io.parley.server.gateway.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationDelta;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SyncResult;
import io.parley.protocol.v1.TypingNotice;
import io.parley.server.gateway.session.LiveStream.Mode;
import io.parley.server.gateway.ws.OutboundFrame;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class LiveStreamTest {
  private static final String C = "c1";

  /** Records what the stream writes. */
  static final class RecordingSink implements LiveStream.Sink {
    boolean writable = true;
    final List<ServerFrame> written = new ArrayList<>();
    final List<String> resyncs = new ArrayList<>();

    @Override
    public boolean isWritable() {
      return writable;
    }

    @Override
    public void writePush(OutboundFrame frame, int eventCount) {
      written.add(frame.frame());
    }

    @Override
    public void writeResponse(ServerFrame frame) {
      written.add(frame);
    }

    @Override
    public void resyncRequired(String reason) {
      resyncs.add(reason);
    }

    /** Every event seq the client received, in order (live pushes and sync pages). */
    List<Long> seqs() {
      List<Long> out = new ArrayList<>();
      for (ServerFrame f : written) {
        if (f.hasEvent()) {
          out.add(f.getEvent().getSeq());
        } else if (f.hasEventBatch()) {
          f.getEventBatch().getEventsList().forEach(e -> out.add(e.getSeq()));
        } else if (f.hasSyncResult()) {
          f.getSyncResult().getDeltasList().forEach(d -> d.getEventsList().forEach(e -> out.add(e.getSeq())));
        }
      }
      return out;
    }
  }

  private final RecordingSink sink = new RecordingSink();
  private LiveStream stream = new LiveStream(sink, 100);

  private static List<Event> events(long from, long to) {
    return LongStream.rangeClosed(from, to)
        .mapToObj(s -> Event.newBuilder().setConversationId(C).setSeq(s).build())
        .toList();
  }

  private void publish(long from, long to) {
    List<Event> e = events(from, to);
    stream.offerEvents(C, e, OutboundFrame.events(e));
  }

  private static SyncResult page(long from, long to, boolean complete) {
    SyncResult.Builder b = SyncResult.newBuilder().setCursor("k" + to).setComplete(complete);
    if (from <= to) {
      b.addDeltas(
          ConversationDelta.newBuilder()
              .setConversation(Conversation.newBuilder().setId(C))
              .addAllEvents(events(from, to)));
    }
    return b.build();
  }

  private static List<Long> range(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }

  @Test
  void eventsBeforeAuthenticationFollowTheAnswerInOrder() {
    publish(1, 1);
    publish(2, 3);
    assertThat(sink.written).isEmpty();
    stream.authenticated();
    assertThat(stream.mode()).isEqualTo(Mode.LIVE);
    assertThat(sink.seqs()).containsExactly(1L, 2L, 3L);
  }

  @Test
  void liveEventsAtOrBelowTheDeliveredSeqAreDropped() {
    stream.authenticated();
    publish(1, 2);
    publish(1, 1);
    publish(2, 3);
    publish(3, 3);
    assertThat(sink.seqs()).containsExactly(1L, 2L, 3L);
    assertThat(stream.deliveredSeq(C)).isEqualTo(3);
    assertThat(sink.written.get(1).getEvent().getSeq()).isEqualTo(3);
  }

  @Test
  void syncFirstHoldsLiveEventsBackUntilTheCompleteSyncPage() {
    stream.authenticated(true);
    publish(6, 7);
    assertThat(sink.seqs()).isEmpty();
    stream.beginSync();
    stream.completeSync(9, page(3, 4, false));
    publish(8, 8);
    assertThat(sink.seqs()).containsExactly(3L, 4L);
    stream.beginSync();
    stream.completeSync(10, page(5, 7, true));
    assertThat(sink.seqs()).containsExactly(3L, 4L, 5L, 6L, 7L, 8L);
    assertThat(stream.mode()).isEqualTo(Mode.LIVE);
  }

  @Test
  void syncPageSkipsEventsTheSessionAlreadyReceivedLive() {
    stream.authenticated();
    publish(5, 7); // delivered live before the client asked to sync
    stream.beginSync();
    stream.completeSync(9, page(3, 8, true));
    assertThat(sink.seqs()).containsExactly(5L, 6L, 7L, 3L, 4L, 8L);
    assertThat(stream.deliveredSeq(C)).isEqualTo(8);
  }

  @Test
  void syncKeepsEventsBeforeTheLiveRunOfAMemberWhoJoinedMidLog() {
    stream.authenticated();
    publish(8, 8); // the member's own join event, seen live
    stream.beginSync();
    stream.completeSync(9, page(3, 5, false));
    stream.beginSync();
    stream.completeSync(10, page(6, 8, true));
    assertThat(sink.seqs()).containsExactly(8L, 3L, 4L, 5L, 6L, 7L);
    publish(9, 9);
    assertThat(sink.seqs()).endsWith(7L, 9L);
  }

  @Test
  void eventsDuringASyncAreBufferedAndFlushedAfterTheCompletePageWithoutDuplicates() {
    stream.authenticated();
    stream.beginSync();
    publish(3, 4);
    publish(5, 5);
    assertThat(sink.written).isEmpty();
    stream.completeSync(7, page(1, 4, true));
    assertThat(sink.written.get(0).getRequestId()).isEqualTo(7);
    assertThat(sink.seqs()).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(stream.mode()).isEqualTo(Mode.LIVE);
  }

  @Test
  void anIncompletePageKeepsBufferingUntilTheCompleteOne() {
    stream.authenticated();
    stream.beginSync();
    publish(5, 5);
    stream.completeSync(1, page(1, 3, false));
    assertThat(stream.mode()).isEqualTo(Mode.SYNCING);
    assertThat(sink.seqs()).containsExactly(1L, 2L, 3L);
    stream.beginSync();
    publish(6, 6);
    stream.completeSync(2, page(4, 4, true));
    assertThat(sink.seqs()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(stream.mode()).isEqualTo(Mode.LIVE);
  }

  @Test
  void bufferOverflowTurnsTheCompletePageIncompleteAndTheNextSyncCatchesUp() {
    stream = new LiveStream(sink, 3);
    stream.authenticated();
    stream.beginSync();
    publish(1, 2);
    publish(3, 4); // overflows: dropped, the store has them
    publish(5, 5); // dropped too
    stream.completeSync(1, page(1, 2, true));
    ServerFrame answer = sink.written.get(0);
    assertThat(answer.getSyncResult().getComplete()).isFalse();
    assertThat(stream.mode()).isEqualTo(Mode.SYNCING);
    publish(6, 6); // buffered afresh
    stream.beginSync();
    stream.completeSync(2, page(3, 5, true));
    assertThat(sink.written.get(1).getSyncResult().getComplete()).isTrue();
    assertThat(sink.seqs()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(stream.mode()).isEqualTo(Mode.LIVE);
  }

  @Test
  void aFullOutboundBufferStallsTheStreamUntilTheClientSyncs() {
    stream.authenticated();
    publish(1, 1);
    sink.writable = false;
    publish(2, 2);
    assertThat(stream.mode()).isEqualTo(Mode.STALLED);
    assertThat(sink.resyncs).hasSize(1);
    sink.writable = true;
    publish(3, 3);
    assertThat(sink.seqs()).containsExactly(1L);
    stream.beginSync();
    publish(4, 4);
    stream.completeSync(9, page(2, 3, true));
    assertThat(sink.seqs()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(stream.mode()).isEqualTo(Mode.LIVE);
    assertThat(sink.resyncs).hasSize(1);
  }

  @Test
  void aFailedSyncFromLiveResumesLiveWithTheBuffer() {
    stream.authenticated();
    stream.beginSync();
    publish(1, 2);
    stream.failSync();
    assertThat(stream.mode()).isEqualTo(Mode.LIVE);
    assertThat(sink.seqs()).containsExactly(1L, 2L);
  }

  @Test
  void aFailedSyncAfterAStallStallsAgain() {
    stream.authenticated();
    sink.writable = false;
    publish(1, 1);
    sink.writable = true;
    stream.beginSync();
    publish(2, 2);
    stream.failSync();
    assertThat(stream.mode()).isEqualTo(Mode.STALLED);
    assertThat(sink.resyncs).hasSize(2);
    assertThat(sink.seqs()).isEmpty();
  }

  @Test
  void lostEventsStallALiveStreamAndMakeARunningSyncIncomplete() {
    stream.authenticated();
    stream.eventsLost("queue full");
    assertThat(stream.mode()).isEqualTo(Mode.STALLED);
    assertThat(sink.resyncs).containsExactly("queue full");

    RecordingSink s2 = new RecordingSink();
    LiveStream syncing = new LiveStream(s2, 100);
    syncing.authenticated();
    syncing.beginSync();
    syncing.eventsLost("queue full");
    syncing.completeSync(1, page(1, 2, true));
    assertThat(s2.written.get(0).getSyncResult().getComplete()).isFalse();
    assertThat(syncing.mode()).isEqualTo(Mode.SYNCING);
  }

  @Test
  void ephemeralPushesAreWrittenOnlyWhenWritableAndNotStalled() {
    OutboundFrame typing =
        OutboundFrame.of(ServerFrame.newBuilder().setTyping(TypingNotice.newBuilder().setUserId("b")).build());
    stream.offerEphemeral(typing);
    assertThat(sink.written).isEmpty(); // not authenticated yet
    stream.authenticated();
    stream.beginSync();
    stream.offerEphemeral(typing);
    assertThat(sink.written).hasSize(1); // syncing does not delay ephemeral pushes
    sink.writable = false;
    stream.offerEphemeral(typing);
    assertThat(sink.written).hasSize(1);
  }

  @Test
  void eventsOfOtherConversationsAreTrackedSeparately() {
    stream.authenticated();
    publish(1, 2);
    Event other = Event.newBuilder().setConversationId("c2").setSeq(1).build();
    stream.offerEvents("c2", List.of(other), OutboundFrame.events(List.of(other)));
    assertThat(stream.deliveredSeq("c2")).isEqualTo(1);
    assertThat(stream.deliveredSeq(C)).isEqualTo(2);
    assertThat(sink.written).hasSize(2);
  }

  /**
   * The seam, for any interleaving: events 1..pb arrive live before the sync is dispatched, pb+1..pe
   * arrive while it runs, the sync read sees 1..r (r anywhere from pb to n, since events are
   * committed before they are published), and pe+1..n arrive after it. The client must see 1..n
   * exactly once, in order.
   */
  @Property(tries = 500)
  void syncAndLiveTogetherDeliverEveryEventExactlyOnceInOrder(
      @ForAll @IntRange(min = 1, max = 30) int n,
      @ForAll @IntRange(min = 0, max = 1000) int a,
      @ForAll @IntRange(min = 0, max = 1000) int b,
      @ForAll @IntRange(min = 0, max = 1000) int c,
      @ForAll @IntRange(min = 1, max = 4) int chunk) {
    int pb = a % (n + 1);
    int pe = pb + b % (n - pb + 1);
    int r = pb + c % (n - pb + 1);
    RecordingSink s = new RecordingSink();
    LiveStream ls = new LiveStream(s, 1000);
    ls.authenticated();
    publishInChunks(ls, 1, pb, chunk);
    ls.beginSync();
    publishInChunks(ls, pb + 1, pe, chunk);
    ls.completeSync(1, page(pb + 1, r, true));
    publishInChunks(ls, pe + 1, n, chunk);
    assertThat(s.seqs()).isEqualTo(range(1, n));
    assertThat(ls.mode()).isEqualTo(Mode.LIVE);
  }

  private static void publishInChunks(LiveStream ls, long from, long to, int chunk) {
    for (long s = from; s <= to; s += chunk) {
      List<Event> e = events(s, Math.min(to, s + chunk - 1));
      ls.offerEvents(C, e, OutboundFrame.events(e));
    }
  }
}
