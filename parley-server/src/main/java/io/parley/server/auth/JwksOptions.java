package io.parley.server.auth;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link JwtTokenVerifier} fetches and caches OIDC JWKS documents.
 *
 * @param cacheTtl how long a fetched key set is used before it is fetched again
 * @param refreshAhead how long before expiry a request triggers a background refresh
 * @param refreshTimeout how long a request waits for another thread's refresh of an expired set
 * @param minRefreshInterval rate limit: the shortest time between two fetches of one URL (unknown
 *     {@code kid} values cannot make the server hammer the identity provider)
 * @param outageTolerance how long the last good key set keeps being used while the endpoint fails
 * @param httpTimeout connect and read timeout of one fetch
 * @param maxDocumentBytes largest accepted JWKS document
 */
public record JwksOptions(
    Duration cacheTtl,
    Duration refreshAhead,
    Duration refreshTimeout,
    Duration minRefreshInterval,
    Duration outageTolerance,
    Duration httpTimeout,
    int maxDocumentBytes) {

  public JwksOptions {
    Objects.requireNonNull(cacheTtl, "cacheTtl");
    Objects.requireNonNull(refreshAhead, "refreshAhead");
    Objects.requireNonNull(refreshTimeout, "refreshTimeout");
    Objects.requireNonNull(minRefreshInterval, "minRefreshInterval");
    Objects.requireNonNull(outageTolerance, "outageTolerance");
    Objects.requireNonNull(httpTimeout, "httpTimeout");
    if (cacheTtl.compareTo(minRefreshInterval) <= 0) {
      throw new IllegalArgumentException("minRefreshInterval must be shorter than cacheTtl");
    }
    if (refreshAhead.plus(refreshTimeout).compareTo(cacheTtl) > 0) {
      throw new IllegalArgumentException("refreshAhead + refreshTimeout must not exceed cacheTtl");
    }
    if (maxDocumentBytes <= 0) {
      throw new IllegalArgumentException("maxDocumentBytes must be positive");
    }
  }

  /**
   * Production settings derived from the configured cache TTL: refresh ahead and rate limit at most
   * 30 s (a quarter of the TTL for short TTLs), refresh timeout at most 15 s, outage tolerance ten
   * times the TTL, 2 s HTTP timeouts, 64 KiB documents.
   */
  public static JwksOptions forCacheTtl(Duration cacheTtl) {
    Duration quarter = cacheTtl.dividedBy(4);
    return new JwksOptions(
        cacheTtl,
        min(Duration.ofSeconds(30), quarter),
        min(Duration.ofSeconds(15), quarter),
        min(Duration.ofSeconds(30), quarter),
        cacheTtl.multipliedBy(10),
        Duration.ofSeconds(2),
        64 * 1024);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
