package io.parley.server.bus;

import java.util.function.Consumer;

/**
 * Moves {@link BusMessage}s from the messaging engine to every gateway. Messages about one
 * conversation are delivered to each subscriber in publication order. The in-process
 * implementation lives in {@code bus.local}; a Kafka one will live in {@code bus.kafka}.
 * Implementations are thread-safe.
 */
public interface EventBus extends AutoCloseable {

  /** Publishes a message; never blocks on subscribers' I/O. */
  void publish(BusMessage message);

  /**
   * Registers a listener. Listeners must be quick and non-blocking (hand work to event loops);
   * closing the returned handle unsubscribes.
   */
  AutoCloseable subscribe(Consumer<BusMessage> listener);

  @Override
  void close();
}
