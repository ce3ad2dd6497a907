package io.parley.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ConversationShardsTest {
  @Property(tries = 500)
  void everyIdMapsIntoRangeAndAlwaysToTheSameShard(
      @ForAll String id, @ForAll @IntRange(min = 1, max = ConversationShards.MAX) int count) {
    int shard = new ConversationShards(count).of(id);

    assertThat(shard).isBetween(0, count - 1);
    assertThat(new ConversationShards(count).of(id)).isEqualTo(shard);
  }

  /**
   * The mapping is part of the on-disk format (feeds are laid out by shard) and of the cluster's
   * routing: these values must never change between versions.
   */
  @Test
  void theMappingIsStable() {
    ConversationShards sixteen = new ConversationShards(16);

    assertThat(sixteen.of("")).isZero();
    assertThat(sixteen.of("alice")).isEqualTo(goldenOf("alice", 16));
    assertThat(ConversationShards.SINGLE.of("anything")).isZero();
    // CRC32C("123456789") = 0xE3069283, the check value of RFC 3720 (iSCSI) appendix B.4.
    assertThat(new ConversationShards(1000).of("123456789")).isEqualTo((int) (0xE3069283L % 1000));
  }

  @Test
  void idsSpreadEvenlyOverTheShards() {
    int count = 16;
    int ids = 16_000;
    int[] perShard = new int[count];
    ConversationShards shards = new ConversationShards(count);
    for (int i = 0; i < ids; i++) {
      perShard[shards.of("conv-" + i)]++;
    }
    for (int n : perShard) {
      assertThat(n).isBetween(ids / count * 8 / 10, ids / count * 12 / 10);
    }
  }

  @Test
  void countsOutsideTheSupportedRangeAreRejected() {
    assertThatThrownBy(() -> new ConversationShards(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ConversationShards(ConversationShards.MAX + 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static int goldenOf(String id, int count) {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(id.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return (int) (crc.getValue() % count);
  }
}
