package io.parley.server.gateway.http;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.proxy.ClientAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the HTTP requests of one connection (after {@code HttpObjectAggregator}) through an
 * {@link HttpRouter}: hands the WebSocket path to the upgrade handler, other paths to the
 * endpoint with the longest matching prefix, and anything else a 404 JSON error.
 *
 * <p>Endpoint futures may complete on any thread; the response is always written on the channel's
 * event loop. Requests are answered strictly in arrival order: while one is being served, reading
 * pauses and pipelined requests wait in a small queue (a client that pipelines more than {@value
 * #MAX_QUEUED} requests is disconnected). Keep-alive follows the request ({@code Connection}
 * header and HTTP version).
 *
 * <p>Request deadline: a connection must deliver each complete request (line, headers and body)
 * within {@code timeouts.handshake}, counted from the moment it connected or its previous response
 * was written; otherwise it is closed. This defeats slowloris clients that trickle a request one
 * byte at a time (each byte would reset an idle timer) and bounds idle keep-alive connections.
 *
 * <p>Not sharable: one instance per connection, used only on its event loop.
 */
public final class HttpRequestHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(HttpRequestHandler.class);
  static final int MAX_QUEUED = 16;

  private final HttpRouter router;
  private final Duration firstRequestDeadline;
  private final ArrayDeque<FullHttpRequest> queued = new ArrayDeque<>();
  private ScheduledFuture<?> deadline;
  private boolean busy;
  private boolean upgraded;

  HttpRequestHandler(HttpRouter router, Duration firstRequestDeadline) {
    this.router = router;
    this.firstRequestDeadline = firstRequestDeadline;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    armDeadline(ctx);
    super.channelActive(ctx);
  }

  /** Starts the time the next request has to arrive in full. */
  private void armDeadline(ChannelHandlerContext ctx) {
    cancelDeadline();
    if (!firstRequestDeadline.isZero() && !firstRequestDeadline.isNegative()) {
      deadline =
          ctx.executor()
              .schedule(
                  () -> {
                    log.debug("closing {}: no complete HTTP request in time", ClientAddress.of(ctx.channel()));
                    ctx.close();
                  },
                  firstRequestDeadline.toMillis(),
                  TimeUnit.MILLISECONDS);
    }
  }

  private void cancelDeadline() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest req)) {
      ctx.fireChannelRead(msg);
      return;
    }
    cancelDeadline();
    if (busy || upgraded) {
      if (upgraded || queued.size() >= MAX_QUEUED) {
        req.release();
        ctx.close();
        return;
      }
      queued.add(req);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    serve(ctx, req);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      ctx.close();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    releaseQueued();
    cancelDeadline();
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("HTTP connection {} failed", ClientAddress.of(ctx.channel()), cause);
    ctx.close();
  }

  private void serve(ChannelHandlerContext ctx, FullHttpRequest req) {
    busy = true;
    // Netty parses any "HTTP/x.y"; replies are HTTP/1.x whatever version the client claims.
    boolean http1 = req.protocolVersion().majorVersion() == 1;
    HttpVersion version = http1 ? req.protocolVersion() : HttpVersion.HTTP_1_1;
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    boolean head = HttpMethod.HEAD.equals(req.method());
    CompletableFuture<HttpReply> reply;
    try {
      if (!req.decoderResult().isSuccess()) {
        reply = done(HttpResponses.error(400, "BAD_REQUEST", "malformed HTTP request"));
        keepAlive = false;
      } else if (!http1) {
        reply = done(HttpResponses.error(400, "BAD_REQUEST", "only HTTP/1.0 and HTTP/1.1 are served"));
        keepAlive = false;
      } else {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String path = uri.path();
        var upgrade = router.upgradeFor(path);
        if (upgrade.isPresent()) {
          reply = upgrade.get().upgrade(ctx, req);
        } else {
          reply = dispatch(ctx, req, uri, path);
        }
      }
    } catch (IllegalArgumentException e) {
      reply = done(HttpResponses.error(400, "BAD_REQUEST", "malformed request URI"));
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    } finally {
      req.release();
    }
    boolean ka = keepAlive;
    reply.whenComplete(
        (r, err) -> {
          if (ctx.executor().inEventLoop()) {
            complete(ctx, r, err, version, ka, head);
          } else {
            ctx.executor().execute(() -> complete(ctx, r, err, version, ka, head));
          }
        });
  }

  private CompletableFuture<HttpReply> dispatch(
      ChannelHandlerContext ctx, FullHttpRequest req, QueryStringDecoder uri, String path) {
    var endpoint = router.route(path);
    if (endpoint.isEmpty()) {
      return done(HttpResponses.error(404, "NOT_FOUND", "no resource at " + path));
    }
    Map<String, String> headers = new HashMap<>();
    for (Map.Entry<String, String> h : req.headers()) {
      headers.merge(HttpResponses.lower(h.getKey()), h.getValue(), (a, b) -> a + "," + b);
    }
    Map<String, List<String>> query = uri.parameters();
    SocketAddress remote = ClientAddress.of(ctx.channel());
    String ip =
        remote instanceof InetSocketAddress inet && inet.getAddress() != null
            ? inet.getAddress().getHostAddress()
            : "";
    HttpCall call =
        new HttpCall(
            req.method().name(),
            path,
            query,
            headers,
            ByteBufUtil.getBytes(req.content()),
            ip);
    CompletableFuture<HttpReply> f = endpoint.get().handle(call);
    return f == null ? CompletableFuture.failedFuture(new IllegalStateException("null reply")) : f;
  }

  private void complete(
      ChannelHandlerContext ctx,
      HttpReply reply,
      Throwable err,
      HttpVersion version,
      boolean keepAlive,
      boolean head) {
    if (err == null && reply == null) {
      // Upgraded: this handler is no longer in the pipeline.
      upgraded = true;
      releaseQueued();
      return;
    }
    if (err != null) {
      ParleyException pe = ParleyException.from(err);
      if (pe.getCause() != null) {
        log.error("HTTP endpoint failed", pe.getCause());
      }
      reply = HttpResponses.error(pe);
    }
    if (!ctx.channel().isActive()) {
      releaseQueued();
      return;
    }
    FullHttpResponse res = HttpResponses.toNetty(reply, version, head);
    if (keepAlive) {
      if (!version.isKeepAliveDefault()) {
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      ctx.writeAndFlush(res);
      busy = false;
      FullHttpRequest next = queued.poll();
      if (next != null) {
        serve(ctx, next);
      } else {
        armDeadline(ctx);
        ctx.channel().config().setAutoRead(true);
      }
    } else {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      releaseQueued();
      ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private void releaseQueued() {
    FullHttpRequest r;
    while ((r = queued.poll()) != null) {
      ReferenceCountUtil.release(r);
    }
  }

  private static CompletableFuture<HttpReply> done(HttpReply r) {
    return CompletableFuture.completedFuture(r);
  }
}
