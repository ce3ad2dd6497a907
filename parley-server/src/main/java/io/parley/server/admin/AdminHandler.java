package io.parley.server.admin;

import io.parley.server.gateway.http.HttpReply;
import java.util.concurrent.CompletableFuture;

/**
 * Handles one admin route. May throw {@link io.parley.server.core.ParleyException} synchronously
 * (request validation) or fail the returned future (service errors); {@link AdminEndpoint} maps
 * both onto the HTTP error shape. Must not block. Implementations are thread-safe.
 */
@FunctionalInterface
interface AdminHandler {
  CompletableFuture<HttpReply> handle(AdminRequest request);
}
