package io.parley.client.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single thread that runs application code for one client: listener callbacks, the token
 * provider and the completion of every future the client returns. One thread keeps callbacks in
 * order and lets the application treat them as sequential; keeping them off the network thread
 * means a slow callback can never stall the connection. Thread-safe.
 */
public final class CallbackExecutor {
  private static final Logger log = LoggerFactory.getLogger(CallbackExecutor.class);

  private final ExecutorService executor;

  public CallbackExecutor(String threadName) {
    this.executor =
        new ThreadPoolExecutor(
            1,
            1,
            0L,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
  }

  /** Runs application code; an exception it throws is logged, never propagated. */
  public void execute(Runnable task) {
    try {
      executor.execute(
          () -> {
            try {
              task.run();
            } catch (RuntimeException | Error e) {
              log.warn("Parley client callback threw", e);
            }
          });
    } catch (RejectedExecutionException e) {
      log.debug("callback dropped: the client is closed");
    }
  }

  public <T> void complete(CompletableFuture<T> future, T value) {
    execute(() -> future.complete(value));
  }

  public void fail(CompletableFuture<?> future, Throwable error) {
    execute(() -> future.completeExceptionally(error));
  }

  /** Lets queued tasks finish, then stops the thread. */
  public void shutdown() {
    executor.shutdown();
  }
}
