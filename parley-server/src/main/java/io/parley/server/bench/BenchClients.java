package io.parley.server.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
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
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;

/**
 * Opens and authenticates generator connections with Netty (epoll when available), spreading them
 * over several local source addresses so that one machine can open more connections to one server
 * port than it has ephemeral ports (about 28,000 per source address). Owns the event loops.
 */
public final class BenchClients implements AutoCloseable {
  /** Ephemeral ports one source address is given (the default range 32768–60999, with headroom). */
  static final int CONNECTIONS_PER_SOURCE = 25_000;

  private static final int MAX_CONNECTS_IN_FLIGHT = 256;

  private final URI uri;
  private final InetSocketAddress remote;
  private final List<InetAddress> sources;
  private final EventLoopGroup group;
  private final Bootstrap bootstrap;

  /**
   * @param uri the server's WebSocket URL, e.g. {@code ws://127.0.0.1:8080/v1/ws}
   * @param sourceAddresses how many 127.0.0.x source addresses to use (loopback servers only; 1 =
   *     let the kernel choose)
   * @param threads event loop threads of the generator
   */
  public BenchClients(URI uri, int sourceAddresses, int threads) {
    this.uri = uri;
    this.remote = new InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort());
    this.sources = sources(remote, sourceAddresses);
    boolean epoll = Epoll.isAvailable();
    this.group =
        new MultiThreadIoEventLoopGroup(
            threads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    this.bootstrap =
        new Bootstrap()
            .group(group)
            .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 15_000);
  }

  private static List<InetAddress> sources(InetSocketAddress remote, int count) {
    List<InetAddress> out = new ArrayList<>();
    if (count <= 1 || !remote.getAddress().isLoopbackAddress()) {
      return out;
    }
    try {
      for (int i = 1; i <= count; i++) {
        out.add(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) i}));
      }
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  /** Source addresses in use (empty = the kernel's choice). */
  public List<InetAddress> sourceAddresses() {
    return sources;
  }

  /** The source addresses needed for {@code connections} connections to a loopback server. */
  public static int sourcesFor(int connections) {
    return Math.max(1, (connections + CONNECTIONS_PER_SOURCE - 1) / CONNECTIONS_PER_SOURCE);
  }

  /**
   * Connects and authenticates {@code tokens.size()} connections, at most a few hundred at once;
   * {@code connectNanos} receives each one's time from connect to {@code Authenticated}.
   */
  public List<BenchConnection> open(
      List<String> tokens, BenchConnection.Receiver receiver, java.util.function.LongConsumer connectNanos) {
    Semaphore inFlight = new Semaphore(MAX_CONNECTS_IN_FLIGHT);
    List<CompletableFuture<BenchConnection>> all = new ArrayList<>();
    for (int i = 0; i < tokens.size(); i++) {
      inFlight.acquireUninterruptibly();
      long start = System.nanoTime();
      CompletableFuture<BenchConnection> c = connectAndAuthenticate(i, tokens.get(i), receiver);
      c.whenComplete(
          (r, t) -> {
            inFlight.release();
            if (t == null) {
              connectNanos.accept(System.nanoTime() - start);
            }
          });
      all.add(c);
    }
    List<BenchConnection> out = new ArrayList<>();
    for (CompletableFuture<BenchConnection> c : all) {
      try {
        out.add(c.join());
      } catch (CompletionException e) {
        out.forEach(BenchConnection::close);
        throw new IllegalStateException(
            "could not open connection " + out.size() + ": " + e.getCause().getMessage(), e.getCause());
      }
    }
    return out;
  }

  private CompletableFuture<BenchConnection> connectAndAuthenticate(
      int index, String token, BenchConnection.Receiver receiver) {
    BenchConnection connection = new BenchConnection(index, receiver);
    WebSocketClientProtocolConfig config =
        WebSocketClientProtocolConfig.newBuilder()
            .webSocketUri(uri)
            .version(WebSocketVersion.V13)
            .subprotocol("parley.v1.proto")
            .customHeaders(new DefaultHttpHeaders())
            .maxFramePayloadLength(16 * 1024 * 1024)
            .handshakeTimeoutMillis(15_000)
            .build();
    Bootstrap b =
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
                        .addLast(connection);
                  }
                });
    ChannelFuture connect =
        sources.isEmpty()
            ? b.connect(remote)
            : b.connect(remote, new InetSocketAddress(sources.get(index % sources.size()), 0));
    connect.addListener(
        f -> {
          if (!f.isSuccess()) {
            connection.handshake().completeExceptionally(f.cause());
          }
        });
    return connection
        .handshake()
        .thenCompose(
            c ->
                c.request(
                    ClientFrame.newBuilder()
                        .setAuthenticate(
                            Authenticate.newBuilder()
                                .setToken(token)
                                .setDeviceId("bench")
                                .setClient("parley-bench"))))
        .thenApply(
            answer -> {
              if (!answer.hasAuthenticated()) {
                connection.close();
                throw new IllegalStateException("authentication refused: " + answer.getError().getMessage());
              }
              return connection;
            });
  }

  /** Closes every connection given and waits a little for the closes to complete. */
  public static void closeAll(List<BenchConnection> connections) {
    List<ChannelFuture> closes = new ArrayList<>();
    for (BenchConnection c : connections) {
      Channel ch = c.channel();
      if (ch != null) {
        closes.add(ch.close());
      }
    }
    for (ChannelFuture f : closes) {
      f.awaitUninterruptibly(5_000);
    }
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
