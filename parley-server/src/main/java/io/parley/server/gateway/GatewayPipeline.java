package io.parley.server.gateway;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.parley.server.config.ParleyConfig;
import io.parley.server.gateway.http.HttpRouter;
import io.parley.server.gateway.http.SecurityHeadersHandler;
import io.parley.server.gateway.proxy.ProxyProtocolHandler;
import io.parley.server.gateway.tls.ServerTls;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Builds the pipeline of every accepted connection, in one place:
 *
 * <ol>
 *   <li>{@value ProxyProtocolHandler#DECODER} and {@value ProxyProtocolHandler#NAME}: only with
 *       {@code server.proxy_protocol} on (main listener only), the PROXY protocol header that
 *       carries the client address ({@link ProxyProtocolHandler}); they leave after the header
 *   <li>{@value #TLS}: only with TLS on, the {@link ServerTls} handler; a client that does not
 *       finish the handshake within {@code timeouts.handshake}, or speaks plaintext, is closed
 *   <li>{@value #IDLE}: closes connections that sent nothing for {@code timeouts.idle}
 *   <li>{@value #HTTP_CODEC}: HTTP/1.1 (request line ≤ 4 KiB, headers ≤ 16 KiB)
 *   <li>{@code http-security-headers}: {@link SecurityHeadersHandler} on every response
 *   <li>{@value #HTTP_AGGREGATOR}: whole requests, bodies ≤ {@value #MAX_HTTP_BODY_BYTES} bytes
 *       (larger: 413)
 *   <li>{@value #HTTP_ROUTER}: {@link io.parley.server.gateway.http.HttpRequestHandler}; closes a
 *       connection that does not complete a request within {@code timeouts.handshake}
 * </ol>
 *
 * After a WebSocket upgrade the handshaker inserts {@code wsdecoder}/{@code wsencoder}, the HTTP
 * handlers go away and the WebSocket handlers named in {@link
 * io.parley.server.gateway.session.WebSocketUpgrader} follow. Sharable (stateless besides its
 * immutable configuration).
 */
final class GatewayPipeline extends ChannelInitializer<SocketChannel> {
  static final String TLS = "tls";
  static final String IDLE = "idle";
  static final String HTTP_CODEC = "http-codec";
  static final String HTTP_AGGREGATOR = "http-aggregator";
  static final String HTTP_ROUTER = "http-router";
  static final int MAX_HTTP_BODY_BYTES = 1024 * 1024;

  private final ParleyConfig.Timeouts timeouts;
  private final HttpRouter router;
  private final ChannelGroup connections;
  private final ServerTls tls;
  private final SecurityHeadersHandler securityHeaders;
  private final ProxyProtocolHandler proxyProtocol;

  /** A listener without PROXY protocol. */
  GatewayPipeline(
      ParleyConfig.Timeouts timeouts, HttpRouter router, ChannelGroup connections, ServerTls tls) {
    this(timeouts, router, connections, tls, null);
  }

  /**
   * @param tls the TLS context, or null for a plaintext listener
   * @param proxyProtocol reads the PROXY header every connection must start with, or null when the
   *     listener is reached directly
   */
  GatewayPipeline(
      ParleyConfig.Timeouts timeouts,
      HttpRouter router,
      ChannelGroup connections,
      ServerTls tls,
      ProxyProtocolHandler proxyProtocol) {
    this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
    this.router = Objects.requireNonNull(router, "router");
    this.connections = Objects.requireNonNull(connections, "connections");
    this.tls = tls;
    this.securityHeaders = new SecurityHeadersHandler(tls != null);
    this.proxyProtocol = proxyProtocol;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    connections.add(ch);
    ChannelPipeline p = ch.pipeline();
    if (proxyProtocol != null) {
      proxyProtocol.install(p);
    }
    if (tls != null) {
      p.addLast(TLS, tls.newHandler(ch.alloc(), timeouts.handshake()));
    }
    p.addLast(IDLE, new IdleStateHandler(timeouts.idle().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
    p.addLast(
        HTTP_CODEC,
        new HttpServerCodec(
            new HttpDecoderConfig().setMaxInitialLineLength(4096).setMaxHeaderSize(16 * 1024)));
    p.addLast(SecurityHeadersHandler.NAME, securityHeaders);
    p.addLast(HTTP_AGGREGATOR, new HttpObjectAggregator(MAX_HTTP_BODY_BYTES));
    p.addLast(HTTP_ROUTER, router.newHandler(timeouts.handshake()));
  }
}
