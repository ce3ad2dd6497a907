/**
 * Abuse resistance: request-rate limits (Bucket4j token buckets per user and per client address)
 * and per-address connection counts. The gateway and the admin API consult these before calling a
 * service; the engine enforces the stored count limits (members, conversations) itself.
 */
package io.parley.server.limits;
