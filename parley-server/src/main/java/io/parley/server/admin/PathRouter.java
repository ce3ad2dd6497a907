package io.parley.server.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A minimal HTTP route table: each route is a method plus a path template whose segments are
 * literals or {@code {name}} parameters matching exactly one non-empty segment. Matching
 * distinguishes "no such path" (404) from "path exists, wrong method" (405, with the allowed
 * methods). Routes are tried in registration order.
 *
 * <p>Thread-safety: build on one thread with {@link #add}, then share; {@link #match} is safe to
 * call concurrently once no more routes are added (the endpoint builds its router in its
 * constructor and never mutates it afterwards).
 *
 * @param <H> what a route leads to (a handler)
 */
final class PathRouter<H> {

  /** One registered route. {@code method} is upper case; {@code template} as registered. */
  record Route<H>(String method, String template, List<String> segments, H handler) {}

  /** The outcome of {@link #match}. */
  sealed interface Match<H> permits Found, NoSuchPath, MethodNotAllowed {}

  /** The path and method matched a route; {@code params} holds the captured segments. */
  record Found<H>(Route<H> route, Map<String, String> params) implements Match<H> {}

  /** No route's template matches the path. */
  record NoSuchPath<H>() implements Match<H> {}

  /** Some route's template matches the path, but not with this method; allowed is sorted. */
  record MethodNotAllowed<H>(List<String> allowed) implements Match<H> {}

  private final List<Route<H>> routes = new ArrayList<>();

  /**
   * Registers a route.
   *
   * @throws IllegalArgumentException for a malformed template, or a method and template shape that
   *     an earlier route already claims
   */
  PathRouter<H> add(String method, String template, H handler) {
    Objects.requireNonNull(handler, "handler");
    String m = Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT);
    List<String> segments = parseTemplate(Objects.requireNonNull(template, "template"));
    for (Route<H> r : routes) {
      if (r.method().equals(m) && sameShape(r.segments(), segments)) {
        throw new IllegalArgumentException(
            "route " + m + " " + template + " overlaps " + r.method() + " " + r.template());
      }
    }
    routes.add(new Route<>(m, template, segments, handler));
    return this;
  }

  /** The registered routes, in registration order. */
  List<Route<H>> routes() {
    return List.copyOf(routes);
  }

  /** Finds the route for a method and a decoded path (without query string). */
  Match<H> match(String method, String path) {
    String m = method.toUpperCase(Locale.ROOT);
    List<String> parts = splitPath(path);
    if (parts == null) {
      return new NoSuchPath<>();
    }
    Set<String> allowed = new TreeSet<>();
    for (Route<H> r : routes) {
      Map<String, String> params = bind(r.segments(), parts);
      if (params == null) {
        continue;
      }
      if (r.method().equals(m)) {
        return new Found<>(r, params);
      }
      allowed.add(r.method());
    }
    return allowed.isEmpty() ? new NoSuchPath<>() : new MethodNotAllowed<>(List.copyOf(allowed));
  }

  private static List<String> parseTemplate(String template) {
    List<String> segments = splitPath(template);
    if (segments == null) {
      throw new IllegalArgumentException("template must be an absolute path: " + template);
    }
    Set<String> names = new TreeSet<>();
    for (String s : segments) {
      if (isParam(s)) {
        String name = s.substring(1, s.length() - 1);
        if (name.isEmpty() || name.contains("{") || name.contains("}") || !names.add(name)) {
          throw new IllegalArgumentException("bad parameter " + s + " in " + template);
        }
      } else if (s.contains("{") || s.contains("}")) {
        throw new IllegalArgumentException("bad segment " + s + " in " + template);
      }
    }
    return List.copyOf(segments);
  }

  /** Splits "/a/b/c" into [a, b, c]; null when not absolute or when a segment is empty. */
  private static List<String> splitPath(String path) {
    if (!path.startsWith("/") || path.length() == 1) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    int start = 1;
    while (true) {
      int slash = path.indexOf('/', start);
      String part = slash < 0 ? path.substring(start) : path.substring(start, slash);
      if (part.isEmpty()) {
        return null;
      }
      parts.add(part);
      if (slash < 0) {
        return parts;
      }
      start = slash + 1;
    }
  }

  private static boolean isParam(String segment) {
    return segment.length() >= 2 && segment.startsWith("{") && segment.endsWith("}");
  }

  private static boolean sameShape(List<String> a, List<String> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      boolean pa = isParam(a.get(i));
      boolean pb = isParam(b.get(i));
      if (pa != pb || (!pa && !a.get(i).equals(b.get(i)))) {
        return false;
      }
    }
    return true;
  }

  private static Map<String, String> bind(List<String> template, List<String> parts) {
    if (template.size() != parts.size()) {
      return null;
    }
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 0; i < template.size(); i++) {
      String t = template.get(i);
      if (isParam(t)) {
        params.put(t.substring(1, t.length() - 1), parts.get(i));
      } else if (!t.equals(parts.get(i))) {
        return null;
      }
    }
    return Map.copyOf(params);
  }
}
