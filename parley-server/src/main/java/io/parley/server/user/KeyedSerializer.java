package io.parley.server.user;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Runs asynchronous tasks one at a time per key, in submission order, each starting after the
 * previous one's future completed (successfully or not). Used for read-modify-write of user
 * records, which are rare enough not to need pipelining. Thread-safe.
 */
final class KeyedSerializer {
  private final ConcurrentHashMap<String, CompletableFuture<?>> tails = new ConcurrentHashMap<>();
  private final Executor executor;

  KeyedSerializer(Executor executor) {
    this.executor = Objects.requireNonNull(executor, "executor");
  }

  <T> CompletableFuture<T> run(String key, Supplier<CompletableFuture<T>> task) {
    List<CompletableFuture<T>> created = new ArrayList<>(1);
    tails.compute(
        key,
        (k, prev) -> {
          CompletableFuture<?> start =
              prev == null ? CompletableFuture.completedFuture(null) : prev;
          CompletableFuture<T> next =
              start.handle((v, e) -> null).thenComposeAsync(ignored -> task.get(), executor);
          created.add(next);
          return next;
        });
    CompletableFuture<T> next = created.get(0);
    // Attached outside compute: a completion callback running inline must not touch the map
    // while compute holds the key's bin.
    next.whenComplete((v, e) -> tails.remove(key, next));
    return next.thenApply(v -> v);
  }
}
