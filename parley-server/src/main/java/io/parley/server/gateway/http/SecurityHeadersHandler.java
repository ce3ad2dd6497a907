package io.parley.server.gateway.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;

/**
 * Adds the gateway's security headers ({@link HttpResponses#addSecurityHeaders}) to every HTTP
 * response leaving the connection, including those Netty writes itself (413 from the aggregator,
 * 100-continue, the WebSocket handshake's 101). Sits between the HTTP codec and the aggregator.
 * Stateless and sharable.
 */
@ChannelHandler.Sharable
public final class SecurityHeadersHandler extends ChannelOutboundHandlerAdapter {
  /** The handler's name in the pipeline. */
  public static final String NAME = "http-security-headers";

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpResponse r) {
      HttpResponses.addSecurityHeaders(r.headers());
    }
    ctx.write(msg, promise);
  }
}
