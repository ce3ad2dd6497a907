package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.server.store.UserRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The {@code users} table: {@code PRIMARY KEY ((shard), user_id)} with {@code shard = hash(user_id)
 * mod }{@value #SHARDS}. Sharding keeps partitions bounded while still letting {@link #list} return
 * every user in id order: it reads the next page of each shard in parallel and merges them
 * ({@link Shards}).
 * Thread-safe.
 */
final class UsersTable {
  /** Number of user partitions; part of the on-disk format. */
  static final int SHARDS = 32;

  private static final String COLUMNS =
      "user_id, display_name, avatar_url, deactivated, created_at_ms, updated_at_ms";

  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement select;
  private final PreparedStatement page;

  UsersTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.users (shard, " + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)"
                + " USING TIMESTAMP ?");
    this.select =
        cql.prepare("SELECT " + COLUMNS + " FROM ${ks}.users WHERE shard = ? AND user_id = ?");
    this.page =
        cql.prepare(
            "SELECT " + COLUMNS + " FROM ${ks}.users WHERE shard = ? AND user_id > ? LIMIT ?");
  }

  /** The shard of a user id: stable across JVMs because String.hashCode is specified. */
  static int shard(String userId) {
    return Shards.of(userId, SHARDS);
  }

  void put(List<BatchableStatement<?>> batch, UserRecord u, long timestamp) {
    batch.add(
        Cql.bind(
            insert,
            shard(u.userId()),
            u.userId(),
            u.displayName(),
            u.avatarUrl(),
            u.deactivated(),
            u.createdAtMs(),
            u.updatedAtMs(),
            timestamp));
  }

  Optional<UserRecord> get(String userId) {
    Ids.check(userId);
    return Optional.ofNullable(cql.one(Cql.bind(select, shard(userId), userId)))
        .map(UsersTable::user);
  }

  /** Users ordered by id (code point order) strictly after {@code afterUserId}. */
  List<UserRecord> list(String afterUserId, int limit) {
    List<BoundStatement> shards = new ArrayList<>(SHARDS);
    for (int shard = 0; shard < SHARDS; shard++) {
      shards.add(Cql.bind(page, shard, afterUserId, limit));
    }
    return Shards.merge(
        cql,
        shards,
        UsersTable::user,
        Comparator.comparing(UserRecord::userId, Ids.CODE_POINT_ORDER),
        limit);
  }

  private static UserRecord user(Row r) {
    return new UserRecord(
        r.getString("user_id"),
        r.getString("display_name"),
        r.getString("avatar_url"),
        r.getBoolean("deactivated"),
        r.getLong("created_at_ms"),
        r.getLong("updated_at_ms"));
  }
}
