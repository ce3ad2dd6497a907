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
 *
 * <p>On TLS listeners it also sends {@code Strict-Transport-Security} ({@value #HSTS}), so that
 * browsers that reached the server once over https never fall back to plain http. It is not sent
 * without TLS: browsers ignore it there, and it would be a lie about the transport. No {@code
 * includeSubDomains}: the server cannot know what else runs under its domain.
 *
 * <p>Stateless and sharable.
 */
@ChannelHandler.Sharable
public final class SecurityHeadersHandler extends ChannelOutboundHandlerAdapter {
  /** The handler's name in the pipeline. */
  public static final String NAME = "http-security-headers";

  /** The HSTS policy sent on TLS listeners: one year. */
  public static final String HSTS = "max-age=31536000";

  private final boolean tls;

  /** Headers for a plaintext listener. */
  public SecurityHeadersHandler() {
    this(false);
  }

  /** @param tls whether the listener speaks TLS (adds HSTS) */
  public SecurityHeadersHandler(boolean tls) {
    this.tls = tls;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpResponse r) {
      HttpResponses.addSecurityHeaders(r.headers());
      if (tls) {
        r.headers().set("Strict-Transport-Security", HSTS);
      }
    }
    ctx.write(msg, promise);
  }
}
