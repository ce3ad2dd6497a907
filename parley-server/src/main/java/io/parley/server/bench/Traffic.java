package io.parley.server.bench;

import com.google.protobuf.UnsafeByteOperations;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The message traffic of the {@code fanout}, {@code direct} and {@code ingest} scenarios: streams of
 * sends (one sender connection posting into one conversation, at a paced rate or closed-loop with a
 * window of unanswered sends), and, on every member connection, the check of what arrives.
 *
 * <p>Every message body starts with the generator's {@link System#nanoTime()} at the send's
 * <em>intended</em> time (so a generator or server stall shows up as latency instead of being
 * hidden: no coordinated omission). The end-to-end latency is measured on arrival in the same
 * process. Per member and conversation, the server's gapless {@code seq} shows lost events (a seq
 * skipped, or acknowledged sends that never arrive), duplicates (the same seq again) and events out
 * of order (an older seq after a newer one).
 *
 * <p>Pacing runs as one 1 ms task per event loop; all of a stream's state lives on its
 * connection's event loop. Counters read by the controlling thread are adders, recorders and
 * volatile fields.
 */
final class Traffic implements BenchConnection.Receiver {
  private static final long TICK_NANOS = 1_000_000;
  private static final String CONTENT_TYPE = "application/octet-stream";

  /** One sender connection posting into one conversation. */
  static final class Stream {
    final int id;
    final BenchConnection connection;
    final String conversationId;
    final int conversation;
    double perSecond;
    long phaseStart;
    long phaseSent;
    long totalSent;

    Stream(int id, BenchConnection connection, String conversationId, int conversation) {
      this.id = id;
      this.connection = connection;
      this.conversationId = conversationId;
      this.conversation = conversation;
    }
  }

  /** What one member connection has seen of one conversation (written on its event loop). */
  static final class Track {
    final int conversation;
    /** Events up to here happened before the traffic (creation, joins) and may still arrive. */
    final long baseline;
    volatile long lastSeq;
    volatile long gaps;
    volatile long duplicates;
    volatile long outOfOrder;

    Track(int conversation, long baseline) {
      this.conversation = conversation;
      this.baseline = baseline;
      this.lastSeq = baseline;
    }
  }

  private final int payloadBytes;
  private final int maxInflight;
  private final List<String> conversationIds = new ArrayList<>();
  private final List<Map<String, Track>> tracks = new ArrayList<>();
  private final List<Stream> streams = new ArrayList<>();
  private AtomicLongArray ackedSeq = new AtomicLongArray(0);

  private final Recorder endToEnd = new Recorder(3);
  private final Recorder ackLatency = new Recorder(3);
  private final LongAdder delivered = new LongAdder();
  private final LongAdder acked = new LongAdder();
  private final LongAdder sent = new LongAdder();
  private final LongAdder sendErrors = new LongAdder();
  private final AtomicReference<String> firstError = new AtomicReference<>();
  private final List<ScheduledFuture<?>> pacers = new ArrayList<>();
  private volatile boolean measuring;
  private volatile boolean sending;
  /** Closed-loop window per stream when the rate is 0. */
  private volatile int window;

  Traffic(int payloadBytes, int maxInflight) {
    if (payloadBytes < Long.BYTES) {
      throw new IllegalArgumentException("--payload must be at least 8 bytes (the send timestamp)");
    }
    this.payloadBytes = payloadBytes;
    this.maxInflight = Math.min(maxInflight, BenchConnection.RING / 2);
  }

  /** Registers a conversation; returns its index. Before {@link #start}. */
  int conversation(String id) {
    conversationIds.add(id);
    ackedSeq = new AtomicLongArray(conversationIds.size());
    return conversationIds.size() - 1;
  }

  /** The connection with this index checks what arrives in the conversation from seq > baseline. */
  void member(BenchConnection connection, int conversation, long baseline) {
    while (tracks.size() <= connection.index()) {
      tracks.add(new HashMap<>());
    }
    tracks.get(connection.index()).put(conversationIds.get(conversation), new Track(conversation, baseline));
    ackedSeq.accumulateAndGet(conversation, baseline, Math::max);
  }

  /** The connection posts into the conversation. */
  void stream(BenchConnection connection, int conversation) {
    streams.add(new Stream(streams.size(), connection, conversationIds.get(conversation), conversation));
  }

  int streamCount() {
    return streams.size();
  }

  int conversationCount() {
    return conversationIds.size();
  }

  /**
   * Starts sending: at {@code ratePerSecond} spread evenly over the streams, or, when 0, closed-loop
   * with {@code windowPerStream} unanswered sends per stream.
   */
  void start(double ratePerSecond, int windowPerStream) {
    window = windowPerStream;
    Map<EventLoop, List<Stream>> byLoop = new IdentityHashMap<>();
    long now = System.nanoTime();
    for (Stream s : streams) {
      s.perSecond = ratePerSecond / streams.size();
      s.phaseStart = now;
      s.phaseSent = 0;
      byLoop.computeIfAbsent(s.connection.channel().eventLoop(), l -> new ArrayList<>()).add(s);
    }
    sending = true;
    byLoop.forEach(
        (loop, list) ->
            pacers.add(
                loop.scheduleAtFixedRate(
                    () -> list.forEach(this::pump), 0, TICK_NANOS, TimeUnit.NANOSECONDS)));
  }

  /** Stops sending (sends in flight still complete). */
  void stop() {
    sending = false;
    pacers.forEach(p -> p.cancel(false));
    pacers.clear();
  }

