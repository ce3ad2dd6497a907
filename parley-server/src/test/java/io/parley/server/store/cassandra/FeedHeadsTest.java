package io.parley.server.store.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FeedHeadsTest {
  private final Map<String, Long> disk = new HashMap<>(Map.of("alice", 7L, "bob", 2L));
  private final List<String> singleReads = new ArrayList<>();
  private final List<List<String>> bulkReads = new ArrayList<>();
  private final FeedHeads<String> heads =
      new FeedHeads<>(
          id -> {
            singleReads.add(id);
            return disk.getOrDefault(id, 0L);
          },
          ids -> {
            bulkReads.add(List.copyOf(ids));
            Map<String, Long> out = new HashMap<>();
            ids.forEach(id -> out.put(id, disk.getOrDefault(id, 0L)));
            return out;
          },
          100);

  @Test
  void seqsContinueFromTheCommittedHeadAndAreCachedAfterCommit() {
    assertThat(heads.next("alice")).isEqualTo(8);
    assertThat(heads.next("alice")).isEqualTo(9);
    assertThat(heads.next("carol")).isEqualTo(1);
    heads.commit();

    assertThat(heads.next("alice")).isEqualTo(10);
    assertThat(singleReads).containsExactly("alice", "carol");
  }

  @Test
  void rollbackForgetsPendingSeqsAndRereadsTheDisk() {
    heads.next("alice");
    heads.commit();
    heads.next("alice");

    heads.rollback();

    assertThat(heads.next("alice")).isEqualTo(8);
    assertThat(singleReads).containsExactly("alice", "alice");
  }

  @Test
  void preloadReadsUnknownHeadsInOneBulkRead() {
    heads.next("alice");

    heads.preload(List.of("alice", "bob", "carol", "bob"));

    assertThat(bulkReads).containsExactly(List.of("bob", "carol"));
    assertThat(heads.next("bob")).isEqualTo(3);
    assertThat(heads.next("carol")).isEqualTo(1);
    assertThat(heads.next("alice")).isEqualTo(9);
    assertThat(singleReads).containsExactly("alice");
  }
}
