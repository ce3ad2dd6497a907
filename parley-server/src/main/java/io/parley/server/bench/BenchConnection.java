package io.parley.server.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ServerFrame;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One generator WebSocket connection speaking {@code parley.v1.proto}. Everything about it runs on
 * its channel's event loop: requests are matched to answers by request id in a ring indexed by the
 * id (ids are sequential, and no more than {@link #RING} are ever in flight), and pushed events go
 * through the cheap {@link EventScanner} to the connection's {@link Receiver} without building
 * protobuf objects. Answers (a few per second per connection, or one per send) are parsed fully.
 *
 * <p>Not thread-safe: call {@link #send} and {@link #request} on {@link #channel()}'s event loop.
 */
public final class BenchConnection extends SimpleChannelInboundHandler<WebSocketFrame> {
  /** Most requests one connection may have in flight (the server's limit is lower by default). */
  static final int RING = 4096;

  /** Receives what a connection's pushes and answers carry; called on the event loop. */
  public interface Receiver {
    /**
     * A pushed log event; a posted message's body is {@code bodyLength} bytes of {@code buf} at
     * {@code bodyIndex} (valid only during the call), other events have {@code bodyIndex} -1.
     */
    void event(
        BenchConnection on, String conversationId, long seq, ByteBuf buf, int bodyIndex, int bodyLength);

    /** The answer to a send made with {@link #send}. */
    void answered(BenchConnection on, int stream, long sentNanos, ServerFrame answer);

    /** The connection closed. */
    void closed(BenchConnection on);
  }

  private final int index;
  private final Receiver receiver;
  private final EventScanner scanner;
  private final CompletableFuture<BenchConnection> handshake = new CompletableFuture<>();
  @SuppressWarnings("unchecked")
  private final CompletableFuture<ServerFrame>[] calls = new CompletableFuture[RING];
  private final long[] sentNanos = new long[RING];
  private final int[] streamOf = new int[RING];
  private long nextRequestId = 1;
  private volatile int inflight;
  private Channel channel;
  private volatile boolean open;

  BenchConnection(int index, Receiver receiver) {
    this.index = index;
    this.receiver = receiver;
    this.scanner = new EventScanner(
            (conv, seq, buf, at, length) -> receiver.event(this, conv, seq, buf, at, length));
  }

  /** The position of this connection in its scenario. */
  public int index() {
    return index;
  }

  public Channel channel() {
    return channel;
  }

  public boolean isOpen() {
    return open;
  }

  /** Unanswered requests. */
  public int inflight() {
    return inflight;
  }

  /** Completes when the WebSocket upgrade has succeeded. */
  CompletableFuture<BenchConnection> handshake() {
    return handshake;
  }

  /**
   * Sends a request whose answer completes the returned future (for set-up requests: authenticate,
   * create group). Any thread.
   */
  public CompletableFuture<ServerFrame> request(ClientFrame.Builder frame) {
    CompletableFuture<ServerFrame> f = new CompletableFuture<>();
    channel
        .eventLoop()
        .execute(
            () -> {
              long id = nextId(-1, 0);
              calls[(int) (id % RING)] = f;
              channel.writeAndFlush(encode(frame.setRequestId(id).build()));
            });
    return f;
  }

  /**
   * Writes (without flushing) a send whose answer goes to {@link Receiver#answered} with {@code
   * stream} and {@code sentNanos}. Event loop only.
   */
  public void send(ClientFrame.Builder frame, int stream, long sentNanos) {
    long id = nextId(stream, sentNanos);
    channel.write(encode(frame.setRequestId(id).build()), channel.voidPromise());
  }

  private long nextId(int stream, long nanos) {
    long id = nextRequestId++;
    int slot = (int) (id % RING);
    streamOf[slot] = stream;
    sentNanos[slot] = nanos;
    inflight++;
    return id;
  }

  private BinaryWebSocketFrame encode(ClientFrame frame) {
    ByteBuf buf = channel.alloc().buffer(frame.getSerializedSize());
    try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
      frame.writeTo(out);
    } catch (IOException e) {
      buf.release();
      throw new UncheckedIOException(e);
    }
    return new BinaryWebSocketFrame(buf);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    channel = ctx.channel();
    super.channelActive(ctx);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
      open = true;
      handshake.complete(this);
    } else if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
      handshake.completeExceptionally(new IOException("WebSocket handshake timed out"));
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
    if (frame instanceof BinaryWebSocketFrame) {
      ByteBuf content = frame.content();
      long requestId = EventScanner.requestId(content);
      if (requestId == 0) {
        scanner.scan(content);
      } else {
        answer(requestId, content);
      }
    } else if (frame instanceof CloseWebSocketFrame) {
      ctx.close();
    }
  }

  private void answer(long requestId, ByteBuf content) {
    ServerFrame answer;
    try {
      answer = ServerFrame.parseFrom(content.nioBuffer());
    } catch (IOException e) {
      throw new UncheckedIOException("undecodable answer from the server", e);
    }
    int slot = (int) (requestId % RING);
    inflight--;
    CompletableFuture<ServerFrame> call = calls[slot];
    if (call != null) {
      calls[slot] = null;
      call.complete(answer);
    } else {
      receiver.answered(this, streamOf[slot], sentNanos[slot], answer);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    open = false;
    handshake.completeExceptionally(new IOException("connection closed during the handshake"));
    for (int i = 0; i < RING; i++) {
      if (calls[i] != null) {
        calls[i].completeExceptionally(new IOException("connection closed"));
        calls[i] = null;
      }
    }
    receiver.closed(this);
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    handshake.completeExceptionally(cause);
    ctx.close();
  }

  /** Closes the connection (any thread). */
  public void close() {
    if (channel != null) {
      channel.close();
    }
  }

  /** Calls {@code task} on this connection's event loop. */
  public void onLoop(Consumer<BenchConnection> task) {
    channel.eventLoop().execute(() -> task.accept(this));
  }
}
