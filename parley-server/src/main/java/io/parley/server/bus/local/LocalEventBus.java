package io.parley.server.bus.local;

import io.parley.server.bus.BusMessage;
import io.parley.server.bus.EventBus;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-process {@link EventBus}: calls every listener synchronously on the publishing thread.
 * The engine publishes from its per-conversation sequencer lane, so messages about one
 * conversation reach listeners in order. A failing listener is logged and does not affect others.
 */
public final class LocalEventBus implements EventBus {
  private static final Logger log = LoggerFactory.getLogger(LocalEventBus.class);
  private final List<Consumer<BusMessage>> listeners = new CopyOnWriteArrayList<>();

  @Override
  public void publish(BusMessage message) {
    for (Consumer<BusMessage> l : listeners) {
      try {
        l.accept(message);
      } catch (RuntimeException e) {
        log.error("bus listener failed", e);
      }
    }
  }

  @Override
  public AutoCloseable subscribe(Consumer<BusMessage> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    listeners.clear();
  }
}
