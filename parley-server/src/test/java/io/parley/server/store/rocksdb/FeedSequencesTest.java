package io.parley.server.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FeedSequencesTest {
  private final Map<String, Long> disk = new HashMap<>();
  private final List<String> loads = new ArrayList<>();
  private final FeedSequences seqs =
      new FeedSequences(
          user -> {
            loads.add(user);
            return disk.getOrDefault(user, 0L);
          },
          2);

  @Test
  void continuesFromTheLastSeqOnDiskAndLoadsItOnlyOnce() {
    disk.put("a", 41L);

    assertThat(seqs.next("a")).isEqualTo(42);
    assertThat(seqs.next("a")).isEqualTo(43);
    seqs.commit();
    assertThat(seqs.next("a")).isEqualTo(44);
    assertThat(seqs.next("b")).isEqualTo(1);
    assertThat(loads).containsExactly("a", "b");
  }

  @Test
  void rollbackDiscardsTheBatchAndRereadsFromDisk() {
    assertThat(seqs.next("a")).isEqualTo(1);
    seqs.commit();
    disk.put("a", 1L);
    assertThat(seqs.next("a")).isEqualTo(2);
    assertThat(seqs.next("a")).isEqualTo(3);

    seqs.rollback();

    assertThat(seqs.next("a")).isEqualTo(2);
    assertThat(loads).containsExactly("a", "a");
  }

  @Test
  void evictedUsersAreReloadedFromDisk() {
    seqs.next("a");
    seqs.next("b");
    seqs.next("c");
    seqs.commit();
    disk.put("a", 1L);
    disk.put("b", 1L);
    disk.put("c", 1L);
    loads.clear();

    assertThat(seqs.next("c")).isEqualTo(2);
    assertThat(seqs.next("a")).isEqualTo(2);
    assertThat(loads).containsExactly("a");
  }
}