  /** Sends what is due on the stream; on its event loop. */
  private void pump(Stream s) {
    if (!sending || !s.connection.isOpen()) {
      return;
    }
    BenchConnection c = s.connection;
    boolean wrote = false;
    if (s.perSecond <= 0) {
      int limit = Math.min(window, maxInflight);
      while (c.inflight() < limit) {
        send(s, System.nanoTime());
        wrote = true;
      }
    } else {
      double intervalNanos = 1e9 / s.perSecond;
      long now = System.nanoTime();
      long due = (long) ((now - s.phaseStart) / intervalNanos) + 1;
      while (s.phaseSent < due && c.inflight() < maxInflight) {
        send(s, s.phaseStart + (long) (s.phaseSent * intervalNanos));
        wrote = true;
      }
    }
    if (wrote) {
      c.channel().flush();
    }
  }

  private void send(Stream s, long intendedNanos) {
    byte[] body = new byte[payloadBytes];
    ByteBuffer.wrap(body).putLong(intendedNanos);
    s.phaseSent++;
    long n = ++s.totalSent;
    s.connection.send(
        ClientFrame.newBuilder()
            .setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId(s.conversationId)
                    .setClientMsgId(s.id + "-" + n)
                    .setContentType(CONTENT_TYPE)
                    .setBody(UnsafeByteOperations.unsafeWrap(body))),
        s.id,
        intendedNanos);
    sent.increment();
  }

  @Override
  public void answered(BenchConnection on, int stream, long sentNanos, ServerFrame answer) {
    if (answer.hasSendResult()) {
      long now = System.nanoTime();
      Stream s = streams.get(stream);
      ackedSeq.accumulateAndGet(s.conversation, answer.getSendResult().getSeq(), Math::max);
      if (measuring) {
        acked.increment();
        ackLatency.recordValue(Math.max(0, now - sentNanos) / 1000);
      }
      pump(s);
    } else {
      sendErrors.increment();
      firstError.compareAndSet(
          null, answer.getError().getCode() + ": " + answer.getError().getMessage());
      pump(streams.get(stream));
    }
  }

  @Override
  public void event(
      BenchConnection on, String conversationId, long seq, ByteBuf buf, int bodyIndex, int bodyLength) {
    Map<String, Track> mine = on.index() < tracks.size() ? tracks.get(on.index()) : null;
    Track t = mine == null ? null : mine.get(conversationId);
    if (t == null || seq <= t.baseline) {
      return;
    }
    long last = t.lastSeq;
    if (seq == last + 1) {
      t.lastSeq = seq;
    } else if (seq > last + 1) {
      t.gaps += seq - last - 1;
      t.lastSeq = seq;
    } else if (seq == last) {
      t.duplicates++;
      return;
    } else {
      // An older seq after a newer one (a duplicate of an older event lands here too).
      t.outOfOrder++;
      return;
    }
    if (bodyIndex >= 0 && bodyLength >= Long.BYTES && measuring) {
      delivered.increment();
      endToEnd.recordValue(Math.max(0, System.nanoTime() - buf.getLong(bodyIndex)) / 1000);
    }
  }

  @Override
  public void closed(BenchConnection on) {
    // Counted by the scenario (open connections at the end); pending sends are simply lost.
  }

  /** Starts a measurement window: counters and histograms from zero. */
  void beginWindow() {
    endToEnd.getIntervalHistogram();
    ackLatency.getIntervalHistogram();
    delivered.reset();
    acked.reset();
    sent.reset();
    sendErrors.reset();
    firstError.set(null);
    measuring = true;
  }

  /** Ends the measurement window. */
  Window endWindow() {
    measuring = false;
    return new Window(
        endToEnd.getIntervalHistogram(),
        ackLatency.getIntervalHistogram(),
        delivered.sum(),
        acked.sum(),
        sent.sum(),
        sendErrors.sum(),
        firstError.get());
  }

  /** What a measurement window saw. Latencies in microseconds. */
  record Window(
      Histogram endToEnd,
      Histogram ack,
      long delivered,
      long acked,
      long sent,
      long sendErrors,
      String firstError) {}

  /**
   * After {@link #stop}: waits until every send is answered and every member has seen every
   * acknowledged event (or {@code timeoutMillis} passes), then counts lost, duplicated and
   * out-of-order events since the last call, and resets those counts.
   */
  Integrity drain(List<BenchConnection> connections, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline && !quiet(connections)) {
      Thread.sleep(20);
    }
    long lost = 0;
    long duplicates = 0;
    long outOfOrder = 0;
    for (int i = 0; i < tracks.size(); i++) {
      boolean open = i < connections.size() && connections.get(i).isOpen();
      for (Track t : tracks.get(i).values()) {
        lost += t.gaps + Math.max(0, ackedSeq.get(t.conversation) - t.lastSeq);
        duplicates += t.duplicates;
        outOfOrder += t.outOfOrder;
        t.gaps = 0;
        t.duplicates = 0;
        t.outOfOrder = 0;
        if (!open) {
          // A closed connection will never catch up; count it once, not again next window.
          t.lastSeq = ackedSeq.get(t.conversation);
        }
      }
    }
    return new Integrity(lost, duplicates, outOfOrder);
  }

  private boolean quiet(List<BenchConnection> connections) {
    for (BenchConnection c : connections) {
      if (c.isOpen() && c.inflight() > 0) {
        return false;
      }
    }
    for (Map<String, Track> mine : tracks) {
      for (Track t : mine.values()) {
        if (t.lastSeq < ackedSeq.get(t.conversation)) {
          return false;
        }
      }
    }
    return true;
  }

  /** Events lost, duplicated and out of order in one window. */
  record Integrity(long lost, long duplicates, long outOfOrder) {
    boolean clean() {
      return lost == 0 && duplicates == 0 && outOfOrder == 0;
    }
  }
}
