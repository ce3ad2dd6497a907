package io.parley.server.admin;

import io.parley.server.core.ParleyException;
import io.parley.server.gateway.http.HttpCall;
import java.util.Map;
import java.util.Objects;

/**
 * An authenticated admin request matched to a route: the HTTP call plus the values of the route's
 * {@code {param}} segments, with strict readers for query parameters (an empty value counts as
 * absent; a malformed one is a {@code BAD_REQUEST} naming the parameter). Immutable.
 */
record AdminRequest(HttpCall call, Map<String, String> params) {
  AdminRequest {
    Objects.requireNonNull(call, "call");
    params = Map.copyOf(params);
  }

  /** A path parameter the route template declares. */
  String param(String name) {
    String v = params.get(name);
    if (v == null) {
      throw new IllegalArgumentException("route has no parameter " + name);
    }
    return v;
  }

  /** A query parameter, or null when absent or empty. */
  String query(String name) {
    String v = call.queryParam(name, null);
    return v == null || v.isEmpty() ? null : v;
  }

  /** An integer query parameter in {@code [min, max]}, or {@code fallback} when absent. */
  int intQuery(String name, int fallback, int min, int max) {
    String v = query(name);
    if (v == null) {
      return fallback;
    }
    long n = parseLong(name, v);
    if (n < min || n > max) {
      throw ParleyException.badRequest(
          "query parameter " + name + " must be between " + min + " and " + max + ", got " + v);
    }
    return (int) n;
  }

  /** A non-negative integer query parameter, or {@code fallback} when absent. */
  long nonNegativeQuery(String name, long fallback) {
    String v = query(name);
    if (v == null) {
      return fallback;
    }
    long n = parseLong(name, v);
    if (n < 0) {
      throw ParleyException.badRequest(
          "query parameter " + name + " must not be negative, got " + v);
    }
    return n;
  }

  private static long parseLong(String name, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw ParleyException.badRequest(
          "query parameter " + name + " must be an integer, got \"" + abbreviate(v) + "\"");
    }
  }

  static String abbreviate(String v) {
    return v.length() <= 64 ? v : v.substring(0, 64) + "...";
  }
}
