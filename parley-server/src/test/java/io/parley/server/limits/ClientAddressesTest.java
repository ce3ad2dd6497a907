package io.parley.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class ClientAddressesTest {
  @Test
  void ipv4AddressesAreTheirOwnKey() throws Exception {
    assertThat(ClientAddresses.keyOf(new InetSocketAddress(InetAddress.getByName("203.0.113.9"), 443)))
        .isEqualTo("203.0.113.9");
    assertThat(ClientAddresses.keyOfLiteral("203.0.113.9")).isEqualTo("203.0.113.9");
  }

  @Test
  void ipv6AddressesShareTheKeyOfTheirSlash64() throws Exception {
    String a = ClientAddresses.keyOf(InetAddress.getByName("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
    String b = ClientAddresses.keyOf(InetAddress.getByName("2001:db8:1:2::1"));
    String other = ClientAddresses.keyOf(InetAddress.getByName("2001:db8:1:3::1"));
    assertThat(a).isEqualTo(b).endsWith("/64");
    assertThat(other).isNotEqualTo(a);
    assertThat(ClientAddresses.keyOfLiteral("2001:db8:1:2::77")).isEqualTo(a);
  }

  @Test
  void nonLiteralsAreUsedVerbatimWithoutLookup() {
    assertThat(ClientAddresses.keyOfLiteral("example.invalid")).isEqualTo("example.invalid");
    assertThat(ClientAddresses.keyOfLiteral("")).isEqualTo(ClientAddresses.UNKNOWN);
    assertThat(ClientAddresses.keyOfLiteral(null)).isEqualTo(ClientAddresses.UNKNOWN);
    assertThat(ClientAddresses.keyOf(new io.netty.channel.embedded.EmbeddedChannel().remoteAddress()))
        .isEqualTo(ClientAddresses.UNKNOWN);
  }
}
