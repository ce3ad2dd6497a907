package io.parley.server.gateway.session;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ErrorCode;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's meters, created once at start so that hot paths only increment:
 *
 * <ul>
 *   <li>{@code parley_connections} (gauge): open WebSocket connections
 *   <li>{@code parley_requests_in_flight} (gauge): requests dispatched and not yet answered
 *   <li>{@code parley_frames_in_total}, {@code parley_frames_out_total}: WebSocket data frames
 *   <li>{@code parley_events_out_total}: log events pushed live (an event batch counts each event)
 *   <li>{@code parley_errors_total{code}}: error frames sent, by error code
 *   <li>{@code parley_request_seconds{kind}}: request latency by request kind, as a histogram
 *       with a few fixed buckets (1 ms to 5 s); {@code send_message} publishes the full percentile
 *       histogram. Every kind is a histogram because Prometheus requires one type per metric name.
 * </ul>
 *
 * Thread-safe.
 */
public final class GatewayMetrics {
  private static final Duration[] LATENCY_BUCKETS = {
    Duration.ofMillis(1),
    Duration.ofMillis(5),
    Duration.ofMillis(25),
    Duration.ofMillis(100),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofSeconds(5)
  };
  private final AtomicInteger connections = new AtomicInteger();
  private final Counter framesIn;
  private final Counter framesOut;
  private final Counter eventsOut;
  private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
  private final Map<ClientFrame.RequestCase, Timer> requests =
      new EnumMap<>(ClientFrame.RequestCase.class);

  public GatewayMetrics(MeterRegistry registry, GatewayState state) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(state, "state");
    Gauge.builder("parley.connections", connections, AtomicInteger::get)
        .description("Open WebSocket connections")
        .register(registry);
    Gauge.builder("parley.requests.in.flight", state, GatewayState::inFlight)
        .description("Client requests dispatched and not yet answered")
        .register(registry);
    framesIn =
        Counter.builder("parley.frames.in").description("WebSocket data frames received").register(registry);
    framesOut =
        Counter.builder("parley.frames.out").description("WebSocket data frames sent").register(registry);
    eventsOut =
        Counter.builder("parley.events.out").description("Log events pushed live").register(registry);
    for (ErrorCode c : ErrorCode.values()) {
      if (c != ErrorCode.UNRECOGNIZED) {
        errors.put(
            c,
            Counter.builder("parley.errors")
                .description("Error frames sent to clients")
                .tag("code", c.name())
                .register(registry));
      }
    }
    for (ClientFrame.RequestCase k : ClientFrame.RequestCase.values()) {
      Timer.Builder b =
          Timer.builder("parley.request")
              .description("Client request latency, from dispatch to answer")
              .tag("kind", kindName(k));
      if (k == ClientFrame.RequestCase.SEND_MESSAGE) {
        b.publishPercentileHistogram();
      } else {
        b.serviceLevelObjectives(LATENCY_BUCKETS);
      }
      requests.put(k, b.register(registry));
    }
  }

  /** The metric tag value of a request kind, e.g. {@code send_message}. */
  public static String kindName(ClientFrame.RequestCase k) {
    return k.name().toLowerCase(Locale.ROOT);
  }

  void connectionOpened() {
    connections.incrementAndGet();
  }

  void connectionClosed() {
    connections.decrementAndGet();
  }

  void frameIn() {
    framesIn.increment();
  }

  void frameOut() {
    framesOut.increment();
  }

  void eventsOut(int count) {
    eventsOut.increment(count);
  }

  void error(ErrorCode code) {
    Counter c = errors.get(code);
    (c == null ? errors.get(ErrorCode.INTERNAL) : c).increment();
  }

  Timer requestTimer(ClientFrame.RequestCase kind) {
    return requests.get(kind);
  }
}
