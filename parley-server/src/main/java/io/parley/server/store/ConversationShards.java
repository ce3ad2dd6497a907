package io.parley.server.store;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The cluster's fixed division of conversations into shards, the unit of engine ownership: the
 * command topic has one partition per shard (a gateway sends a conversation's commands to the
 * partition of its shard), and every user's change feed is split into one feed per shard, so that
 * the engine owning a shard is the only writer of that shard's feeds. The count never changes for
 * the life of a store (the Cassandra store records it and refuses to open with another); the
 * embedded store has one shard.
 *
 * <p>The shard of an id is CRC32C of its UTF-8 bytes modulo the count: a checksum specified by RFC
 * 3720 and built into the JDK, so every process of every version maps an id to the same shard.
 *
 * @param count number of shards, at least 1
 */
public record ConversationShards(int count) {
  /** The most shards a store supports (sync cursors carry one position per shard). */
  public static final int MAX = 1024;

  /** One shard: the embedded single-process store. */
  public static final ConversationShards SINGLE = new ConversationShards(1);

  public ConversationShards {
    if (count < 1 || count > MAX) {
      throw new IllegalArgumentException("shard count must be in [1, " + MAX + "], got " + count);
    }
  }

  /** The shard of a conversation (or of any other routing key, such as a user id). */
  public int of(String id) {
    if (count == 1) {
      return 0;
    }
    CRC32C crc = new CRC32C();
    crc.update(id.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % count);
  }
}
