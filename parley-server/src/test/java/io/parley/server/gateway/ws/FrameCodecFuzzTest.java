package io.parley.server.gateway.ws;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.parley.protocol.v1.ClientFrame;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Random-input properties of {@link FrameCodec}'s decoder, the first code that touches a client's
 * bytes after the WebSocket framing: random bytes, truncated and bit-mutated valid encodings in
 * both subprotocols, and hostile JSON (invalid UTF-8, huge numbers, deep nesting, wrong types).
 * Whatever arrives, decoding returns a {@link InboundFrame} (never throws, never an {@link Error}
 * such as a stack overflow) with a bounded reason, and releases the frame.
 */
class FrameCodecFuzzTest {
  private static final List<ClientFrame> SEEDS = FrameSeeds.all("grp_0123456789abcdef", "bob");

  /** Decodes through a channel like the pipeline does, so reference counting is checked too. */
  static InboundFrame decode(Subprotocol p, byte[] bytes) {
    WebSocketFrame frame =
        p.binary()
            ? new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes))
            : new TextWebSocketFrame(Unpooled.wrappedBuffer(bytes));
    EmbeddedChannel ch = new EmbeddedChannel(new FrameCodec(p));
    ch.writeInbound(frame);
    InboundFrame in = ch.readInbound();
    assertThat(ch.finish()).isFalse();
    if (bytes.length > 0) {
      // (An empty wrapped buffer is the shared EMPTY_BUFFER, whose count never drops.)
      assertThat(frame.refCnt()).as("decoder releases the frame").isZero();
    }
    assertThat(in).isNotNull();
    if (in instanceof InboundFrame.Malformed m) {
      assertThat(m.reason().length()).as("reason is bounded").isLessThanOrEqualTo(210);
    }
    return in;
  }

  @Property(tries = 1000)
  void randomBytesNeverThrowInEitherSubprotocol(
      @ForAll @Size(max = 512) byte[] bytes, @ForAll Subprotocol subprotocol) {
    decode(subprotocol, bytes);
  }

  @Property(tries = 1000)
  void truncatedValidFramesDecodeOrAreMalformed(
      @ForAll("seedIndex") int seed, @ForAll @IntRange(min = 0, max = 400) int length, @ForAll Subprotocol p) {
    ClientFrame f = SEEDS.get(seed);
    byte[] full = p.binary() ? f.toByteArray() : FrameSeeds.json(f);
    InboundFrame in = decode(p, FrameSeeds.truncate(full, length));
    if (length >= full.length) {
      assertThat(in).isEqualTo(new InboundFrame.Decoded(f));
    }
  }

  @Property(tries = 1500)
  void bitFlippedValidFramesDecodeOrAreMalformed(
      @ForAll("seedIndex") int seed,
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 100_000) Integer> bits,
      @ForAll Subprotocol p) {
    ClientFrame f = SEEDS.get(seed);
    byte[] full = p.binary() ? f.toByteArray() : FrameSeeds.json(f);
    decode(p, FrameSeeds.flipBits(full, bits));
  }

  @Property(tries = 500)
  void validFramesWithARandomByteDecodeOrAreMalformed(
      @ForAll("seedIndex") int seed, @ForAll int position, @ForAll byte value, @ForAll Subprotocol p) {
    ClientFrame f = SEEDS.get(seed);
    byte[] full = p.binary() ? f.toByteArray() : FrameSeeds.json(f);
    decode(p, FrameSeeds.setByte(full, position, value));
  }

  @Property(tries = 300)
  void hostileJsonIsMalformedOrDecodes(@ForAll("hostileJson") byte[] json) {
    decode(Subprotocol.JSON, json);
  }

  @Property(tries = 300)
  void unknownFieldsAreIgnoredInJson(
      @ForAll("seedIndex") int seed, @ForAll("fieldName") String name, @ForAll("jsonValue") String value) {
    ClientFrame f = SEEDS.get(seed);
    String json = new String(FrameSeeds.json(f), StandardCharsets.UTF_8);
    String withUnknown = "{\"zz" + name + "\":" + value + "," + json.substring(json.indexOf('{') + 1);
    assertThat(decode(Subprotocol.JSON, withUnknown.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(new InboundFrame.Decoded(f));
  }

  @Example
  void deeplyNestedJsonIsMalformedNotAStackOverflow() {
    for (String open : List.of("[", "{\"a\":", "{\"requestId\":1,\"sendMessage\":")) {
      String deep = open.repeat(100_000);
      assertThat(decode(Subprotocol.JSON, deep.getBytes(StandardCharsets.UTF_8)))
          .as("nesting with %s", open)
          .isInstanceOf(InboundFrame.Malformed.class);
    }
  }

  @Example
  void deeplyNestedProtobufIsMalformedNotAStackOverflow() {
    // Field 10 (authenticate), length-delimited, repeated: a message nested 100k deep.
    byte[] bytes = new byte[200_000];
    for (int i = 0; i < bytes.length; i += 2) {
      bytes[i] = 0x52;
      bytes[i + 1] = (byte) 0x7f;
    }
    assertThat(decode(Subprotocol.PROTO, bytes)).isInstanceOf(InboundFrame.Malformed.class);
  }

  @Example
  void hugeNumbersAndWrongTypesAreMalformed() {
    for (String json :
        List.of(
            "{\"requestId\":1e400}",
            "{\"requestId\":18446744073709551616}",
            "{\"requestId\":-1}",
            "{\"requestId\":\"" + "9".repeat(5000) + "\"}",
            "{\"requestId\":1,\"ping\":{\"clientTimeMs\":1" + "0".repeat(100_000) + "}}",
            "{\"requestId\":1.5}",
            "{\"requestId\":true}",
            "{\"requestId\":1,\"ping\":[]}",
            "{\"requestId\":1,\"sendMessage\":5}",
            "{\"requestId\":1,\"sendMessage\":{\"body\":\"not base64!!\"}}",
            "{\"requestId\":1,\"ping\":{},\"getProfile\":{}}",
            "[1,2,3]",
            "\"just a string\"",
            "",
            "null")) {
      assertThat(decode(Subprotocol.JSON, json.getBytes(StandardCharsets.UTF_8)))
          .as(json.length() > 80 ? json.substring(0, 80) : json)
          .isInstanceOf(InboundFrame.Malformed.class);
    }
  }

  @Example
  void unknownEnumNamesInJsonAreIgnoredLikeUnknownFields() {
    // ignoringUnknownFields() also skips unknown enum names: the field keeps its default value,
    // which the services reject (e.g. PRESENCE_STATUS_UNSPECIFIED is a BAD_REQUEST).
    InboundFrame in =
        decode(
            Subprotocol.JSON,
            "{\"requestId\":1,\"setPresence\":{\"status\":\"NO_SUCH_STATUS\"}}".getBytes(StandardCharsets.UTF_8));
    assertThat(((InboundFrame.Decoded) in).frame().getSetPresence().getStatusValue()).isZero();
  }

  @Example
  void duplicateJsonKeysDecodeWithTheLastValue() {
    // protobuf's JsonFormat parses with Gson, whose object keeps the last duplicate; the binary
    // encoding has the same rule for repeated scalar fields, so both subprotocols agree.
    InboundFrame in = decode(Subprotocol.JSON, "{\"requestId\":1,\"requestId\":2}".getBytes(StandardCharsets.UTF_8));
    assertThat(((InboundFrame.Decoded) in).frame().getRequestId()).isEqualTo(2);
  }

  @Example
  void invalidUtf8InJsonStringsDoesNotThrow() {
    byte[] prefix = "{\"requestId\":1,\"getProfile\":{\"userId\":\"".getBytes(StandardCharsets.UTF_8);
    byte[] suffix = "\"}}".getBytes(StandardCharsets.UTF_8);
    for (byte[] bad : List.of(new byte[] {(byte) 0xc3}, new byte[] {(byte) 0xff, (byte) 0xfe},
        new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, new byte[] {0})) {
      byte[] json = new byte[prefix.length + bad.length + suffix.length];
      System.arraycopy(prefix, 0, json, 0, prefix.length);
      System.arraycopy(bad, 0, json, prefix.length, bad.length);
      System.arraycopy(suffix, 0, json, prefix.length + bad.length, suffix.length);
      decode(Subprotocol.JSON, json);
    }
  }

  @Provide
  Arbitrary<Integer> seedIndex() {
    return Arbitraries.integers().between(0, SEEDS.size() - 1);
  }

  @Provide
  Arbitrary<String> fieldName() {
    return Arbitraries.strings().alpha().numeric().ofMaxLength(12);
  }

  @Provide
  Arbitrary<String> jsonValue() {
    return Arbitraries.oneOf(
        Arbitraries.longs().map(String::valueOf),
        Arbitraries.strings().alpha().ofMaxLength(10).map(s -> "\"" + s + "\""),
        Arbitraries.of("null", "true", "[]", "{}", "[1,{\"a\":[null]}]", "1e400", "{\"x\":{\"y\":{}}}"));
  }

  @Provide
  Arbitrary<byte[]> hostileJson() {
    Arbitrary<String> tokens =
        Arbitraries.of(
            "{", "}", "[", "]", ":", ",", "\"requestId\"", "\"sendMessage\"", "\"ping\"", "\"body\"",
            "\"conversationId\"", "\"x\"", "1", "-0", "1e999", "99999999999999999999999999", "0.5",
            "true", "null", "\"\\u0000\"", "\"\\ud800\"", "\"AAAA\"", " ");
    Arbitrary<String> structured = tokens.list().ofMaxSize(60).map(l -> String.join("", l));
    Arbitrary<String> nested =
        Arbitraries.integers()
            .between(1, 5000)
            .flatMap(n -> Arbitraries.of("[", "{\"a\":", "{\"requestId\":1,\"ping\":").map(s -> s.repeat(n)));
    return Arbitraries.oneOf(
        structured.map(s -> s.getBytes(StandardCharsets.UTF_8)),
        nested.map(s -> s.getBytes(StandardCharsets.UTF_8)),
        Arbitraries.bytes().array(byte[].class).ofMaxSize(200));
  }
}
