package io.parley.server.gateway;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.parley.server.bus.EventBus;
import io.parley.server.config.ParleyConfig;
import io.parley.server.gateway.live.LiveDispatcher;
import io.parley.server.gateway.session.GatewayState;
import io.parley.server.gateway.session.Session;
import io.parley.server.gateway.session.SessionRegistry;
import io.parley.server.gateway.session.WebSocketUpgrader;
import io.parley.server.gateway.ws.CloseCodes;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's network server: binds the listener, owns the Netty event loops (epoll when
 * available, NIO otherwise) and the live-delivery subscription, and shuts down gracefully.
 * Created by {@link GatewayModule#create}; call {@link #start()} to bind.
 *
 * <p>Socket options: {@code SO_REUSEADDR} on the listener, {@code TCP_NODELAY} on connections,
 * and write-buffer water marks of {@code limits.outboundBufferBytes} (high) and half of it (low),
 * which drive the sessions' back-pressure.
 *
 * <p>{@link #drain()} stops accepting, turns readiness false, sends {@code GoAway} to every
 * session, waits up to {@code server.shutdownGrace} for in-flight requests, then closes every
 * connection ({@code 1001} for WebSockets). {@link #close()} releases the event loops.
 *
 * <p>Thread-safe.
 */
public final class GatewayServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);
  static final long GO_AWAY_RECONNECT_AFTER_MS = 1000;
  private static final long DRAIN_POLL_MS = 20;
  private static final long CLOSE_WAIT_MS = 1500;

  private final ParleyConfig config;
  private final GatewayPipeline pipeline;
  private final GatewayPipeline adminPipeline;
  private final ChannelGroup connections;
  private final SessionRegistry registry;
  private final GatewayState state;
  private final LiveDispatcher live;
  private final EventBus bus;

  private EventLoopGroup acceptors;
  private EventLoopGroup workers;
  private Channel serverChannel;
  private Channel adminChannel;
  private CompletableFuture<Void> drained;
  private boolean closed;

  GatewayServer(
      ParleyConfig config,
      GatewayPipeline pipeline,
      GatewayPipeline adminPipeline,
      ChannelGroup connections,
      SessionRegistry registry,
      GatewayState state,
      LiveDispatcher live,
      EventBus bus) {
    this.config = Objects.requireNonNull(config, "config");
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    this.adminPipeline = adminPipeline;
    this.connections = Objects.requireNonNull(connections, "connections");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.state = Objects.requireNonNull(state, "state");
    this.live = Objects.requireNonNull(live, "live");
    this.bus = Objects.requireNonNull(bus, "bus");
  }

  /**
   * Subscribes to the bus and binds {@code server.host:server.port} (port 0 picks a free port),
   * and {@code admin.host:admin.port} when a separate admin listener is configured.
   *
   * @return the bound address
   * @throws IllegalStateException if already started or closed
   */
  public synchronized InetSocketAddress start() {
    if (serverChannel != null || closed) {
      throw new IllegalStateException("already started or closed");
    }
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    acceptors = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("parley-accept"), io);
    workers = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("parley-io"), io);
    int high = Math.max(2, config.limits().outboundBufferBytes());
    ServerBootstrap b =
        new ServerBootstrap()
            .group(acceptors, workers)
            .channel(channelType)
            .option(ChannelOption.SO_REUSEADDR, true)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.SO_KEEPALIVE, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(high / 2, high))
            .childHandler(pipeline);
    live.subscribe(bus);
    try {
      serverChannel =
          b.bind(address(config.server().host(), config.server().port()))
              .syncUninterruptibly()
              .channel();
      if (adminPipeline != null) {
        adminChannel =
            b.clone()
                .childHandler(adminPipeline)
                .bind(address(config.admin().host(), config.admin().port()))
                .syncUninterruptibly()
                .channel();
      }
    } catch (RuntimeException e) {
      if (serverChannel != null) {
        serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        serverChannel = null;
      }
      live.close();
      shutdownLoops();
      throw e;
    }
    InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
    String scheme = config.tls().enabled() ? "TLS" : "plaintext";
    String proxy = config.server().proxyProtocol() ? ", PROXY protocol required" : "";
    log.info("gateway listening on {} ({}, {}{})", bound, epoll ? "epoll" : "nio", scheme, proxy);
    if (adminChannel != null) {
      log.info("admin API and metrics listening on {} ({})", adminChannel.localAddress(), scheme);
    }
    return bound;
  }

  private static InetSocketAddress address(String host, int port) {
    return host == null || host.isBlank()
        ? new InetSocketAddress(port)
        : new InetSocketAddress(host, port);
  }

  /** The bound port; only valid after {@link #start()}. */
  public synchronized int port() {
    if (serverChannel == null) {
      throw new IllegalStateException("not started");
    }
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** The bound port of the separate admin listener, or -1 when there is none. */
  public synchronized int adminPort() {
    return adminChannel == null ? -1 : ((InetSocketAddress) adminChannel.localAddress()).getPort();
  }

  /** True while started and not draining (the gateway's readiness check). */
  public synchronized boolean isReady() {
    return serverChannel != null && !closed && !state.isDraining();
  }

  public boolean isDraining() {
    return state.isDraining();
  }

  /** The registry of this gateway's sessions (diagnostics, admin, tests). */
  public SessionRegistry sessions() {
    return registry;
  }

  /**
   * Starts a graceful shutdown; idempotent. The returned future completes when every connection
   * is closed (or after a bounded wait for clients that do not complete the close handshake).
   */
  public synchronized CompletableFuture<Void> drain() {
    if (drained != null) {
      return drained;
    }
    drained = new CompletableFuture<>();
    state.startDraining();
    if (serverChannel == null || closed) {
      drained.complete(null);
      return drained;
    }
    serverChannel.close();
    if (adminChannel != null) {
      adminChannel.close();
    }
    for (Session s : registry.connectedSessions()) {
      s.goAway("server shutting down", GO_AWAY_RECONNECT_AFTER_MS);
    }
    EventExecutor timer = acceptors.next();
    long graceDeadline = System.nanoTime() + config.server().shutdownGrace().toNanos();
    CompletableFuture<Void> result = drained;
    timer.execute(() -> awaitInFlight(timer, graceDeadline, result));
    return result;
  }

  private void awaitInFlight(EventExecutor timer, long graceDeadline, CompletableFuture<Void> result) {
    if (state.inFlight() > 0 && System.nanoTime() < graceDeadline) {
      timer.schedule(() -> awaitInFlight(timer, graceDeadline, result), DRAIN_POLL_MS, TimeUnit.MILLISECONDS);
      return;
    }
    for (Session s : registry.connectedSessions()) {
      s.close(CloseCodes.GOING_AWAY, "server shutting down");
    }
    for (Channel ch : connections) {
      if (ch.pipeline().get(WebSocketUpgrader.SESSION) == null) {
        ch.close();
      }
    }
    long closeDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
    awaitClosed(timer, closeDeadline, result);
  }

  private void awaitClosed(EventExecutor timer, long deadline, CompletableFuture<Void> result) {
    if (!connections.isEmpty() && System.nanoTime() < deadline) {
      timer.schedule(() -> awaitClosed(timer, deadline, result), DRAIN_POLL_MS, TimeUnit.MILLISECONDS);
      return;
    }
    connections.close().addListener(f -> result.complete(null));
  }

  /** Stops everything now: unsubscribes, closes the listener and all connections, stops loops. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    state.startDraining();
    live.close();
    if (serverChannel != null) {
      serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    if (adminChannel != null) {
      adminChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    if (drained != null) {
      drained.complete(null);
    }
    shutdownLoops();
  }

  private void shutdownLoops() {
    if (acceptors != null) {
      acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    }
    if (workers != null) {
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    }
    if (acceptors != null) {
      acceptors.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    if (workers != null) {
      workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }
}
