package io.parley.server.bus.kafka;

import java.time.Duration;
import java.util.Objects;

/**
 * Timing of the interest topic's liveness protocol (docs/architecture.md, "Cluster: routing").
 *
 * @param heartbeatInterval how often gateways and engines write their heartbeat record
 * @param livenessTimeout how long a node may stay silent before engines stop routing to it (a
 *     gateway) or waiting for its acknowledgements (an engine) and tombstone its records; at least
 *     three heartbeat intervals, so one late heartbeat does not evict a healthy node
 */
public record RoutingSettings(Duration heartbeatInterval, Duration livenessTimeout) {
  /** 2 s heartbeats, 10 s timeout. */
  public static final RoutingSettings DEFAULTS =
      new RoutingSettings(Duration.ofSeconds(2), Duration.ofSeconds(10));

  public RoutingSettings {
    Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
    Objects.requireNonNull(livenessTimeout, "livenessTimeout");
    if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
      throw new IllegalArgumentException("heartbeatInterval must be positive");
    }
    if (livenessTimeout.compareTo(heartbeatInterval.multipliedBy(3)) < 0) {
      throw new IllegalArgumentException("livenessTimeout must be at least 3 heartbeat intervals");
    }
  }
}
