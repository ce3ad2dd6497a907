package io.parley.server.notify;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;

/**
 * One Resilience4j circuit breaker per webhook endpoint and per push provider, named {@code
 * webhook:<id>} / {@code push:<provider>} (and {@code before_send} for the moderation hook); their state and call counts are exported to {@code
 * /metrics} as {@code resilience4j_circuitbreaker_*}. A breaker opens when at least half of the
 * last 10 calls (5 at least) failed, and lets one trial call through after the open duration.
 * Thread-safe.
 */
public final class EndpointBreakers {
  private final CircuitBreakerRegistry registry;

  public EndpointBreakers(Duration openDuration, MeterRegistry metrics) {
    CircuitBreakerConfig config =
        CircuitBreakerConfig.custom()
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(10)
            .minimumNumberOfCalls(5)
            .failureRateThreshold(50)
            .waitDurationInOpenState(openDuration)
            .permittedNumberOfCallsInHalfOpenState(1)
            .automaticTransitionFromOpenToHalfOpenEnabled(false)
            .build();
    this.registry = CircuitBreakerRegistry.of(config);
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(registry).bindTo(metrics);
  }

  public CircuitBreaker forWebhook(String webhookId) {
    return registry.circuitBreaker("webhook:" + webhookId);
  }

  /** The breaker of the before-send moderation hook. */
  public CircuitBreaker forBeforeSendHook() {
    return registry.circuitBreaker("before_send");
  }

  public CircuitBreaker forPushProvider(String provider) {
    return registry.circuitBreaker("push:" + provider);
  }
}
