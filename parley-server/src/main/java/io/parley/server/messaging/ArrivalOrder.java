package io.parley.server.messaging;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Hands commands of one conversation to the sequencer in the order they arrived although each
 * first waits for an asynchronous check (the before-send hook) whose answers may come back in
 * any order: a client that pipelines two sends gets them sequenced in the order it sent them,
 * as without a hook. The checks themselves run concurrently; only the hand-over waits for the
 * previous command's hand-over. Keeps one entry per conversation with a command in flight.
 * Thread-safe.
 */
final class ArrivalOrder {
  private final ConcurrentHashMap<String, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();

  /**
   * Runs {@code handOver} with the check's result once the check is done and every earlier
   * command of {@code key} was handed over (or failed its check). Call on the arrival thread, in
   * arrival order.
   */
  <C, T> CompletableFuture<T> inOrder(
      String key, CompletableFuture<C> check, Function<C, CompletableFuture<T>> handOver) {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> previous = tails.put(key, mine);
    CompletableFuture<Void> before =
        previous == null ? CompletableFuture.completedFuture(null) : previous;
    CompletableFuture<T> out = new CompletableFuture<>();
    check.whenComplete(
        (checked, error) ->
            before.whenComplete(
                (ignored, ignoredError) -> {
                  try {
                    if (error != null) {
                      out.completeExceptionally(error);
                    } else {
                      handOver
                          .apply(checked)
                          .whenComplete(
                              (v, e) -> {
                                if (e == null) {
                                  out.complete(v);
                                } else {
                                  out.completeExceptionally(e);
                                }
                              });
                    }
                  } catch (Throwable t) {
                    out.completeExceptionally(t);
                  } finally {
                    mine.complete(null);
                    tails.remove(key, mine);
                  }
                }));
    return out;
  }
}
