package io.parley.server.gateway.http;

import java.util.concurrent.CompletableFuture;

/**
 * Something the gateway serves over plain HTTP under a path prefix (admin API, health, metrics,
 * OpenAPI document, dev token endpoint, demo assets). Implementations must not block the calling
 * thread (a Netty event loop): slow work goes to their own executors. Thread-safe.
 */
public interface HttpEndpoint {
  CompletableFuture<HttpReply> handle(HttpCall call);
}
