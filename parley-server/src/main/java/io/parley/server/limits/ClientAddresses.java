package io.parley.server.limits;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;

/**
 * Turns a client's address into the key its per-address limits are counted under: the IPv4
 * address, or the /64 prefix of an IPv6 address, because one IPv6 subscriber usually owns a whole
 * /64 and could otherwise spread requests over 2^64 addresses. The address comes from {@link
 * io.parley.server.gateway.proxy.ClientAddress} (the PROXY protocol source when {@code
 * server.proxy_protocol} is on, else the socket peer); {@code X-Forwarded-For} is never trusted.
 * Stateless and thread-safe.
 */
public final class ClientAddresses {
  /** The key of a connection whose peer address is unknown (never the case for TCP). */
  public static final String UNKNOWN = "unknown";

  private ClientAddresses() {}

  /** The limit key of a socket peer address. */
  public static String keyOf(SocketAddress address) {
    if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return keyOf(inet.getAddress());
    }
    return UNKNOWN;
  }

  /** The limit key of an IP address. */
  public static String keyOf(InetAddress address) {
    if (address instanceof Inet6Address v6) {
      byte[] b = v6.getAddress();
      for (int i = 8; i < 16; i++) {
        b[i] = 0;
      }
      try {
        return InetAddress.getByAddress(b).getHostAddress() + "/64";
      } catch (UnknownHostException e) {
        throw new IllegalStateException("16 bytes are always a valid IPv6 address", e);
      }
    }
    return address.getHostAddress();
  }

  /**
   * The limit key of an IP address literal as the gateway passes it to HTTP endpoints (no DNS
   * lookup is made); anything that is not an IP literal is used verbatim.
   */
  public static String keyOfLiteral(String ip) {
    if (ip == null || ip.isEmpty()) {
      return UNKNOWN;
    }
    // Only literals go to InetAddress: anything else would trigger a DNS lookup.
    boolean v4 = ip.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.');
    boolean v6 =
        ip.indexOf(':') >= 0
            && ip.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':');
    boolean literal = v4 || v6;
    if (!literal) {
      return ip;
    }
    try {
      return keyOf(InetAddress.getByName(ip));
    } catch (UnknownHostException e) {
      return ip;
    }
  }
}
