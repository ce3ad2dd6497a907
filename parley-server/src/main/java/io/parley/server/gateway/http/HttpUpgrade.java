package io.parley.server.gateway.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import java.util.concurrent.CompletableFuture;

/**
 * Takes over a connection whose request asks for a protocol upgrade (the WebSocket endpoint).
 * Called on the channel's event loop by the {@link HttpRequestHandler}.
 */
@FunctionalInterface
public interface HttpUpgrade {
  /**
   * Upgrades the connection or refuses to. The request is only valid during this call (the router
   * releases it afterwards): copy what is needed later.
   *
   * @return completes with {@code null} once the connection has been upgraded (the HTTP router has
   *     then been removed from the pipeline), or with the HTTP reply that refuses the upgrade
   */
  CompletableFuture<HttpReply> upgrade(ChannelHandlerContext ctx, FullHttpRequest request);
}
