package io.parley.server.bench.peer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * One generator WebSocket connection to a peer server (Socket.IO or NATS): completes {@link
 * #ready()} once the peer's session is up, joins rooms / subscribes with a confirmation, publishes,
 * answers the server's pings, and hands every received payload to its {@link Receiver}. Runs on its
 * channel's event loop; {@link #publish} must be called there.
 */
public final class PeerConnection extends SimpleChannelInboundHandler<WebSocketFrame> {
  /** Receives the payloads this connection gets; called on its event loop. */
  public interface Receiver {
    void payload(PeerConnection on, byte[] buf, int from, int to);
  }

  private final int index;
  private final PeerDialect dialect;
  private final Receiver receiver;
  private final CompletableFuture<PeerConnection> ready = new CompletableFuture<>();
  private final NatsProtocol nats;
  private CompletableFuture<Void> joined;
  /** Socket.IO joins not yet acknowledged. */
  private int pendingAcks;
  private byte[] scratch = new byte[1024];
  private Channel channel;
  private volatile boolean open;

  public PeerConnection(int index, PeerDialect dialect, Receiver receiver) {
    this.index = index;
    this.dialect = dialect;
    this.receiver = receiver;
    this.nats =
        dialect == PeerDialect.NATS
            ? new NatsProtocol(
                new NatsProtocol.Handler() {
                  @Override
                  public void msg(long sid, byte[] buf, int from, int to) {
                    receiver.payload(PeerConnection.this, buf, from, to);
                  }

                  @Override
                  public void ping() {
                    write(NatsProtocol.PONG.getBytes(StandardCharsets.US_ASCII), true);
                  }

                  @Override
                  public void pong() {
                    // The answer to CONNECT's PING is the session being up; later ones confirm SUBs.
                    if (!ready.isDone()) {
                      ready.complete(PeerConnection.this);
                    } else if (joined != null) {
                      joined.complete(null);
                    }
                  }

                  @Override
                  public void error(String message) {
                    ready.completeExceptionally(new IOException("NATS: " + message));
                    if (joined != null) {
                      joined.completeExceptionally(new IOException("NATS: " + message));
                    }
                  }
                })
            : null;
  }

  public int index() {
    return index;
  }

  public Channel channel() {
    return channel;
  }

  public boolean isOpen() {
    return open;
  }

  public CompletableFuture<PeerConnection> ready() {
    return ready;
  }

  /**
   * Joins the rooms (Socket.IO, each acknowledged by the server) or subscribes to the subjects
   * (NATS, confirmed by a PING/PONG round trip after the SUBs); completes when the server has them.
   */
  public CompletableFuture<Void> join(String... groups) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    channel
        .eventLoop()
        .execute(
            () -> {
              joined = done;
              StringBuilder out = new StringBuilder();
              if (dialect == PeerDialect.NATS) {
                for (String g : groups) {
                  out.append(NatsProtocol.sub(g, sid(g)));
                }
                out.append(NatsProtocol.PING);
                write(out.toString().getBytes(StandardCharsets.US_ASCII), true);
              } else {
                pendingAcks = groups.length;
                if (groups.length == 0) {
                  done.complete(null);
                }
                for (String g : groups) {
                  channel.write(new TextWebSocketFrame(EngineIoCodec.event(1, "join", g)));
                }
                channel.flush();
              }
            });
    return done;
  }

  private static long sid(String group) {
    return group.hashCode() & 0x7fffffffL;
  }

  /** Writes (without flushing) a publish of {@code payload} into {@code group}. Event loop only. */
  public void publish(String group, byte[] payload) {
    byte[] bytes =
        dialect == PeerDialect.NATS
            ? NatsProtocol.pub(group, payload)
            : EngineIoCodec.event("pub", group, payload);
    write(bytes, false);
  }

  private void write(byte[] bytes, boolean flush) {
    ByteBuf buf = Unpooled.wrappedBuffer(bytes);
    // NATS accepts text or binary frames; Engine.IO strings go in text frames.
    WebSocketFrame frame =
        dialect == PeerDialect.NATS ? new BinaryWebSocketFrame(buf) : new TextWebSocketFrame(buf);
    if (flush) {
      channel.writeAndFlush(frame, channel.voidPromise());
    } else {
      channel.write(frame, channel.voidPromise());
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
      open = true;
      if (dialect == PeerDialect.NATS) {
        write(NatsProtocol.CONNECT.getBytes(StandardCharsets.US_ASCII), true);
      }
    } else if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
      ready.completeExceptionally(new IOException("WebSocket handshake timed out"));
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
    if (frame instanceof CloseWebSocketFrame) {
      ctx.close();
      return;
    }
    ByteBuf content = frame.content();
    int n = content.readableBytes();
    byte[] buf;
    int from;
    if (content.hasArray()) {
      buf = content.array();
      from = content.arrayOffset() + content.readerIndex();
    } else {
      if (scratch.length < n) {
        scratch = new byte[Math.max(n, scratch.length * 2)];
      }
      content.getBytes(content.readerIndex(), scratch, 0, n);
      buf = scratch;
      from = 0;
    }
    if (dialect == PeerDialect.NATS) {
      nats.feed(buf, from, from + n);
    } else {
      engineIo(buf, from, from + n);
    }
  }

  private void engineIo(byte[] buf, int from, int to) {
    switch (EngineIoCodec.kind(buf, from, to)) {
      case OPEN -> write(EngineIoCodec.CONNECT.getBytes(StandardCharsets.US_ASCII), true);
      case PING -> write(EngineIoCodec.PONG.getBytes(StandardCharsets.US_ASCII), true);
      case CONNECTED -> ready.complete(this);
      case ACK -> {
        if (joined != null && --pendingAcks == 0) {
          joined.complete(null);
        }
      }
      case EVENT ->
          EngineIoCodec.strings(
              buf,
              from,
              to,
              (i, b, f, t) -> {
                // ["m", room, payload]: the payload is the third element.
                if (i == 2) {
                  receiver.payload(this, b, f, t);
                }
              });
      case ERROR -> ready.completeExceptionally(
          new IOException("Socket.IO connect refused: " + new String(buf, from, to - from, StandardCharsets.UTF_8)));
      default -> {
        // Other Engine.IO/Socket.IO packets (noop, upgrade) carry nothing the benchmark needs.
      }
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    open = false;
    ready.completeExceptionally(new IOException("connection closed before the session was up"));
    if (joined != null) {
      joined.completeExceptionally(new IOException("connection closed"));
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ready.completeExceptionally(cause);
    ctx.close();
  }
}
