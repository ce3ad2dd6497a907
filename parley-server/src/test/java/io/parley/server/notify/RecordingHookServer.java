package io.parley.server.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A local HTTP receiver for webhook and push-gateway requests, checking them the way
 * docs/notifications.md tells a receiver to: POST, JSON content type, a delivery id, a timestamp
 * within five minutes, and a {@code v1=} HMAC-SHA256 signature over {@code timestamp + "." +
 * body} computed here independently of the server's code. Every request is recorded with the
 * status it was answered with; {@link #respondWith} decides that status per request.
 */
final class RecordingHookServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One received request. */
  record Received(
      String deliveryId,
      String eventType,
      int attempt,
      boolean signatureValid,
      JsonNode body,
      int answeredStatus) {}

  private final HttpServer server;
  private final String secret;
  private final List<Received> received = new ArrayList<>();
  private volatile Function<JsonNode, Integer> responder = body -> 200;
  private volatile String retryAfter;

  RecordingHookServer(String secret) throws IOException {
    this.secret = secret;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
  }

  /** Chooses the status of each following request from its parsed body. */
  void respondWith(Function<JsonNode, Integer> responder) {
    this.responder = responder;
  }

  void retryAfterSeconds(String value) {
    this.retryAfter = value;
  }

  synchronized List<Received> received() {
    return List.copyOf(received);
  }

  /** The requests answered with a 2xx status. */
  synchronized List<Received> accepted() {
    return received.stream().filter(r -> r.answeredStatus() / 100 == 2).toList();
  }

  private void handle(HttpExchange ex) throws IOException {
    byte[] body;
    try (InputStream in = ex.getRequestBody()) {
      body = in.readAllBytes();
    }
    String ts = ex.getRequestHeaders().getFirst("Parley-Timestamp");
    String sig = ex.getRequestHeaders().getFirst("Parley-Signature");
    String id = ex.getRequestHeaders().getFirst("Parley-Delivery-Id");
    String type = ex.getRequestHeaders().getFirst("Parley-Event-Type");
    String attempt = ex.getRequestHeaders().getFirst("Parley-Attempt");
    String contentType = ex.getRequestHeaders().getFirst("Content-Type");
    boolean wellFormed =
        "POST".equals(ex.getRequestMethod())
            && contentType != null
            && contentType.startsWith("application/json")
            && id != null
            && ts != null
            && Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(ts)) < 300;
    boolean valid = wellFormed && verify(ts, body, sig);
    JsonNode json = JSON.readTree(body);
    int status = valid ? responder.apply(json) : 401;
    synchronized (this) {
      received.add(
          new Received(
              id, type, attempt == null ? 0 : Integer.parseInt(attempt), valid, json, status));
    }
    if (retryAfter != null && status >= 400) {
      ex.getResponseHeaders().add("Retry-After", retryAfter);
    }
    ex.sendResponseHeaders(status, -1);
    ex.close();
  }

  private boolean verify(String ts, byte[] body, String header) {
    if (header == null || !header.startsWith("v1=")) {
      return false;
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((ts + ".").getBytes(StandardCharsets.UTF_8));
      byte[] expected = mac.doFinal(body);
      return MessageDigest.isEqual(expected, HexFormat.of().parseHex(header.substring(3)));
    } catch (Exception e) {
      return false;
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
