package io.parley.server.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

class KeyCodecTest {

  // ---- round trips ----

  @Property(tries = 300)
  void idSeqKeysRoundTrip(@ForAll("ids") String id, @ForAll long seq) {
    byte[] key = KeyCodec.key(id, seq);

    assertThat(KeyCodec.decodeIdSeq(key)).isEqualTo(new KeyCodec.IdSeq(id, seq));
    assertThat(KeyCodec.trailingSeq(key)).isEqualTo(seq);
    assertThat(KeyCodec.startsWith(key, KeyCodec.prefix(id))).isTrue();
  }

  @Property(tries = 300)
  void idPairKeysRoundTrip(@ForAll("ids") String first, @ForAll("ids") String second) {
    assertThat(KeyCodec.decodeIdPair(KeyCodec.key(first, second)))
        .isEqualTo(new KeyCodec.IdPair(first, second));
  }

  @Property(tries = 300)
  void singleIdKeysRoundTrip(@ForAll("ids") String id) {
    assertThat(KeyCodec.decodeId(KeyCodec.key(id))).isEqualTo(id);
  }

  // ---- order ----

  @Property(tries = 1000)
  void idSeqByteOrderIsLogicalOrder(
      @ForAll("ids") String id1, @ForAll("seqs") long seq1,
      @ForAll("ids") String id2, @ForAll("seqs") long seq2) {
    int logical = compareCodePoints(id1, id2);
    if (logical == 0) {
      logical = Long.compareUnsigned(seq1, seq2);
    }

    int bytes = Arrays.compareUnsigned(KeyCodec.key(id1, seq1), KeyCodec.key(id2, seq2));

    assertThat(Integer.signum(bytes)).isEqualTo(Integer.signum(logical));
  }

  @Property(tries = 1000)
  void idPairByteOrderIsLogicalOrder(
      @ForAll("ids") String a1, @ForAll("ids") String b1,
      @ForAll("ids") String a2, @ForAll("ids") String b2) {
    int logical = compareCodePoints(a1, a2);
    if (logical == 0) {
      logical = compareCodePoints(b1, b2);
    }

    int bytes = Arrays.compareUnsigned(KeyCodec.key(a1, b1), KeyCodec.key(a2, b2));

    assertThat(Integer.signum(bytes)).isEqualTo(Integer.signum(logical));
  }

  @Property(tries = 1000)
  void keysOfDifferentIdsNeverInterleave(
      @ForAll("ids") String x, @ForAll("seqs") long sx,
      @ForAll("ids") String y, @ForAll("seqs") long sy) {
    Assume.that(!x.equals(y));
    byte[] keyX = KeyCodec.key(x, sx);
    byte[] keyY = KeyCodec.key(y, sy);
    byte[] prefixX = KeyCodec.prefix(x);
    byte[] endX = KeyCodec.prefixEnd(prefixX);

    // Every key of x lies in x's range, no key of y does, and which id sorts first does not
    // depend on the seqs: the ranges are disjoint and contiguous.
    assertThat(Arrays.compareUnsigned(prefixX, keyX)).isLessThanOrEqualTo(0);
    assertThat(Arrays.compareUnsigned(keyX, endX)).isLessThan(0);
    boolean yInsideX =
        Arrays.compareUnsigned(prefixX, keyY) <= 0 && Arrays.compareUnsigned(keyY, endX) < 0;
    assertThat(yInsideX).isFalse();
    assertThat(Integer.signum(Arrays.compareUnsigned(keyX, keyY)))
        .isEqualTo(Integer.signum(compareCodePoints(x, y)));
  }

  @Property(tries = 500)
  void successorIsTheSmallestGreaterKeyOfThePartition(
      @ForAll("ids") String owner, @ForAll("ids") String after, @ForAll("ids") String other) {
    byte[] successor = KeyCodec.successor(KeyCodec.key(owner, after));
    byte[] otherKey = KeyCodec.key(owner, other);

    boolean atOrAboveSuccessor = Arrays.compareUnsigned(otherKey, successor) >= 0;

    assertThat(atOrAboveSuccessor).isEqualTo(compareCodePoints(other, after) > 0);
  }

  // ---- validation ----

  @Example
  void rejectsInvalidIds() {
    String tooLong = "x".repeat(KeyCodec.MAX_ID_BYTES + 1);
    String tooManyUtf8Bytes = "\u20ac".repeat(KeyCodec.MAX_ID_BYTES / 3 + 1); // 3 bytes each
    List<String> bad =
        Arrays.asList(null, "", "a\0b", tooLong, tooManyUtf8Bytes, "a\ud800", "\udc00");
    for (String id : bad) {
      assertThatThrownBy(() -> KeyCodec.key(id))
          .as("id %s", id)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Example
  void acceptsIdsOfExactlyTheMaximumLength() {
    String max = "x".repeat(KeyCodec.MAX_ID_BYTES);

    assertThat(KeyCodec.decodeId(KeyCodec.key(max))).isEqualTo(max);
  }

  @Example
  void rejectsMalformedKeys() {
    List<byte[]> bad =
        List.of(new byte[0], new byte[] {'a'}, new byte[] {0}, new byte[] {'a', 0, 'b'});
    for (byte[] key : bad) {
      assertThatThrownBy(() -> KeyCodec.decodeId(key)).isInstanceOf(IllegalArgumentException.class);
    }
    byte[] shortSeq = Arrays.copyOf(KeyCodec.key("a", 1L), 5);
    assertThatThrownBy(() -> KeyCodec.decodeIdSeq(shortSeq))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- generators ----

  /**
   * Ids biased towards a small alphabet so that shared prefixes are common, including the
   * characters where UTF-8 byte order and UTF-16 order disagree (U+FFFF vs U+1F600) and U+0001,
   * the lowest character above the terminator.
   */
  @Provide
  Arbitrary<String> ids() {
    Arbitrary<Integer> common =
        Arbitraries.of(0x01, 0x61, 0x62, 0x7f, 0xe9, 0xffff, 0xe000, 0x1f600);
    Arbitrary<Integer> any =
        Arbitraries.integers().between(1, 0x10ffff).filter(c -> c < 0xd800 || c > 0xdfff);
    return Arbitraries.frequencyOf(Tuple.of(4, common), Tuple.of(1, any))
        .list()
        .ofMinSize(1)
        .ofMaxSize(8)
        .map(KeyCodecTest::fromCodePoints);
  }

  @Provide
  Arbitrary<Long> seqs() {
    return Arbitraries.oneOf(
        Arbitraries.longs().between(0, 300),
        Arbitraries.longs(),
        Arbitraries.of(0L, 255L, 256L, Long.MAX_VALUE, Long.MIN_VALUE, -1L));
  }

  private static String fromCodePoints(List<Integer> codePoints) {
    StringBuilder sb = new StringBuilder();
    codePoints.forEach(sb::appendCodePoint);
    return sb.toString();
  }

  /** Lexicographic order of code points: the oracle, independent of any byte encoding. */
  private static int compareCodePoints(String a, String b) {
    int[] x = a.codePoints().toArray();
    int[] y = b.codePoints().toArray();
    return Arrays.compare(x, y);
  }
}
