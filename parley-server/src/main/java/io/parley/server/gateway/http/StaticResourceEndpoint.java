package io.parley.server.gateway.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * Serves classpath resources below a base directory (the demo web app), e.g. mounted at {@code /}
 * with base {@code web}: {@code GET /app.js} serves resource {@code web/app.js} and {@code GET /}
 * (or any path ending in {@code /}) serves that directory's {@code index.html}.
 *
 * <p>Only GET and HEAD are allowed. Paths with empty, {@code .} or {@code ..} segments, backslashes,
 * colons or control characters are refused with 404 before any lookup, so a request can never
 * reach a resource outside the base. The router hands over decoded paths, so encoded traversal
 * ({@code %2e%2e}) is caught the same way. Content types come from the file extension.
 *
 * <p>Resources are read once on the load executor (never on the event loop) and kept in memory;
 * only resources that exist are cached, so probing random paths cannot grow the cache.
 * Thread-safe.
 */
public final class StaticResourceEndpoint implements HttpEndpoint {
  private static final Map<String, String> TYPES =
      Map.ofEntries(
          Map.entry("html", "text/html; charset=utf-8"),
          Map.entry("htm", "text/html; charset=utf-8"),
          Map.entry("js", "text/javascript; charset=utf-8"),
          Map.entry("mjs", "text/javascript; charset=utf-8"),
          Map.entry("css", "text/css; charset=utf-8"),
          Map.entry("json", "application/json; charset=utf-8"),
          Map.entry("map", "application/json; charset=utf-8"),
          Map.entry("webmanifest", "application/manifest+json"),
          Map.entry("txt", "text/plain; charset=utf-8"),
          Map.entry("yaml", "application/yaml; charset=utf-8"),
          Map.entry("svg", "image/svg+xml"),
          Map.entry("png", "image/png"),
          Map.entry("jpg", "image/jpeg"),
          Map.entry("jpeg", "image/jpeg"),
          Map.entry("gif", "image/gif"),
          Map.entry("webp", "image/webp"),
          Map.entry("ico", "image/x-icon"),
          Map.entry("woff", "font/woff"),
          Map.entry("woff2", "font/woff2"),
          Map.entry("wasm", "application/wasm"));
  private static final String CACHE_CONTROL = "public, max-age=300";

  private final String mountPrefix;
  private final String resourceBase;
  private final ClassLoader loader;
  private final Executor loadExecutor;
  private final Map<String, HttpReply> cache = new ConcurrentHashMap<>();

  /**
   * Serves resources of this class's class loader, loading them on the common pool.
   *
   * @param mountPrefix the prefix the endpoint is registered under, e.g. {@code /}
   * @param resourceBase the classpath directory, e.g. {@code web}
   */
  public StaticResourceEndpoint(String mountPrefix, String resourceBase) {
    this(
        mountPrefix,
        resourceBase,
        StaticResourceEndpoint.class.getClassLoader(),
        ForkJoinPool.commonPool());
  }

  public StaticResourceEndpoint(
      String mountPrefix, String resourceBase, ClassLoader loader, Executor loadExecutor) {
    this.mountPrefix = Objects.requireNonNull(mountPrefix, "mountPrefix");
    String base = Objects.requireNonNull(resourceBase, "resourceBase");
    while (base.startsWith("/")) {
      base = base.substring(1);
    }
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    this.resourceBase = base;
    this.loader = Objects.requireNonNull(loader, "loader");
    this.loadExecutor = Objects.requireNonNull(loadExecutor, "loadExecutor");
  }

  @Override
  public CompletableFuture<HttpReply> handle(HttpCall call) {
    if (!call.method().equals("GET") && !call.method().equals("HEAD")) {
      return CompletableFuture.completedFuture(
          new HttpReply(
              405,
              "application/json; charset=utf-8",
              HttpResponses.error(405, "BAD_REQUEST", "use GET").body(),
              Map.of("Allow", "GET, HEAD")));
    }
    Optional<String> name = resourceName(call.path());
    if (name.isEmpty()) {
      return CompletableFuture.completedFuture(notFound(call.path()));
    }
    HttpReply cached = cache.get(name.get());
    if (cached != null) {
      return CompletableFuture.completedFuture(cached);
    }
    return CompletableFuture.supplyAsync(() -> load(name.get(), call.path()), loadExecutor);
  }

  /** The classpath resource name for a request path, or empty when the path is not acceptable. */
  Optional<String> resourceName(String path) {
    if (!path.startsWith(mountPrefix)) {
      return Optional.empty();
    }
    String rel = path.substring(mountPrefix.length());
    if (rel.startsWith("/")) {
      rel = rel.substring(1);
    }
    if (rel.isEmpty() || rel.endsWith("/")) {
      rel = rel + "index.html";
    }
    for (String segment : rel.split("/", -1)) {
      if (!acceptableSegment(segment)) {
        return Optional.empty();
      }
    }
    return Optional.of(resourceBase.isEmpty() ? rel : resourceBase + "/" + rel);
  }

  private static boolean acceptableSegment(String s) {
    if (s.isEmpty() || s.equals(".") || s.equals("..")) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '\\' || c == ':') {
        return false;
      }
    }
    return true;
  }

  private HttpReply load(String name, String path) {
    URL url = loader.getResource(name);
    if (url == null || isDirectory(url)) {
      return notFound(path);
    }
    byte[] bytes;
    try (InputStream in = url.openStream()) {
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read resource " + name, e);
    }
    HttpReply reply =
        new HttpReply(200, contentType(name), bytes, Map.of("Cache-Control", CACHE_CONTROL));
    cache.put(name, reply);
    return reply;
  }

  private static boolean isDirectory(URL url) {
    if (!"file".equals(url.getProtocol())) {
      return false;
    }
    try {
      return Files.isDirectory(Path.of(url.toURI()));
    } catch (URISyntaxException | IllegalArgumentException e) {
      return true;
    }
  }

  static String contentType(String name) {
    int dot = name.lastIndexOf('.');
    String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    return TYPES.getOrDefault(ext, "application/octet-stream");
  }

  private static HttpReply notFound(String path) {
    return HttpResponses.error(404, "NOT_FOUND", "no resource at " + path);
  }
}
