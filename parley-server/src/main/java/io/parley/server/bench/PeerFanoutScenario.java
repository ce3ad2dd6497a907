package io.parley.server.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.parley.server.bench.peer.EngineIoCodec;
import io.parley.server.bench.peer.PeerConnection;
import io.parley.server.bench.peer.PeerDialect;
import io.parley.server.bench.peer.PeerPayload;
import io.parley.server.core.ProcessStats;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The {@code fanout} scenario against a peer (Socket.IO 4 rooms server, NATS over WebSocket) with
 * the same shape, pacing, windows and step mode as {@link MessagingScenario} against Parley, so the
 * three are measured by one generator. The peers assign no sequence numbers and acknowledge
 * nothing, so every payload carries its stream (one publisher into one group), a gapless
 * per-stream counter and the intended send time ({@link PeerPayload}); every receiver checks the
 * counter per stream. Groups are Socket.IO rooms / NATS subjects {@code g<i>}.
 *
 * <p>A window passes with no duplicate, nothing out of order and at least {@link #MIN_DELIVERED}
 * of the expected deliveries (the peers hold no log, so the criterion is the issue's ≥ 99 %, not
 * Parley's zero loss), and in step mode p99 within the SLO. A payload that arrives after the drain
 * timeout has been counted lost and shows up once more, as out of order, in the next window.
 */
final class PeerFanoutScenario {
  static final double MIN_DELIVERED = 0.99;
  private static final long TICK_NANOS = 1_000_000;

  /** One publisher connection posting into one group. */
  private static final class Stream {
    final int id;
    final PeerConnection publisher;
    final String group;
    final int receivers;
    final AtomicLong sent = new AtomicLong();
    long sentAtDrain;
    double perSecond;
    long phaseStart;
    long phaseSent;

    Stream(int id, PeerConnection publisher, String group, int receivers) {
      this.id = id;
      this.publisher = publisher;
      this.group = group;
      this.receivers = receivers;
    }
  }

  private final PeerDialect dialect;
  private final FanoutShape shape;
  private final MessagingScenario.Load load;
  private final List<Stream> streams = new ArrayList<>();
  /** Per connection: the streams it receives. */
  private final List<int[]> receives = new ArrayList<>();
  /** Per connection × stream: the last counter seen. */
  private AtomicLongArray last;
  private final LongAdder gaps = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder outOfOrder = new LongAdder();
  private final LongAdder unreadable = new LongAdder();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder sentInWindow = new LongAdder();
  private final Recorder endToEnd = new Recorder(3);
  private final List<ScheduledFuture<?>> pacers = new ArrayList<>();
  private volatile boolean measuring;
  private volatile boolean sending;

  private PeerFanoutScenario(PeerDialect dialect, FanoutShape shape, MessagingScenario.Load load) {
    this.dialect = dialect;
    this.shape = shape;
    this.load = load;
  }

  /** Runs the fanout scenario in {@code dialect} (not {@link PeerDialect#PARLEY}). */
  static BenchReport run(
      BenchSettings settings,
      PeerDialect dialect,
      FanoutShape shape,
      MessagingScenario.Load load,
      Consumer<Map<String, Object>> onRow)
      throws Exception {
    if (dialect == PeerDialect.PARLEY) {
      throw new IllegalArgumentException("the parley dialect runs in MessagingScenario");
    }
    if (load.rate() <= 0) {
      throw new IllegalArgumentException("--dialect " + dialect.name().toLowerCase() + " needs a --rate (the peers acknowledge nothing, so there is no closed loop)");
    }
    return new PeerFanoutScenario(dialect, shape, load).run(settings, onRow);
  }

  private BenchReport run(BenchSettings settings, Consumer<Map<String, Object>> onRow) throws Exception {
    int count = shape.groups() * shape.members() + shape.publishers();
    MessagingScenario.requireOpenFiles(count);
    BenchReport report = new BenchReport();
    boolean epoll = Epoll.isAvailable();
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(
            settings.threads(), epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    List<PeerConnection> connections = new ArrayList<>();
    try {
      connections.addAll(open(settings, group, epoll, count));
      setup(connections);
      double rate = load.rate();
      double bestPassing = -1;
      int steps = load.step() ? load.maxSteps() : 1;
      for (int i = 0; i < steps; i++) {
        Map<String, Object> row = window(settings, connections, rate, i);
        report.add(row);
        onRow.accept(row);
        if (!Boolean.TRUE.equals(row.get("pass"))) {
          break;
        }
        bestPassing = rate;
        rate *= load.stepFactor();
      }
      if (load.step()) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("scenario", shape.name() + "-step-summary");
        summary.put("dialect", dialect.name().toLowerCase());
        summary.putAll(shape.describe());
        summary.put("slo_p99_ms", (double) load.slo().toMillis());
        summary.put("highest_passing_rate", bestPassing < 0 ? 0.0 : bestPassing);
        report.add(summary);
        onRow.accept(summary);
      }
    } finally {
      stop();
      for (PeerConnection c : connections) {
        if (c.channel() != null) {
          c.channel().close().awaitUninterruptibly(5_000);
        }
      }
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
    return report;
  }

  private List<PeerConnection> open(BenchSettings settings, EventLoopGroup group, boolean epoll, int count) {
    String scheme = "https".equals(settings.server().getScheme()) ? "wss" : "ws";
    String path = dialect == PeerDialect.SOCKETIO ? EngineIoCodec.PATH : "/";
    URI uri = URI.create(scheme + "://" + settings.server().getHost() + ":" + settings.port() + path);
    InetSocketAddress remote = new InetSocketAddress(uri.getHost(), settings.port());
    Bootstrap bootstrap =
        new Bootstrap()
            .group(group)
            .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 15_000);
    WebSocketClientProtocolConfig config =
        WebSocketClientProtocolConfig.newBuilder()
            .webSocketUri(uri)
            .version(WebSocketVersion.V13)
            .customHeaders(new DefaultHttpHeaders())
            .maxFramePayloadLength(16 * 1024 * 1024)
            .handshakeTimeoutMillis(15_000)
            .build();
    Semaphore inFlight = new Semaphore(256);
    List<CompletableFuture<PeerConnection>> all = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      inFlight.acquireUninterruptibly();
      PeerConnection c = new PeerConnection(i, dialect, this::received);
      ChannelFuture f =
          bootstrap
              .clone()
              .handler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast(new HttpClientCodec())
                          .addLast(new HttpObjectAggregator(64 * 1024))
                          .addLast(new WebSocketClientProtocolHandler(config))
                          .addLast(new WebSocketFrameAggregator(16 * 1024 * 1024))
                          .addLast(c);
                    }
                  })
              .connect(remote);
      f.addListener(
          done -> {
            if (!done.isSuccess()) {
              c.ready().completeExceptionally(done.cause());
            }
          });
      c.ready().whenComplete((r, t) -> inFlight.release());
      all.add(c.ready());
    }
    List<PeerConnection> out = new ArrayList<>();
    for (CompletableFuture<PeerConnection> f : all) {
      try {
        out.add(f.get(30, TimeUnit.SECONDS));
      } catch (Exception e) {
        out.forEach(c -> c.channel().close());
        throw new IllegalStateException("could not open " + dialect + " connection " + out.size() + ": " + e, e);
      }
    }
    return out;
  }

  /** Joins members and publishers to their groups and registers the streams. */
  private void setup(List<PeerConnection> connections) throws Exception {
    int groups = shape.groups();
    int members = shape.members();
    int firstPublisher = groups * members;
    List<List<Integer>> receiving = new ArrayList<>();
    List<List<String>> joins = new ArrayList<>();
    for (int i = 0; i < connections.size(); i++) {
      receiving.add(new ArrayList<>());
      joins.add(new ArrayList<>());
    }
    for (int g = 0; g < groups; g++) {
      List<Integer> pubs = shape.publishersOf(g);
      int receivers = members + pubs.size();
      List<Integer> groupStreams = new ArrayList<>();
      for (int p : pubs) {
        Stream s = new Stream(streams.size(), connections.get(firstPublisher + p), "g" + g, receivers);
        streams.add(s);
        groupStreams.add(s.id);
      }
      for (int m = 0; m < members; m++) {
        receiving.get(g * members + m).addAll(groupStreams);
        joins.get(g * members + m).add("g" + g);
      }
      for (int p : pubs) {
        receiving.get(firstPublisher + p).addAll(groupStreams);
        joins.get(firstPublisher + p).add("g" + g);
      }
    }
    last = new AtomicLongArray(connections.size() * streams.size());
    List<CompletableFuture<Void>> joined = new ArrayList<>();
    for (int i = 0; i < connections.size(); i++) {
      receives.add(receiving.get(i).stream().mapToInt(Integer::intValue).toArray());
      joined.add(connections.get(i).join(joins.get(i).toArray(String[]::new)));
    }
    CompletableFuture.allOf(joined.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
  }

  /** A payload arrived on {@code on}; its event loop. */
  private void received(PeerConnection on, byte[] buf, int from, int to) {
    boolean ok =
        PeerPayload.parse(
            buf,
            from,
            to,
            (stream, counter, sendNanos) -> {
              if (stream < 0 || stream >= streams.size()) {
                unreadable.increment();
                return;
              }
              int slot = on.index() * streams.size() + stream;
              long previous = last.get(slot);
              if (counter == previous + 1) {
                last.lazySet(slot, counter);
              } else if (counter > previous + 1) {
                gaps.add(counter - previous - 1);
                last.lazySet(slot, counter);
              } else if (counter == previous) {
                duplicates.increment();
                return;
              } else {
                outOfOrder.increment();
                return;
              }
              if (measuring) {
                delivered.increment();
                endToEnd.recordValue(Math.max(0, System.nanoTime() - sendNanos) / 1000);
              }
            });
    if (!ok) {
      unreadable.increment();
    }
  }

  private Map<String, Object> window(
      BenchSettings settings, List<PeerConnection> connections, double rate, int step)
      throws InterruptedException {
    start(rate);
    Thread.sleep(settings.warmup().toMillis());
    long serverCpu0 = settings.serverPid() > 0 ? ProcessStats.cpuNanos(settings.serverPid()) : -1;
    long ownCpu0 = ProcessStats.ownCpuNanos();
    long t0 = System.nanoTime();
    endToEnd.getIntervalHistogram();
    delivered.reset();
    sentInWindow.reset();
    measuring = true;
    Thread.sleep(settings.duration().toMillis());
    measuring = false;
    Histogram e2e = endToEnd.getIntervalHistogram();
    long elapsed = System.nanoTime() - t0;
    long ownCpu = ProcessStats.ownCpuNanos() - ownCpu0;
    long serverCpu = serverCpu0 < 0 ? -1 : ProcessStats.cpuNanos(settings.serverPid()) - serverCpu0;
    long windowDelivered = delivered.sum();
    long windowSent = sentInWindow.sum();
    stop();
    long[] integrity = drain(connections, settings.drainTimeout().toMillis());
    long expected = integrity[0];
    long lost = integrity[1];
    long dups = duplicates.sumThenReset();
    long ooo = outOfOrder.sumThenReset();
    long bad = unreadable.sumThenReset();
    double seconds = elapsed / 1e9;
    double deliveredRatio = expected == 0 ? 0 : (expected - lost) / (double) expected;

    Map<String, Object> row = new LinkedHashMap<>();
    row.put("scenario", shape.name());
    row.put("dialect", dialect.name().toLowerCase());
    if (load.step()) {
      row.put("step", (long) step + 1);
    }
    row.putAll(shape.describe());
    row.put("connections", (long) connections.size());
    row.put("open_connections", connections.stream().filter(PeerConnection::isOpen).count());
    row.put("streams", (long) streams.size());
    row.put("target_rate", rate);
    row.put("payload_bytes", (long) load.payloadBytes());
    row.put("measured_s", seconds);
    row.put("sent_per_s", windowSent / seconds);
    row.put("delivered_per_s", windowDelivered / seconds);
    MessagingScenario.putLatency(row, "e2e", e2e);
    row.put("expected_deliveries", expected);
    row.put("lost", lost);
    row.put("delivered_ratio", deliveredRatio);
    row.put("duplicated", dups);
    row.put("out_of_order", ooo);
    row.put("unreadable", bad);
    row.put("generator_cpu_cores", ownCpu / (double) elapsed);
    if (serverCpu >= 0) {
      row.put("server_cpu_cores", serverCpu / (double) elapsed);
    }
    boolean withinSlo =
        e2e.getTotalCount() > 0
            && e2e.getValueAtPercentile(99) <= TimeUnit.MILLISECONDS.toMicros(load.slo().toMillis());
    row.put("p99_within_slo", withinSlo);
    boolean pass =
        dups == 0
            && ooo == 0
            && bad == 0
            && windowDelivered > 0
            && deliveredRatio >= MIN_DELIVERED
            && (!load.step() || withinSlo);
    row.put("pass", pass);
    return row;
  }

  private void start(double ratePerSecond) {
    Map<EventLoop, List<Stream>> byLoop = new IdentityHashMap<>();
    long now = System.nanoTime();
    for (Stream s : streams) {
      s.perSecond = ratePerSecond / streams.size();
      s.phaseStart = now;
      s.phaseSent = 0;
      byLoop.computeIfAbsent(s.publisher.channel().eventLoop(), l -> new ArrayList<>()).add(s);
    }
    sending = true;
    byLoop.forEach(
        (loop, list) ->
            pacers.add(
                loop.scheduleAtFixedRate(() -> list.forEach(this::pump), 0, TICK_NANOS, TimeUnit.NANOSECONDS)));
  }

  private void stop() {
    sending = false;
    pacers.forEach(p -> p.cancel(false));
    pacers.clear();
  }

  /**
   * Publishes what is due on the stream; its event loop. While the socket is not writable the
   * sends wait with their intended times, so a slow server shows up as latency.
   */
  private void pump(Stream s) {
    PeerConnection c = s.publisher;
    if (!sending || !c.isOpen()) {
      return;
    }
    double intervalNanos = 1e9 / s.perSecond;
    long due = (long) ((System.nanoTime() - s.phaseStart) / intervalNanos) + 1;
    boolean wrote = false;
    while (s.phaseSent < due && c.channel().isWritable()) {
      long intended = s.phaseStart + (long) (s.phaseSent * intervalNanos);
      s.phaseSent++;
      long counter = s.sent.get() + 1;
      c.publish(s.group, PeerPayload.encode(s.id, counter, intended, load.payloadBytes()));
      s.sent.lazySet(counter);
      if (measuring) {
        sentInWindow.increment();
      }
      wrote = true;
    }
    if (wrote) {
      c.channel().flush();
    }
  }

  /**
   * Waits until every receiver has seen every stream's last payload (or the timeout), then returns
   * {expected deliveries, lost} since the previous drain. A receiver's missing tail is counted once:
   * its position moves to the stream's end.
   */
  private long[] drain(List<PeerConnection> connections, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline && behind(connections) > 0) {
      Thread.sleep(20);
    }
    long tail = 0;
    for (int i = 0; i < connections.size(); i++) {
      for (int s : receives.get(i)) {
        int slot = i * streams.size() + s;
        long end = streams.get(s).sent.get();
        long seen = last.get(slot);
        if (seen < end) {
          tail += end - seen;
          last.set(slot, end);
        }
      }
    }
    long expected = 0;
    for (Stream s : streams) {
      long sent = s.sent.get();
      expected += (sent - s.sentAtDrain) * s.receivers;
      s.sentAtDrain = sent;
    }
    return new long[] {expected, tail + gaps.sumThenReset()};
  }

  private long behind(List<PeerConnection> connections) {
    long behind = 0;
    for (int i = 0; i < connections.size(); i++) {
      if (!connections.get(i).isOpen()) {
        continue;
      }
      for (int s : receives.get(i)) {
        behind += Math.max(0, streams.get(s).sent.get() - last.get(i * streams.size() + s));
      }
    }
    return behind;
  }
}
