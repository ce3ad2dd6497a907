package io.parley.server.core;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread factories for the server's own background threads. They are daemons so that a thread a
 * component forgot to stop never keeps the JVM alive after the composition root has shut down;
 * every component still stops its threads in {@code close()}. Hand-written because Java 17 has no
 * thread builder ({@code Thread.ofPlatform()} arrived in 21) and the one in Netty names threads
 * after a pool counter, which makes thread dumps harder to read. Thread-safe.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** Threads all named {@code name}: for single-thread executors. */
  public static ThreadFactory named(String name) {
    return r -> daemon(r, name);
  }

  /** Threads named {@code prefix1}, {@code prefix2}, …: for pools. */
  public static ThreadFactory numbered(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> daemon(r, prefix + n.incrementAndGet());
  }

  /** One daemon thread running {@code task}, not yet started. */
  public static Thread thread(Runnable task, String name) {
    return daemon(task, name);
  }

  private static Thread daemon(Runnable task, String name) {
    Thread t = new Thread(task, name);
    t.setDaemon(true);
    return t;
  }
}
