package io.parley.server.bus.kafka;

import io.parley.server.config.ParleyConfig;
import io.parley.server.core.DaemonThreads;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets exactly one process of a cluster deliver the notification outbox, however many run the
 * notify role: the dispatcher assumes it is alone (two would attempt the same jobs), so each
 * notify process waits for the notify {@link RoleLease} on its own thread and starts delivering
 * only once it holds it; the others stand by and take over when the holder stops or falls silent.
 * A holder that loses the lease (it was paused or cut off, and a standby fenced it) stops
 * delivering and stands by again; attempts it had in hand may still finish (receivers see the
 * stable delivery id if one is sent twice). The rest of the process (an engine, a gateway) is not
 * affected. Thread-safe.
 */
public final class NotifyLeader implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NotifyLeader.class);

  private final KafkaSettings settings;
  private final Runnable startDelivering;
  private final Runnable stopDelivering;
  private final Thread waiter;
  private volatile boolean running = true;
  private volatile RoleLease lease;

  private NotifyLeader(
      KafkaSettings settings, Runnable startDelivering, Runnable stopDelivering) {
    this.settings = settings;
    this.startDelivering = startDelivering;
    this.stopDelivering = stopDelivering;
    this.waiter = DaemonThreads.thread(this::lead, "parley-notify-leader");
  }

  /**
   * Starts waiting for the notify lease; returns at once.
   *
   * @param startDelivering called on the leader's thread each time this process takes the lease
   * @param stopDelivering called on the leader's thread each time another process took the lease
   *     from this one (this process then stands by again)
   */
  public static NotifyLeader start(
      KafkaSettings settings, Runnable startDelivering, Runnable stopDelivering) {
    NotifyLeader leader =
        new NotifyLeader(
            Objects.requireNonNull(settings, "settings"),
            Objects.requireNonNull(startDelivering, "startDelivering"),
            Objects.requireNonNull(stopDelivering, "stopDelivering"));
    leader.waiter.start();
    return leader;
  }

  /** True while this process holds the notify lease (and so delivers). */
  public boolean isLeading() {
    RoleLease l = lease;
    return l != null && l.isHeld();
  }

  private void lead() {
    while (running) {
      CountDownLatch lost = new CountDownLatch(1);
      Optional<RoleLease> taken =
          RoleLease.acquireWhenFree(
              settings, ParleyConfig.Role.NOTIFY, lost::countDown, () -> !running);
      if (taken.isEmpty()) {
        return;
      }
      lease = taken.get();
      if (!running) {
        lease.close();
        return;
      }
      log.info("this process delivers the notification outbox (it holds the notify lease)");
      startDelivering.run();
      if (!awaitLoss(lost)) {
        return; // closed: close() gives the lease up
      }
      log.warn("another process took the notify lease: this one stops delivering and stands by");
      stopDelivering.run();
      lease = null;
    }
  }

  /** Waits until the lease is lost (true) or this leader is closed (false). */
  private boolean awaitLoss(CountDownLatch lost) {
    try {
      while (running) {
        if (lost.await(200, TimeUnit.MILLISECONDS)) {
          return true;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  /** Stops waiting, or gives the lease up (a standby takes over at once). */
  @Override
  public void close() {
    running = false;
    try {
      waiter.join(15_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    RoleLease l = lease;
    if (l != null) {
      l.close();
    }
  }
}
