package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.server.store.StoreUnavailableException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Tables that must list rows of many keys in key order (users by id, outbox lanes, dead letters)
 * spread them over a fixed number of shard partitions, {@code shard = hash(key) mod n}, clustered by
 * the key; a listing reads the next page of every shard in parallel and merges them. This keeps
 * partitions bounded without giving up a global order. Shard counts are part of the on-disk format.
 * Stateless and thread-safe.
 */
final class Shards {
  private Shards() {}

  /** The shard of a key: stable across JVMs because String.hashCode is specified. */
  static int of(String key, int shards) {
    return Math.floorMod(key.hashCode(), shards);
  }

  /**
   * Runs one query per shard (each already bound with its {@code LIMIT}, at most {@code limit} rows),
   * merges the rows in {@code order} and returns the first {@code limit}.
   */
  static <T> List<T> merge(
      Cql cql,
      List<BoundStatement> perShard,
      Function<Row, T> mapper,
      Comparator<? super T> order,
      int limit) {
    List<CompletableFuture<List<T>>> pages = new ArrayList<>(perShard.size());
    try {
      for (BoundStatement statement : perShard) {
        // The page size is the limit, so the first page is the shard's whole answer.
        pages.add(
            cql.session()
                .executeAsync(statement.setPageSize(Math.max(1, limit)))
                .thenApply(rs -> firstPage(rs, mapper))
                .toCompletableFuture());
      }
      List<T> all = new ArrayList<>();
      for (CompletableFuture<List<T>> page : pages) {
        all.addAll(page.join());
      }
      all.sort(order);
      return all.size() <= limit ? all : List.copyOf(all.subList(0, limit));
    } catch (CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new StoreUnavailableException("read failed: " + cause.getMessage(), cause);
    } catch (IllegalStateException | DriverException e) {
      throw new StoreUnavailableException("read failed: " + e.getMessage(), e);
    }
  }

  private static <T> List<T> firstPage(AsyncResultSet rs, Function<Row, T> mapper) {
    List<T> out = new ArrayList<>();
    for (Row row : rs.currentPage()) {
      out.add(mapper.apply(row));
    }
    return out;
  }
}
