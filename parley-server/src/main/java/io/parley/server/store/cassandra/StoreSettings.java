package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;

/**
 * Settings fixed for the life of a keyspace, in {@code store_settings}: the first server to open
 * the keyspace records them with a lightweight transaction ({@code IF NOT EXISTS}, so two servers
 * starting together agree on one value), and every later start compares its configuration with
 * the record. Today the only one is the conversation shard count: the feeds are laid out by shard,
 * so opening a keyspace with another count would silently hide entries from sync.
 */
final class StoreSettings {
  static final String SHARD_COUNT = "conversation_shards";

  private StoreSettings() {}

  /**
   * Records {@code shards} on first use, else checks it against the record.
   *
   * @throws IllegalStateException if the keyspace was created with another shard count
   */
  static void requireShardCount(CqlSession session, String keyspace, int shards) {
    ResultSet result =
        session.execute(
            SimpleStatement.newInstance(
                    "INSERT INTO " + keyspace + ".store_settings (name, value) VALUES (?, ?)"
                        + " IF NOT EXISTS",
                    SHARD_COUNT,
                    Integer.toString(shards))
                .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
                .setSerialConsistencyLevel(ConsistencyLevel.LOCAL_SERIAL));
    if (result.wasApplied()) {
      return;
    }
    Row existing = result.one();
    String recorded = existing == null ? null : existing.getString("value");
    if (!Integer.toString(shards).equals(recorded)) {
      throw new IllegalStateException(
          "keyspace "
              + keyspace
              + " was created with "
              + recorded
              + " conversation shards, but cluster.kafka.command_partitions is "
              + shards
              + ": the shard count is fixed for the life of a cluster (set it back to "
              + recorded
              + ")");
    }
  }
}
