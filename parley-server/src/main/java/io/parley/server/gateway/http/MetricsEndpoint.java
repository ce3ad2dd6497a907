package io.parley.server.gateway.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /metrics}: the Prometheus text exposition of a Micrometer {@link PrometheusMeterRegistry}.
 * Scraping is CPU-only work over in-memory meters, so it runs on the calling event loop.
 * Thread-safe.
 */
public final class MetricsEndpoint implements HttpEndpoint {
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  private final PrometheusMeterRegistry registry;

  public MetricsEndpoint(PrometheusMeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  @Override
  public CompletableFuture<HttpReply> handle(HttpCall call) {
    if (!call.method().equals("GET") && !call.method().equals("HEAD")) {
      return CompletableFuture.completedFuture(
          HttpResponses.error(405, "BAD_REQUEST", "use GET"));
    }
    return CompletableFuture.completedFuture(HttpReply.text(200, CONTENT_TYPE, registry.scrape()));
  }
}
