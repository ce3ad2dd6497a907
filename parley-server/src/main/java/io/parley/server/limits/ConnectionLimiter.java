package io.parley.server.limits;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts the open WebSocket connections per client address ({@code
 * limits.max_connections_per_ip}); a connection takes a {@link Slot} at the upgrade and gives it
 * back when it closes. Only addresses with open connections are remembered, so the map is bounded
 * by the number of open connections. Thread-safe.
 */
public final class ConnectionLimiter {
  private final int maxPerAddress;
  private final Map<String, Integer> open = new ConcurrentHashMap<>();

  public ConnectionLimiter(int maxPerAddress) {
    if (maxPerAddress < 1) {
      throw new IllegalArgumentException("maxPerAddress must be at least 1");
    }
    this.maxPerAddress = maxPerAddress;
  }

  /** A connection's place in its address's count; {@link #close} is idempotent. */
  public final class Slot implements AutoCloseable {
    private final String address;
    private final AtomicBoolean released = new AtomicBoolean();

    private Slot(String address) {
      this.address = address;
    }

    @Override
    public void close() {
      if (released.compareAndSet(false, true)) {
        open.computeIfPresent(address, (k, n) -> n <= 1 ? null : n - 1);
      }
    }
  }

  /** A slot for one more connection from the address, or null when it is at the limit. */
  public Slot tryOpen(String address) {
    boolean[] admitted = {false};
    open.compute(
        address,
        (k, n) -> {
          int current = n == null ? 0 : n;
          if (current >= maxPerAddress) {
            return n;
          }
          admitted[0] = true;
          return current + 1;
        });
    return admitted[0] ? new Slot(address) : null;
  }

  /** Open connections from the address (tests, diagnostics). */
  public int openFrom(String address) {
    return open.getOrDefault(address, 0);
  }

  public int maxPerAddress() {
    return maxPerAddress;
  }
}
