package io.parley.server.bench;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;

/**
 * A quick measurement of durable, acknowledged sends per second through the whole server
 * (WebSocket, engine, RocksDB with fsync group commit), until {@code parley bench} exists. Not a
 * test: run it by hand (see docs/benchmarks.md) and read what it prints.
 *
 * <p>Arguments: connections, in-flight window per connection, seconds.
 */
public final class QuickIngest {
  private QuickIngest() {}

  public static void main(String[] args) throws Exception {
    int connections = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    int window = args.length > 1 ? Integer.parseInt(args[1]) : 32;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    try (TestServer server = TestServer.start(
            // Measures the engine, not the abuse limits: no rate limits.
            Map.of(
                "PARLEY_LIMITS_MAX_INFLIGHT_PER_CONNECTION", "256",
                "PARLEY_RATE_LIMITS_ENABLED", "false"))) {
      List<WsTestClient> clients = new ArrayList<>();
      List<String> conversations = new ArrayList<>();
      for (int i = 0; i < connections; i++) {
        WsTestClient c = WsTestClient.authenticated(server.port(), server.token("ingest-" + i), "d");
        clients.add(c);
        ServerFrame g = c.call(f -> f.setCreateGroup(CreateGroup.newBuilder()));
        conversations.add(g.getConversation().getConversation().getId());
      }
      ByteString body = ByteString.copyFrom(new byte[100]);
      ConcurrentHistogram latency = new ConcurrentHistogram(3);
      AtomicLong acked = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      long warmupEnd = System.nanoTime() + 2_000_000_000L;
      long end = warmupEnd + seconds * 1_000_000_000L;
      List<CompletableFuture<Void>> loops = new ArrayList<>();
      for (int i = 0; i < connections; i++) {
        WsTestClient c = clients.get(i);
        String conv = conversations.get(i);
        int n = i;
        loops.add(
            CompletableFuture.runAsync(
                () -> {
                  Semaphore permits = new Semaphore(window);
                  long seq = 0;
                  while (System.nanoTime() < end) {
                    permits.acquireUninterruptibly();
                    long start = System.nanoTime();
                    String id = "q" + n + "-" + seq++;
                    c.send(
                            f ->
                                f.setSendMessage(
                                    SendMessage.newBuilder()
                                        .setConversationId(conv)
                                        .setClientMsgId(id)
                                        .setContentType("application/octet-stream")
                                        .setBody(body)))
                        .whenComplete(
                            (r, t) -> {
                              permits.release();
                              long now = System.nanoTime();
                              if (now < warmupEnd || now > end) {
                                return;
                              }
                              if (t == null && r.hasSendResult()) {
                                acked.incrementAndGet();
                                latency.recordValue((now - start) / 1000);
                              } else {
                                failed.incrementAndGet();
                              }
                            });
                  }
                  permits.acquireUninterruptibly(window);
                }));
      }
      CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new)).join();
      System.out.printf(
          "connections=%d window=%d seconds=%d acked=%d failed=%d rate=%.0f/s"
              + " ack latency us p50=%d p99=%d p99.9=%d max=%d%n",
          connections,
          window,
          seconds,
          acked.get(),
          failed.get(),
          acked.get() / (double) seconds,
          latency.getValueAtPercentile(50),
          latency.getValueAtPercentile(99),
          latency.getValueAtPercentile(99.9),
          latency.getMaxValue());
      clients.forEach(WsTestClient::close);
    }
  }
}
