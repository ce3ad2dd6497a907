package io.parley.server.bus.kafka;

import io.parley.server.config.ParleyConfig;
import io.parley.server.core.DaemonThreads;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets exactly one process of a cluster deliver the notification outbox, however many run the
 * notify role: the dispatcher assumes it is alone (two would attempt the same jobs), so each
 * notify process waits for the notify {@link RoleLease} on its own thread and starts delivering
 * only once it holds it; the others stand by and take over when the holder stops or falls silent.
 * A holder that loses the lease (it was paused or cut off, and a standby fenced it) calls {@code
 * onLost}: the process must stop, since its dispatcher may have jobs in hand (receivers see the
 * stable delivery id if one is sent twice). In an engine process the leader starts only once the
 * engine is active, because its store writes only then. Thread-safe.
 */
public final class NotifyLeader implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NotifyLeader.class);

  private final KafkaSettings settings;
  private final Runnable startDelivering;
  private final Runnable onLost;
  private final Thread waiter;
  private volatile boolean running = true;
  private volatile RoleLease lease;

  private NotifyLeader(KafkaSettings settings, Runnable startDelivering, Runnable onLost) {
    this.settings = settings;
    this.startDelivering = startDelivering;
    this.onLost = onLost;
    this.waiter = DaemonThreads.thread(this::lead, "parley-notify-leader");
  }

  /**
   * Starts waiting for the notify lease; returns at once.
   *
   * @param startDelivering called once, on the leader's thread, when this process holds the lease
   * @param onLost called once when another process took the lease from this one
   */
  public static NotifyLeader start(
      KafkaSettings settings, Runnable startDelivering, Runnable onLost) {
    NotifyLeader leader =
        new NotifyLeader(
            Objects.requireNonNull(settings, "settings"),
            Objects.requireNonNull(startDelivering, "startDelivering"),
            Objects.requireNonNull(onLost, "onLost"));
    leader.waiter.start();
    return leader;
  }

  /** True while this process holds the notify lease (and so delivers). */
  public boolean isLeading() {
    RoleLease l = lease;
    return l != null && l.isHeld();
  }

  private void lead() {
    Optional<RoleLease> taken =
        RoleLease.acquireWhenFree(settings, ParleyConfig.Role.NOTIFY, onLost, () -> !running);
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
