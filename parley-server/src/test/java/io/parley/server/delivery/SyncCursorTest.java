package io.parley.server.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.server.core.ParleyException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class SyncCursorTest {
  @Property(tries = 300)
  void feedCursorsRoundTrip(@ForAll("positions") long[] positions) {
    SyncCursor feed = SyncCursor.feed(positions);

    SyncCursor parsed = SyncCursor.parse(feed.format(), positions.length);

    assertThat(parsed).isEqualTo(feed);
    assertThat(parsed.positionArray()).containsExactly(positions);
    assertThat(parsed.listing()).isFalse();
  }

  @Property(tries = 300)
  void listingCursorsRoundTrip(
      @ForAll("positions") long[] heads, @ForAll @StringLength(min = 1, max = 40) String after) {
    SyncCursor listing = SyncCursor.listing(heads, after);

    assertThat(SyncCursor.parse(listing.format(), heads.length)).isEqualTo(listing);
  }

  @Property(tries = 300)
  void aVectorOfAnotherLengthIsRejected(
      @ForAll("positions") long[] positions, @ForAll @IntRange(min = 1, max = 70) int shards) {
    String text = SyncCursor.feed(positions).format();
    if (shards == positions.length) {
      assertThat(SyncCursor.parse(text, shards).positionArray()).containsExactly(positions);
    } else {
      assertThatThrownBy(() -> SyncCursor.parse(text, shards))
          .isInstanceOf(ParleyException.class);
    }
  }

  /** Random text never gets past the parser as anything but a cursor or BAD_REQUEST. */
  @Property(tries = 1000)
  void randomTextIsACursorOrBadRequest(
      @ForAll @StringLength(max = 60) String tail, @ForAll @IntRange(min = 1, max = 16) int shards) {
    for (String text : new String[] {tail, "f2." + tail, "l2." + tail, "f1." + tail}) {
      try {
        SyncCursor c = SyncCursor.parse(text, shards);
        assertThat(c.isStart() || c.positions().size() == shards).isTrue();
      } catch (ParleyException e) {
        assertThat(e.getMessage()).contains("invalid sync cursor");
      }
    }
  }

  @Provide
  Arbitrary<long[]> positions() {
    Arbitrary<Long> position =
        Arbitraries.oneOf(
            Arbitraries.longs().between(0, 1_000_000),
            Arbitraries.longs().between(Long.MAX_VALUE - 5, Long.MAX_VALUE));
    return Arbitraries.integers()
        .between(1, 64)
        .flatMap(n -> position.array(long[].class).ofSize(n));
  }

  @Test
  void theEmptyCursorStartsTheListing() {
    assertThat(SyncCursor.parse("", 4)).isEqualTo(SyncCursor.START);
    assertThat(SyncCursor.START.isStart()).isTrue();
  }

  @Test
  void unshardedCursorsKeepTheirMeaningWithOneShardAndRestartTheListingWithMore() {
    String after = Base64.getUrlEncoder().withoutPadding()
        .encodeToString("g1".getBytes(StandardCharsets.UTF_8));

    assertThat(SyncCursor.parse("f1.42", 1)).isEqualTo(SyncCursor.feed(new long[] {42}));
    assertThat(SyncCursor.parse("l1.7." + after, 1))
        .isEqualTo(SyncCursor.listing(new long[] {7}, "g1"));
    assertThat(SyncCursor.parse("f1.42", 16)).isEqualTo(SyncCursor.START);
    assertThat(SyncCursor.parse("l1.7." + after, 16)).isEqualTo(SyncCursor.START);
  }

  @Test
  void garbageIsRejected() {
    String[] bad = {
      "x", "f1", "f1.a", "f1.1.2", "l1.1", "l1.x.YQ", "l1.1.Y Q", "F1.1", " f1.1", "f1.1 ", "l1.1.==",
      "f2", "f2.", "f2.!!", "f2.AQ.", "l2.AQ", "l2.AQ.", "f2.AQ==", "f2.gICAgICAgICAgAE",
      "f2." + "A".repeat(20_000)
    };
    for (String text : bad) {
      assertThatThrownBy(() -> SyncCursor.parse(text, 1)).as(text).isInstanceOf(ParleyException.class);
    }
    // Two positions where the store has one shard, and a truncated varint.
    assertThatThrownBy(() -> SyncCursor.parse("f2.AQI", 1)).isInstanceOf(ParleyException.class);
    assertThatThrownBy(() -> SyncCursor.parse("f2.gA", 1)).isInstanceOf(ParleyException.class);
  }
}
