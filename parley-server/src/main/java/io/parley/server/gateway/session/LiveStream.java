package io.parley.server.gateway.session;

import io.parley.protocol.v1.ConversationDelta;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SyncResult;
import io.parley.server.gateway.ws.OutboundFrame;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The live-delivery state of one session: which events it has delivered, the seam between sync
 * and live delivery, and back-pressure.
 *
 * <h2>No duplicates</h2>
 *
 * For every conversation the stream remembers the highest seq it delivered (live, or in a sync
 * page written to the client). A live event at or below that seq is dropped.
 *
 * <h2>The sync seam</h2>
 *
 * The session is registered for live delivery before it can send its first request, so before any
 * sync reads the store. When a {@code Sync} request is dispatched the stream enters {@link
 * Mode#SYNCING}: live events are buffered (at most {@code maxBufferedEvents}) instead of written.
 * When the {@code SyncResult} is written, the delivered-seq map is advanced from the events in it;
 * if the page is {@code complete} (and no other sync is in flight) the buffer is flushed, skipping
 * every event at or below what was delivered, and the stream returns to {@link Mode#LIVE}. An event
 * committed before the sync's read is in the page; one committed after it was published after
 * registration and is in the buffer — so the client sees every event exactly once, in order.
 *
 * <p>If the buffer overflows it is dropped and further live events are dropped until the sync
 * answers: those events are in the store. The next {@code SyncResult} is then passed to the client
 * with {@code complete = false}, so the client syncs again from the returned cursor (which covers
 * everything dropped) while the stream buffers afresh.
 *
 * <h2>Back-pressure</h2>
 *
 * Before writing a live event the stream asks whether the channel is writable (outbound bytes
 * below the high water mark). If not, it enters {@link Mode#STALLED}: it asks the sink to send
 * {@code ResyncRequired} and drops every live event until the client sends a {@code Sync}, which
 * takes it through the sync seam back to live. Ephemeral pushes (typing, presence, receipts) are
 * written only while the channel is writable and never buffered.
 *
 * <p>Until the session has authenticated the stream is in {@link Mode#AWAITING_AUTH} and buffers
 * like during a sync, so that events published between registration and the {@code Authenticated}
 * answer follow that answer.
 *
 * <p>Not thread-safe: confined to the session's event loop.
 */
public final class LiveStream {

  /** Delivery mode. */
  public enum Mode {
    /** Registered, authentication not yet answered: events are buffered. */
    AWAITING_AUTH,
    /** Events are written as they arrive. */
    LIVE,
    /** A sync is in flight: events are buffered. */
    SYNCING,
    /** The client fell behind: events are dropped until it syncs. */
    STALLED
  }

  /** Where the stream writes; implemented by the session. */
  interface Sink {
    /** True when the outbound buffer is below its high water mark. */
    boolean isWritable();

    /** Writes (without flushing) a push carrying {@code eventCount} log events (0 = ephemeral). */
    void writePush(OutboundFrame frame, int eventCount);

    /** Writes (without flushing) the answer to a request. */
    void writeResponse(ServerFrame frame);

    /** Live delivery stopped: tell the client to sync, as soon as that fits. */
    void resyncRequired(String reason);
  }

  private record Pending(String conversationId, List<Event> events, OutboundFrame frame) {}

  private final Sink sink;
  private final int maxBufferedEvents;
  private final Map<String, Long> delivered = new HashMap<>();
  // Lowest seq of the contiguous run ending at delivered[c] that this session has delivered: a
  // session that joined a conversation mid-log holds [joinSeq, last], not [1, last].
  private final Map<String, Long> deliveredFrom = new HashMap<>();
  private final ArrayDeque<Pending> buffer = new ArrayDeque<>();
  private int bufferedEvents;
  private boolean overflowed;
  private boolean gapPossible;
  private int syncsInFlight;
  private Mode mode = Mode.AWAITING_AUTH;

  LiveStream(Sink sink, int maxBufferedEvents) {
    this.sink = Objects.requireNonNull(sink, "sink");
    this.maxBufferedEvents = maxBufferedEvents;
  }

  public Mode mode() {
    return mode;
  }

  /** The highest seq delivered for a conversation (0 if none). */
  public long deliveredSeq(String conversationId) {
    return delivered.getOrDefault(conversationId, 0L);
  }

  /**
   * Offers committed events of one conversation (in seq order) for live delivery.
   *
   * @param shared the encoded push of all {@code events}, shared with other sessions
   */
  void offerEvents(String conversationId, List<Event> events, OutboundFrame shared) {
    if (events.isEmpty()) {
      return;
    }
    switch (mode) {
      case AWAITING_AUTH, SYNCING -> buffer(new Pending(conversationId, events, shared));
      case LIVE -> writeLive(conversationId, events, shared);
      case STALLED -> {
        // Dropped: the client will sync from its cursor.
      }
    }
  }

  /** Offers an ephemeral push (typing, presence, receipt); dropped unless it can be written now. */
  void offerEphemeral(OutboundFrame frame) {
    if (mode == Mode.AWAITING_AUTH || mode == Mode.STALLED || !sink.isWritable()) {
      return;
    }
    sink.writePush(frame, 0);
  }

  /** The session answered its authentication: start live delivery with what was buffered. */
  void authenticated() {
    authenticated(false);
  }

  /**
   * The session answered its authentication. With {@code syncFirst} the client promised to sync
   * before anything else: keep buffering as during a sync, and go live after the first complete
   * sync page, so missed and live events reach it as one ordered sequence.
   */
  void authenticated(boolean syncFirst) {
    if (mode != Mode.AWAITING_AUTH) {
      return;
    }
    if (syncFirst) {
      mode = Mode.SYNCING;
      return;
    }
    if (overflowed) {
      overflowed = false;
      stall("live buffer overflowed during authentication");
    } else {
      mode = Mode.LIVE;
      flushBuffer();
    }
  }

  /** A Sync request is being dispatched. */
  void beginSync() {
    syncsInFlight++;
    if (mode == Mode.STALLED) {
      // Events dropped while stalled were committed before this sync reads the store.
      gapPossible = true;
      mode = Mode.SYNCING;
    } else if (mode == Mode.LIVE) {
      mode = Mode.SYNCING;
    }
  }

  /** Writes the answer to a Sync request and, if the client is now up to date, goes live. */
  void completeSync(long requestId, SyncResult result) {
    syncsInFlight = Math.max(0, syncsInFlight - 1);
    SyncResult toWrite = withoutDelivered(result);
    if (mode == Mode.SYNCING && overflowed && result.getComplete()) {
      // Live events were dropped during this sync; the next page (from the new cursor) has them.
      toWrite = result.toBuilder().setComplete(false).build();
      overflowed = false;
    }
    sink.writeResponse(ServerFrame.newBuilder().setRequestId(requestId).setSyncResult(toWrite).build());
    if (mode == Mode.SYNCING && toWrite.getComplete() && syncsInFlight == 0) {
      gapPossible = false;
      mode = Mode.LIVE;
      flushBuffer();
    }
  }

  /**
   * Drops from a sync page the events this session already delivered (live, before the sync was
   * requested, or in an earlier page), then records the page's events as delivered. The session
   * thereby sees every event exactly once even when live events raced the {@code Sync} request;
   * the page's cursor is unchanged, so the client's position stays exact.
   */
  private SyncResult withoutDelivered(SyncResult result) {
    SyncResult.Builder out = null;
    for (int i = 0; i < result.getDeltasCount(); i++) {
      ConversationDelta d = result.getDeltas(i);
      if (d.getEventsCount() == 0) {
        continue;
      }
      String conversationId = d.getConversation().getId();
      long hi = delivered.getOrDefault(conversationId, 0L);
      long lo = deliveredFrom.getOrDefault(conversationId, hi + 1);
      List<Event> fresh = new ArrayList<>(d.getEventsCount());
      for (Event e : d.getEventsList()) {
        if (e.getSeq() < lo || e.getSeq() > hi) {
          fresh.add(e);
        }
      }
      if (fresh.size() != d.getEventsCount()) {
        if (out == null) {
          out = result.toBuilder();
        }
        out.setDeltas(i, d.toBuilder().clearEvents().addAllEvents(fresh));
      }
      if (!fresh.isEmpty()) {
        recordDelivered(conversationId, fresh.get(0).getSeq(), fresh.get(fresh.size() - 1).getSeq());
      }
    }
    return out == null ? result : out.build();
  }

  /** Records that the contiguous seqs {@code first..last} of a conversation were delivered. */
  private void recordDelivered(String conversationId, long first, long last) {
    long hi = delivered.getOrDefault(conversationId, 0L);
    Long lo = deliveredFrom.get(conversationId);
    if (lo == null || first > hi + 1) {
      // First run, or a new run above a gap (e.g. after a stall): track the newest run.
      deliveredFrom.put(conversationId, first);
      delivered.put(conversationId, Math.max(hi, last));
    } else if (last + 1 >= lo) {
      deliveredFrom.put(conversationId, Math.min(lo, first));
      delivered.put(conversationId, Math.max(hi, last));
    }
    // else: a run entirely below the tracked one (an earlier sync page); later pages continue
    // above it, so forgetting it cannot cause a duplicate.
  }

  /** A Sync request failed (the error answer is written by the session). */
  void failSync() {
    syncsInFlight = Math.max(0, syncsInFlight - 1);
    if (mode != Mode.SYNCING || syncsInFlight > 0) {
      return;
    }
    if (overflowed || gapPossible) {
      overflowed = false;
      gapPossible = false;
      stall("sync failed after live events were dropped");
    } else {
      mode = Mode.LIVE;
      flushBuffer();
    }
  }

  /**
   * Live events for this session were lost before reaching the stream (its delivery queue was
   * full). Handled like a buffer overflow: while live the stream stalls (the client must sync);
   * while buffering, the next sync page is reported incomplete.
   */
  void eventsLost(String reason) {
    switch (mode) {
      case LIVE -> stall(reason);
      case AWAITING_AUTH, SYNCING -> {
        buffer.clear();
        bufferedEvents = 0;
        overflowed = true;
      }
      case STALLED -> {}
    }
  }

  /** The session is closing: forget buffered events. */
  void close() {
    buffer.clear();
    bufferedEvents = 0;
  }

  private void buffer(Pending p) {
    if (overflowed) {
      return;
    }
    if (bufferedEvents + p.events().size() > maxBufferedEvents) {
      buffer.clear();
      bufferedEvents = 0;
      overflowed = true;
      return;
    }
    buffer.add(p);
    bufferedEvents += p.events().size();
  }

  private void flushBuffer() {
    Pending p;
    while (mode == Mode.LIVE && (p = buffer.poll()) != null) {
      writeLive(p.conversationId(), p.events(), p.frame());
    }
    buffer.clear();
    bufferedEvents = 0;
  }

  private void writeLive(String conversationId, List<Event> events, OutboundFrame shared) {
    long last = delivered.getOrDefault(conversationId, 0L);
    int from = 0;
    while (from < events.size() && events.get(from).getSeq() <= last) {
      from++;
    }
    if (from == events.size()) {
      return;
    }
    if (!sink.isWritable()) {
      stall("slow consumer: outbound buffer full");
      return;
    }
    OutboundFrame frame =
        from == 0 ? shared : OutboundFrame.events(events.subList(from, events.size()));
    sink.writePush(frame, events.size() - from);
    recordDelivered(conversationId, events.get(from).getSeq(), events.get(events.size() - 1).getSeq());
  }


  private void stall(String reason) {
    mode = Mode.STALLED;
    buffer.clear();
    bufferedEvents = 0;
    sink.resyncRequired(reason);
  }
}
