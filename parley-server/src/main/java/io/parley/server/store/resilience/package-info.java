/**
 * Failure isolation at the storage seam: {@link
 * io.parley.server.store.resilience.CircuitBreakingStore} decorates any {@link
 * io.parley.server.store.ParleyStore} with Resilience4j circuit breakers, so a failing store is
 * answered with a quick retryable refusal instead of piling up work against it.
 */
package io.parley.server.store.resilience;
