package io.parley.jmh;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessagePosted;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.rocksdb.RocksDbStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Appending a batch of {@code batch} message events of one conversation to the RocksDB store in
 * one {@link StoreWrite} (one commit), with and without fsync. Time is per commit; divide by the
 * batch for the cost per event.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class EventAppendBenchmark {
  @Param({"1", "64"})
  public int batch;

  @Param({"false", "true"})
  public boolean fsync;

  private Path dir;
  private RocksDbStore store;
  private long seq;
  private final ByteString body = ByteString.copyFrom(new byte[100]);

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("parley-jmh-");
    store = RocksDbStore.open(dir, fsync, 1024);
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    store.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  public void appendBatch() {
    StoreWrite w = new StoreWrite();
    for (int i = 0; i < batch; i++) {
      long s = ++seq;
      w.appendEvent(
          new StoredEvent(
              Event.newBuilder()
                  .setConversationId("grp_01JB7Q2M4X0000000000000000")
                  .setSeq(s)
                  .setTimestampMs(1_764_340_000_000L)
                  .setActorUserId("bench-p0")
                  .setActorDeviceId("bench")
                  .setMessagePosted(
                      MessagePosted.newBuilder()
                          .setMessageId("m_" + s)
                          .setClientMsgId("c-" + s)
                          .setContentType("application/octet-stream")
                          .setBody(body))
                  .build(),
              s));
    }
    store.write(w).join();
  }
}
