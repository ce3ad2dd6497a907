package io.parley.jmh;

import com.google.protobuf.ByteString;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessagePosted;
import io.parley.server.gateway.ws.FrameCodec;
import io.parley.server.gateway.ws.OutboundFrame;
import io.parley.server.gateway.ws.Subprotocol;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * Fan-out of one committed event (or a batch of {@code batch} events) to {@code sessions} local
 * connections through the server's outbound pipeline ({@link FrameCodec} and Netty's WebSocket
 * frame encoder on an {@link EmbeddedChannel} per session): {@code sharedEncoding} encodes the
 * push once for all recipients (what {@code LiveDispatcher} does), {@code encodePerSession}
 * encodes it again for every recipient (the naive way), to show what sharing saves.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FanoutEncodeBenchmark {
  @Param({"100"})
  public int sessions;

  @Param({"1", "16"})
  public int batch;

  private final List<EmbeddedChannel> channels = new ArrayList<>();
  private List<Event> events;

  @Setup
  public void setup() {
    events = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      events.add(
          Event.newBuilder()
              .setConversationId("grp_01JB7Q2M4X0000000000000000")
              .setSeq(1000 + i)
              .setTimestampMs(1_764_340_000_000L)
              .setActorUserId("bench-p0")
              .setActorDeviceId("bench")
              .setMessagePosted(
                  MessagePosted.newBuilder()
                      .setMessageId("m_01JB7Q2M4X000000000000000" + i)
                      .setClientMsgId("c-" + i)
                      .setContentType("application/octet-stream")
                      .setBody(ByteString.copyFrom(new byte[100])))
              .build());
    }
    for (int i = 0; i < sessions; i++) {
      channels.add(new EmbeddedChannel(new WebSocket13FrameEncoder(false), new FrameCodec(Subprotocol.PROTO)));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    channels.forEach(EmbeddedChannel::finishAndReleaseAll);
  }

  @Benchmark
  public int sharedEncoding() {
    OutboundFrame frame = OutboundFrame.events(events);
    return writeAll(frame, false);
  }

  @Benchmark
  public int encodePerSession() {
    return writeAll(null, true);
  }

  private int writeAll(OutboundFrame shared, boolean perSession) {
    int bytes = 0;
    for (EmbeddedChannel ch : channels) {
      OutboundFrame f = perSession ? OutboundFrame.events(events) : shared;
      ch.writeOutbound(f);
      Object out;
      while ((out = ch.readOutbound()) != null) {
        io.netty.buffer.ByteBuf buf = (io.netty.buffer.ByteBuf) out;
        bytes += buf.readableBytes();
        buf.release();
      }
    }
    return bytes;
  }
}
