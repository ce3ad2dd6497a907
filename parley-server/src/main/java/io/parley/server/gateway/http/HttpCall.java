package io.parley.server.gateway.http;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A plain HTTP request as the gateway hands it to an {@link HttpEndpoint}, detached from Netty so
 * that endpoints (admin API, health, metrics, dev token) are testable without a socket.
 *
 * @param path the decoded path without the query string
 * @param query decoded query parameters
 * @param headers header names in lower case
 * @param body the request body (bounded by the gateway)
 * @param remoteAddress the client's IP address literal ({@link
 *     io.parley.server.gateway.proxy.ClientAddress}: the PROXY header's source, else the socket
 *     peer), "" when unknown
 */
public record HttpCall(
    String method,
    String path,
    Map<String, List<String>> query,
    Map<String, String> headers,
    byte[] body,
    String remoteAddress) {
  public HttpCall {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    query = Map.copyOf(query);
    headers = Map.copyOf(headers);
    Objects.requireNonNull(body, "body");
  }

  /** The first value of a query parameter, or {@code fallback}. */
  public String queryParam(String name, String fallback) {
    List<String> v = query.get(name);
    return v == null || v.isEmpty() ? fallback : v.get(0);
  }

  /** A header value by lower-case name, or null. */
  public String header(String lowerCaseName) {
    return headers.get(lowerCaseName);
  }
}
