package io.parley.client.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.parley.client.Subprotocol;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ServerFrame;
import java.io.IOException;
import java.net.URI;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * One WebSocket connection to the server: TCP (and TLS for {@code wss}), the HTTP upgrade with
 * the chosen subprotocol, frame encoding, close-code capture and idle detection. Reports to a
 * {@link Handler}; {@link Handler#onClosed} is called exactly once, however the connection ends
 * (connect failure, failed handshake, close frame, reset).
 *
 * <p>The channel is registered on the client's own event loop, so every handler method runs on
 * that thread, and {@link #send}/{@link #close} must be called from it too.
 */
public final class Connection {

  /** Close code when the connection ended without a close frame (RFC 6455 "abnormal closure"). */
  public static final int ABNORMAL_CLOSURE = 1006;

  /** Receives what happens on the connection, on the client's event loop. */
  public interface Handler {
    /** The upgrade succeeded; frames may be sent. */
    void onOpen(Connection connection);

    void onFrame(Connection connection, ServerFrame frame);

    /** Nothing was received for the idle interval. */
    void onIdle(Connection connection);

    /** The connection ended (called once). */
    void onClosed(Connection connection, int closeCode, String reason, Throwable cause);
  }

  /** Where and how to connect. */
  public record Settings(
      URI uri,
      Subprotocol subprotocol,
      SslContext sslContext,
      int maxFrameBytes,
      long connectTimeoutMs,
      long handshakeTimeoutMs,
      long idleMs) {
    public Settings {
      Objects.requireNonNull(uri, "uri");
      Objects.requireNonNull(subprotocol, "subprotocol");
    }
  }

  private final Settings settings;
  private final FrameCodec codec;
  private final Handler handler;
  private final Channel channel;
  private boolean open;
  private boolean closedReported;
  private int closeCode = ABNORMAL_CLOSURE;
  private String closeReason = "";
  private Throwable failure;

  private Connection(EventLoop loop, Settings settings, Handler handler) {
    this.settings = settings;
    this.codec = FrameCodec.of(settings.subprotocol());
    this.handler = handler;
    String host = settings.uri().getHost();
    int port = port(settings.uri());
    Bootstrap bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeoutMs())
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    configure(ch, host, port);
                  }
                });
    ChannelFuture connect = bootstrap.connect(host, port);
    this.channel = connect.channel();
    connect.addListener(
        (ChannelFutureListener)
            f -> {
              if (!f.isSuccess()) {
                failure = f.cause();
                reportClosed();
              }
            });
    channel.closeFuture().addListener((ChannelFutureListener) f -> reportClosed());
  }

  /** Starts connecting; the outcome is reported to {@code handler} on {@code loop}. */
  public static Connection open(EventLoop loop, Settings settings, Handler handler) {
    return new Connection(loop, settings, handler);
  }

  static int port(URI uri) {
    if (uri.getPort() > 0) {
      return uri.getPort();
    }
    return "wss".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
  }

  private void configure(SocketChannel ch, String host, int port) {
    ChannelPipeline p = ch.pipeline();
    if (settings.sslContext() != null) {
      SslHandler ssl = settings.sslContext().newHandler(ch.alloc(), host, port);
      SSLEngine engine = ssl.engine();
      SSLParameters params = engine.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      engine.setSSLParameters(params);
      p.addLast(ssl);
    }
    p.addLast(new HttpClientCodec());
    p.addLast(new HttpObjectAggregator(64 * 1024));
    p.addLast(
        new WebSocketClientProtocolHandler(
            WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(settings.uri())
                .subprotocol(settings.subprotocol().wireName())
                .maxFramePayloadLength(settings.maxFrameBytes())
                .handleCloseFrames(false)
                .dropPongFrames(true)
                .handshakeTimeoutMillis(settings.handshakeTimeoutMs())
                .build()));
    p.addLast(new WebSocketFrameAggregator(settings.maxFrameBytes()));
    if (settings.idleMs() > 0) {
      p.addLast(new IdleStateHandler(settings.idleMs(), 0, 0, TimeUnit.MILLISECONDS));
    }
    p.addLast(new FrameHandler());
  }

  /** True once the upgrade succeeded and until the connection closes. */
  public boolean isOpen() {
    return open && channel.isActive();
  }

  /** Sends one frame; a write failure closes the connection. */
  public void send(ClientFrame frame) {
    if (!isOpen()) {
      return;
    }
    channel
        .writeAndFlush(codec.encode(frame, channel.alloc()))
        .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
  }

  /** Closes with a close frame carrying {@code code} (best effort), then the TCP connection. */
  public void close(int code, String reason) {
    if (open && channel.isActive()) {
      open = false;
      closeCode = code;
      closeReason = reason;
      channel
          .writeAndFlush(new CloseWebSocketFrame(code, reason))
          .addListener(ChannelFutureListener.CLOSE);
      // A peer that never answers must not keep the socket: the close frame is best effort.
      channel.eventLoop().schedule(() -> channel.close(), 2, TimeUnit.SECONDS);
    } else {
      channel.close();
    }
  }

  private void reportClosed() {
    if (closedReported) {
      return;
    }
    closedReported = true;
    open = false;
    handler.onClosed(this, closeCode, closeReason, failure);
  }

  private final class FrameHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
        open = true;
        handler.onOpen(Connection.this);
      } else if (evt
          == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
        failure = new IOException("WebSocket handshake timed out");
        ctx.close();
      } else if (evt instanceof IdleStateEvent) {
        if (open) {
          handler.onIdle(Connection.this);
        }
      } else {
        super.userEventTriggered(ctx, evt);
      }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
      if (frame instanceof CloseWebSocketFrame close) {
        closeCode = close.statusCode() < 0 ? 1005 : close.statusCode();
        closeReason = close.reasonText() == null ? "" : close.reasonText();
        if (open) {
          open = false;
          ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE))
              .addListener(ChannelFutureListener.CLOSE);
        } else {
          ctx.close();
        }
        return;
      }
      if (!open) {
        return;
      }
      ServerFrame decoded;
      try {
        decoded = codec.decodeServerFrame(frame);
      } catch (IOException e) {
        failure = e;
        close(1007, "malformed frame");
        return;
      }
      handler.onFrame(Connection.this, decoded);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (failure == null) {
        failure = cause;
      }
      ctx.close();
    }
  }
}
