package io.parley.server.gateway.http;

import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The gateway's routing table: HTTP endpoints by path prefix (longest prefix wins) plus the one
 * path that upgrades to a WebSocket. Immutable once built and shared by every connection; each
 * connection gets its own {@link HttpRequestHandler} from {@link #newHandler}.
 *
 * <p>A prefix matches a path when they are equal, or when the path continues the prefix at a
 * segment boundary: {@code /healthz} matches {@code /healthz} and {@code /healthz/x} but not
 * {@code /healthzx}; a prefix ending in {@code /} (such as {@code /v1/admin/} or {@code /})
 * matches everything below it.
 */
public final class HttpRouter {
  private final List<Map.Entry<String, HttpEndpoint>> routes;
  private final String upgradePath;
  private final HttpUpgrade upgrade;

  private HttpRouter(Builder b) {
    this.routes =
        b.routes.entrySet().stream()
            .sorted(Comparator.comparingInt((Map.Entry<String, HttpEndpoint> e) -> e.getKey().length()).reversed())
            .map(e -> Map.entry(e.getKey(), e.getValue()))
            .toList();
    this.upgradePath = b.upgradePath;
    this.upgrade = b.upgrade;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The endpoint registered under the longest prefix matching the path, if any. */
  public Optional<HttpEndpoint> route(String path) {
    for (Map.Entry<String, HttpEndpoint> e : routes) {
      if (matches(e.getKey(), path)) {
        return Optional.of(e.getValue());
      }
    }
    return Optional.empty();
  }

  /** The upgrade handler when the path is the WebSocket path. */
  Optional<HttpUpgrade> upgradeFor(String path) {
    return upgrade != null && upgradePath.equals(path) ? Optional.of(upgrade) : Optional.empty();
  }

  /**
   * A handler for one new connection.
   *
   * @param firstRequestDeadline how long a new connection may take to deliver its first complete
   *     request before it is closed (protects against idle or slowloris connections)
   */
  public HttpRequestHandler newHandler(Duration firstRequestDeadline) {
    return new HttpRequestHandler(this, firstRequestDeadline);
  }

  static boolean matches(String prefix, String path) {
    if (!path.startsWith(prefix)) {
      return false;
    }
    return path.length() == prefix.length()
        || prefix.endsWith("/")
        || path.charAt(prefix.length()) == '/';
  }

  /** Collects routes; not thread-safe. */
  public static final class Builder {
    private final Map<String, HttpEndpoint> routes = new LinkedHashMap<>();
    private String upgradePath;
    private HttpUpgrade upgrade;

    private Builder() {}

    /**
     * Registers an endpoint for every path under the prefix. The prefix must start with {@code
     * /}; registering the same prefix twice replaces the first endpoint.
     */
    public Builder register(String pathPrefix, HttpEndpoint endpoint) {
      Objects.requireNonNull(pathPrefix, "pathPrefix");
      Objects.requireNonNull(endpoint, "endpoint");
      if (!pathPrefix.startsWith("/")) {
        throw new IllegalArgumentException("path prefix must start with '/': " + pathPrefix);
      }
      routes.put(pathPrefix, endpoint);
      return this;
    }

    /** Registers all endpoints of the map (prefix to endpoint). */
    public Builder registerAll(Map<String, HttpEndpoint> endpoints) {
      endpoints.forEach(this::register);
      return this;
    }

    /** Routes requests for exactly this path to the upgrade handler (the WebSocket endpoint). */
    public Builder upgrade(String path, HttpUpgrade handler) {
      this.upgradePath = Objects.requireNonNull(path, "path");
      this.upgrade = Objects.requireNonNull(handler, "handler");
      return this;
    }

    public HttpRouter build() {
      return new HttpRouter(this);
    }
  }
}
