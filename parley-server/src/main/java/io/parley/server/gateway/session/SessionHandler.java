package io.parley.server.gateway.session;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.parley.server.gateway.ws.InboundFrame;

/**
 * The last handler of an upgraded connection: feeds decoded frames and channel events into its
 * {@link Session} and answers WebSocket pings. Not sharable; event loop only.
 */
final class SessionHandler extends ChannelInboundHandlerAdapter {
  private final Session session;

  SessionHandler(Session session) {
    this.session = session;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof InboundFrame f) {
      session.onInbound(f);
    } else if (msg instanceof CloseWebSocketFrame c) {
      try {
        session.onCloseFrame(c.statusCode());
      } finally {
        c.release();
      }
    } else if (msg instanceof PingWebSocketFrame p) {
      ctx.writeAndFlush(new PongWebSocketFrame(p.content()));
    } else {
      // Pongs (answers to our keep-alive pings) and anything else: reading them was the point.
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    session.onWritabilityChanged();
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      session.onIdle();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    session.onChannelInactive();
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    session.onException(cause);
  }
}
