package io.parley.server.gateway.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.parley.server.testing.WsTestClient;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * A Netty client that connects as a load balancer speaking PROXY protocol would: it first sends a
 * PROXY header (encoded by Netty's {@link HAProxyMessageEncoder}), then HTTP. It can open a
 * WebSocket (the upgrade reply is read, later frames are discarded, the connection stays open and
 * counts against the per-address limit), make plain HTTP requests, or send raw bytes.
 */
public final class ProxiedClient implements AutoCloseable {
  private static final EventLoopGroup GROUP =
      new MultiThreadIoEventLoopGroup(
          1, new DefaultThreadFactory("proxied-client", true), NioIoHandler.newFactory());
  private static final long WAIT_SECONDS = 10;

  /** A reply to an HTTP request. */
  public record Reply(int status, String body) {}

  private final Channel channel;
  private final Replies replies = new Replies();

  private ProxiedClient(int port) {
    this.channel =
        new Bootstrap()
            .group(GROUP)
            .channel(NioSocketChannel.class)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast("proxy", HAProxyMessageEncoder.INSTANCE)
                        .addLast("http", new HttpClientCodec())
                        .addLast("aggregator", new HttpObjectAggregator(1024 * 1024))
                        .addLast("replies", replies);
                  }
                })
            .connect("127.0.0.1", port)
            .syncUninterruptibly()
            .channel();
  }

  /**
   * The v1 header of a connection whose client is unknown (a balancer's health check), as the
   * spec spells it; Netty's encoder cannot write it (it has no addresses to print).
   */
  public static final byte[] V1_UNKNOWN = "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);

  /** Connects and sends {@code header} first (null: no header, as a client bypassing the proxy). */
  public static ProxiedClient connect(int port, HAProxyMessage header) {
    ProxiedClient c = new ProxiedClient(port);
    if (header != null) {
      c.channel.writeAndFlush(header).syncUninterruptibly();
    }
    return c;
  }

  /**
   * Connects, sends {@code header} in plaintext (as a balancer does in front of a TLS listener),
   * then speaks TLS with {@code tls} and waits for the handshake.
   */
  public static ProxiedClient connectTls(int port, HAProxyMessage header, SSLContext tls)
      throws Exception {
    ProxiedClient c = connect(port, header);
    SSLEngine engine = tls.createSSLEngine("127.0.0.1", port);
    engine.setUseClientMode(true);
    SslHandler ssl = new SslHandler(engine);
    c.channel.pipeline().addAfter("proxy", "tls", ssl);
    ssl.handshakeFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    return c;
  }

  /**
   * Connects as a balancer's health check: a v2 {@code LOCAL} header, or the v1 {@code PROXY
   * UNKNOWN} line.
   */
  public static ProxiedClient healthCheck(int port, HAProxyProtocolVersion version) {
    if (version == HAProxyProtocolVersion.V2) {
      return connect(
          port,
          new HAProxyMessage(
              version, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0));
    }
    ProxiedClient c = new ProxiedClient(port);
    c.sendRaw(V1_UNKNOWN);
    return c;
  }

  /** A PROXY header announcing a TCP client at {@code ip} (IPv4 or IPv6 literal). */
  public static HAProxyMessage proxied(HAProxyProtocolVersion version, String ip, int port) {
    boolean v6 = ip.indexOf(':') >= 0;
    return new HAProxyMessage(
        version,
        HAProxyCommand.PROXY,
        v6 ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4,
        ip,
        v6 ? "::1" : "127.0.0.1",
        port,
        8080);
  }

  /** Asks to upgrade to a WebSocket on /v1/ws; the reply's status is 101 when it was accepted. */
  public Reply openWebSocket() throws Exception {
    byte[] nonce = new byte[16];
    ThreadLocalRandom.current().nextBytes(nonce);
    FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v1/ws");
    req.headers()
        .set(HttpHeaderNames.HOST, "127.0.0.1")
        .set(HttpHeaderNames.UPGRADE, "websocket")
        .set(HttpHeaderNames.CONNECTION, "Upgrade")
        .set(HttpHeaderNames.SEC_WEBSOCKET_KEY, Base64.getEncoder().encodeToString(nonce))
        .set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13")
        .set(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, WsTestClient.PROTO);
    return request(req);
  }

  /** A GET request for {@code path}. */
  public Reply get(String path) throws Exception {
    FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
    req.headers().set(HttpHeaderNames.HOST, "127.0.0.1");
    return request(req);
  }

  private Reply request(FullHttpRequest req) throws Exception {
    CompletableFuture<Reply> reply = replies.expect();
    channel.writeAndFlush(req);
    return reply.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** Sends bytes as they are (after the header, if any), past the HTTP encoder. */
  public void sendRaw(byte[] bytes) {
    ChannelHandlerContext first = channel.pipeline().context("proxy");
    if (first == null) {
      return; // closed (by the server): the handlers are gone, and so is the connection
    }
    // Awaited, not synced: a server that closes on garbage may fail the write, which is fine.
    first.writeAndFlush(Unpooled.wrappedBuffer(bytes)).awaitUninterruptibly();
  }

  /** Completes when the server (or this client) closed the connection. */
  public CompletableFuture<Void> closed() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    channel.closeFuture().addListener(x -> f.complete(null));
    return f;
  }

  public boolean isOpen() {
    return channel.isActive();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Hands each HTTP reply to the waiting request; after a 101 it drops the HTTP codec. The server
   * may answer (and close) before a request is written — e.g. a 400 for a PROXY header on a
   * listener that does not expect one — so an unclaimed reply or the closure is kept for the next
   * request instead of being lost, which would leave that request waiting until its timeout.
   */
  private static final class Replies extends ChannelInboundHandlerAdapter {
    private CompletableFuture<Reply> pending;
    private Reply unclaimed;
    private Throwable closedBy;

    synchronized CompletableFuture<Reply> expect() {
      if (unclaimed != null) {
        Reply early = unclaimed;
        unclaimed = null;
        return CompletableFuture.completedFuture(early);
      }
      if (closedBy != null) {
        return CompletableFuture.failedFuture(closedBy);
      }
      pending = new CompletableFuture<>();
      return pending;
    }

    private synchronized void reply(Reply reply) {
      if (pending != null) {
        pending.complete(reply);
        pending = null;
      } else if (unclaimed == null) {
        unclaimed = reply;
      }
    }

    private synchronized void fail(Throwable cause) {
      if (closedBy == null) {
        closedBy = cause;
      }
      if (pending != null) {
        pending.completeExceptionally(cause);
        pending = null;
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof FullHttpResponse res) {
          int status = res.status().code();
          reply(new Reply(status, res.content().toString(StandardCharsets.UTF_8)));
          if (status == 101) {
            // WebSocket frames follow: this client never reads them, so keep them away from HTTP.
            ctx.pipeline().remove("aggregator");
            ctx.pipeline().remove("http");
          }
        } else if (!(msg instanceof ByteBuf)) {
          throw new IllegalStateException("unexpected " + msg);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      fail(new ClosedChannelException());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(cause);
      ctx.close();
    }
  }
}
