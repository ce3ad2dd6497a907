package io.parley.server.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.parley.server.gateway.testing.ProxiedClient;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The PROXY protocol handlers on untrusted bytes: a valid v1 or v2 header in any fragmentation
 * sets the client address and passes what follows on untouched; anything else closes the
 * connection (counted) or waits for more bytes, and never lets an exception escape.
 */
class ProxyProtocolHandlerTest {
  private static final byte[] V2_SIGNATURE = {
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
  };
  private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);

  private Counter rejected;

  /** A connection with the handlers installed; {@link #rejected} counts for it alone. */
  private EmbeddedChannel channel() {
    rejected = Counter.builder("rejected").register(new SimpleMeterRegistry());
    EmbeddedChannel ch = new EmbeddedChannel();
    new ProxyProtocolHandler(rejected).install(ch.pipeline());
    return ch;
  }

  @Property(tries = 500)
  void garbageInsteadOfAHeaderClosesOrWaitsAndNeverThrows(
      @ForAll @Size(max = 600) byte[] noise,
      @ForAll @IntRange(min = 0, max = 2) int start,
      @ForAll @IntRange(min = 1, max = 64) int chunk) {
    byte[] prefix = start == 0 ? V2_SIGNATURE : start == 1 ? V1_PREFIX : new byte[0];
    byte[] bytes = concat(prefix, noise);
    EmbeddedChannel ch = channel();
    feed(ch, bytes, chunk);
    ch.checkException();
    assertThat(ch.attr(ClientAddress.PROXIED).get()).isNull();
    assertThat((Object) ch.readInbound()).as("nothing passes without a header").isNull();
    if (ch.isOpen()) {
      assertThat(ch.pipeline().get(ProxyProtocolHandler.DECODER)).as("still waiting").isNotNull();
    } else {
      assertThat(rejected.count()).isEqualTo(1.0);
    }
    ch.finishAndReleaseAll();
  }

  @Property(tries = 300)
  void aValidHeaderInAnyFragmentationSetsTheClientAddressAndPassesTheRestOn(
      @ForAll("versions") HAProxyProtocolVersion version,
      @ForAll("addresses") String ip,
      @ForAll @IntRange(min = 1, max = 65535) int port,
      @ForAll @Size(max = 200) byte[] payload,
      @ForAll @IntRange(min = 1, max = 40) int chunk)
      throws UnknownHostException {
    HAProxyMessage header = ProxiedClient.proxied(version, ip, port);
    EmbeddedChannel ch = channel();
    feed(ch, concat(encode(header), payload), chunk);
    ch.checkException();
    assertThat(ch.isOpen()).isTrue();
    InetSocketAddress client = ch.attr(ClientAddress.PROXIED).get();
    assertThat(client.getAddress()).isEqualTo(InetAddress.getByName(ip));
    assertThat(client.getPort()).isEqualTo(port);
    assertThat(ClientAddress.of(ch)).isEqualTo(client);
    assertThat(ch.pipeline().get(ProxyProtocolHandler.DECODER)).isNull();
    assertThat(ch.pipeline().get(ProxyProtocolHandler.NAME)).isNull();
    assertThat(readAll(ch)).isEqualTo(payload);
    assertThat(rejected.count()).isZero();
    ch.finishAndReleaseAll();
  }

  @Example
  void healthCheckHeadersKeepTheSocketPeer() {
    byte[] v2Local =
        encode(
            new HAProxyMessage(
                HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN,
                null, null, 0, 0));
    for (byte[] header : new byte[][] {v2Local, ProxiedClient.V1_UNKNOWN}) {
      EmbeddedChannel ch = channel();
      byte[] request = "GET /healthz HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      feed(ch, concat(header, request), 1000);
      ch.checkException();
      assertThat(ch.isOpen()).isTrue();
      assertThat(ch.attr(ClientAddress.PROXIED).get()).isNull();
      assertThat(ClientAddress.of(ch)).isEqualTo(ch.remoteAddress());
      assertThat(readAll(ch)).isEqualTo(request);
      ch.finishAndReleaseAll();
    }
  }

  @Example
  void anHttpRequestWithoutAHeaderIsClosedAndCounted() {
    EmbeddedChannel ch = channel();
    ch.writeInbound(
        Unpooled.copiedBuffer("GET /v1/ws HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII));
    ch.checkException();
    assertThat(ch.isOpen()).isFalse();
    assertThat((Object) ch.readInbound()).isNull();
    assertThat(rejected.count()).isEqualTo(1.0);
    ch.finishAndReleaseAll();
  }

  @Example
  void garbageBeforeAValidHeaderIsRefused() {
    EmbeddedChannel ch = channel();
    HAProxyMessage header =
        new HAProxyMessage(
            HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, HAProxyProxiedProtocol.TCP4,
            "10.0.0.1", "127.0.0.1", 1234, 8080);
    ch.writeInbound(Unpooled.wrappedBuffer(concat("x\r\n".getBytes(StandardCharsets.US_ASCII), encode(header))));
    ch.checkException();
    assertThat(ch.isOpen()).isFalse();
    assertThat(ch.attr(ClientAddress.PROXIED).get()).isNull();
    ch.finishAndReleaseAll();
  }

  @Provide
  Arbitrary<HAProxyProtocolVersion> versions() {
    return Arbitraries.of(HAProxyProtocolVersion.class);
  }

  @Provide
  Arbitrary<String> addresses() {
    Arbitrary<String> v4 =
        Arbitraries.integers().between(0, 255).list().ofSize(4)
            .map(l -> l.get(0) + "." + l.get(1) + "." + l.get(2) + "." + l.get(3));
    Arbitrary<String> v6 =
        Arbitraries.integers().between(0, 0xffff).list().ofSize(8)
            .map(l -> String.join(":", l.stream().map(Integer::toHexString).toList()));
    return Arbitraries.oneOf(v4, v6);
  }

  private static byte[] encode(HAProxyMessage header) {
    EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
    encoder.writeOutbound(header);
    return readAllOutbound(encoder);
  }

  private static void feed(EmbeddedChannel ch, byte[] bytes, int chunk) {
    for (int i = 0; i < bytes.length && ch.isOpen(); i += chunk) {
      ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + chunk))));
    }
  }

  private static byte[] readAll(EmbeddedChannel ch) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object m; (m = ch.readInbound()) != null; ) {
      ByteBuf b = (ByteBuf) m;
      out.writeBytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    return out.toByteArray();
  }

  private static byte[] readAllOutbound(EmbeddedChannel ch) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object m; (m = ch.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) m;
      out.writeBytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    return out.toByteArray();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
