package io.parley.server.gateway.proxy;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The one place that decides the client address of a connection: the source address of its PROXY
 * protocol header when the listener speaks PROXY protocol ({@code server.proxy_protocol}) and the
 * header named one, the socket peer otherwise. Every per-address limit and every log line about a
 * client uses this, never {@link Channel#remoteAddress()} directly. Stateless and thread-safe.
 */
public final class ClientAddress {
  /** The address a trusted PROXY protocol header announced for this connection. */
  static final AttributeKey<InetSocketAddress> PROXIED =
      AttributeKey.valueOf(ClientAddress.class, "proxied");

  private ClientAddress() {}

  /** The client address of {@code channel}: the proxied source if there is one, else the peer. */
  public static SocketAddress of(Channel channel) {
    InetSocketAddress proxied = channel.attr(PROXIED).get();
    return proxied != null ? proxied : channel.remoteAddress();
  }
}
