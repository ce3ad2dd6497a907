package io.parley.server.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.server.core.ParleyException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SyncCursorTest {
  @Test
  void cursorsRoundTrip() {
    Random rnd = new Random(7);
    for (int i = 0; i < 500; i++) {
      long seq = rnd.nextInt(3) == 0 ? Long.MAX_VALUE - rnd.nextInt(5) : Math.abs(rnd.nextLong() % 1_000_000);
      SyncCursor feed = SyncCursor.feed(seq);
      assertThat(SyncCursor.parse(feed.format())).isEqualTo(feed);
      StringBuilder id = new StringBuilder();
      int len = 1 + rnd.nextInt(40);
      for (int j = 0; j < len; j++) {
        id.appendCodePoint(rnd.nextInt(3) == 0 ? 0x4e00 + rnd.nextInt(500) : 'a' + rnd.nextInt(26));
      }
      SyncCursor listing = SyncCursor.listing(seq, id.toString());
      assertThat(SyncCursor.parse(listing.format())).isEqualTo(listing);
    }
    assertThat(SyncCursor.parse("")).isEqualTo(SyncCursor.START);
    assertThat(SyncCursor.START.isStart()).isTrue();
  }

  @Test
  void garbageIsRejected() {
    for (String bad : new String[] {"x", "f1", "f1.a", "f1.1.2", "l1.1", "l1.x.YQ", "l1.1.Y Q", "F1.1", " f1.1", "f1.1 ", "l1.1.=="}) {
      assertThatThrownBy(() -> SyncCursor.parse(bad)).as(bad).isInstanceOf(ParleyException.class);
    }
  }
}
