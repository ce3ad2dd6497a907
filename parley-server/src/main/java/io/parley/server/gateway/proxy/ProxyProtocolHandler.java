package io.parley.server.gateway.proxy;

import io.micrometer.core.instrument.Counter;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the PROXY protocol header (v1 or v2) a load balancer such as HAProxy puts in front of
 * every connection it opens, and records the announced client address for {@link ClientAddress}.
 * Installed by {@link #install} as the first handlers of a connection, ahead of TLS, because the
 * balancer sends the header before the client's bytes.
 *
 * <p>A connection whose first bytes are not a valid header is closed and counted in {@code
 * parley_proxy_protocol_rejected_total}: with the option on, the gateway is only reachable
 * through the balancer, and a header-less client must not be able to pose as the balancer's
 * clients. {@code PROXY UNKNOWN} (v1) and {@code LOCAL} (v2) headers, which balancers send for
 * their own health checks, keep the socket peer as the client address. Both handlers leave the
 * pipeline after the header. Sharable: it keeps no per-connection state.
 */
@ChannelHandler.Sharable
public final class ProxyProtocolHandler extends ChannelInboundHandlerAdapter {
  /** Pipeline name of Netty's header decoder. */
  public static final String DECODER = "proxy-protocol-decoder";
  /** Pipeline name of this handler. */
  public static final String NAME = "proxy-protocol";

  private static final Logger log = LoggerFactory.getLogger(ProxyProtocolHandler.class);
  /** Set once a connection is rejected: the decoder reports a broken header again on close. */
  private static final AttributeKey<Boolean> REJECTED =
      AttributeKey.valueOf(ProxyProtocolHandler.class, "rejected");

  private final Counter rejected;

  /** @param rejected counts connections closed for a missing or malformed header */
  public ProxyProtocolHandler(Counter rejected) {
    this.rejected = Objects.requireNonNull(rejected, "rejected");
  }

  /** Adds the header decoder and this handler at the end of {@code pipeline}. */
  public void install(ChannelPipeline pipeline) {
    pipeline.addLast(DECODER, new HAProxyMessageDecoder());
    pipeline.addLast(NAME, this);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HAProxyMessage header)) {
      // The decoder forwards bytes only after a header; anything else here is a bug upstream.
      ctx.fireChannelRead(msg);
      return;
    }
    try {
      InetSocketAddress source = sourceOf(header);
      if (source != null) {
        ctx.channel().attr(ClientAddress.PROXIED).set(source);
      }
    } finally {
      ReferenceCountUtil.release(header);
    }
    ctx.pipeline().remove(this);
  }

  /** The announced client address, or null when the header names none (LOCAL, UNKNOWN, UNIX). */
  private static InetSocketAddress sourceOf(HAProxyMessage header) {
    if (header.command() != HAProxyCommand.PROXY) {
      return null;
    }
    HAProxyProxiedProtocol.AddressFamily family = header.proxiedProtocol().addressFamily();
    if (family != HAProxyProxiedProtocol.AddressFamily.AF_IPv4
        && family != HAProxyProxiedProtocol.AddressFamily.AF_IPv6) {
      return null;
    }
    // From the literal's bytes: never a DNS lookup, whatever the header says.
    byte[] ip = NetUtil.createByteArrayFromIpAddressString(header.sourceAddress());
    if (ip == null) {
      return null;
    }
    try {
      return new InetSocketAddress(InetAddress.getByAddress(ip), header.sourcePort());
    } catch (UnknownHostException e) {
      return null;
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof DecoderException) {
      // Only the header decoder precedes this handler: the peer sent no valid header.
      if (ctx.channel().attr(REJECTED).setIfAbsent(Boolean.TRUE) == null) {
        rejected.increment();
        log.debug(
            "closing {}: no valid PROXY protocol header ({})",
            ctx.channel().remoteAddress(),
            cause.getMessage());
      }
      ctx.close();
      return;
    }
    ctx.fireExceptionCaught(cause);
  }
}
