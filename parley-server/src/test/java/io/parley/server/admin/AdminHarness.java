package io.parley.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parley.server.gateway.http.HttpCall;
import io.parley.server.gateway.http.HttpReply;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** An admin endpoint wired to {@link RecordingServices}, plus helpers to call it. */
final class AdminHarness {
  static final String KEY = "s3cret-admin-key";
  private static final ObjectMapper JSON = new ObjectMapper();

  final RecordingServices services = new RecordingServices();
  final AdminEndpoint endpoint =
      new AdminEndpoint(
          KEY,
          services.users,
          services.conversations,
          services.messages,
          services.delivery,
          services.notifications,
          services.minter);

  /** An authorized call; {@code target} may carry a query string. */
  HttpReply call(String method, String target, String body) {
    return call(method, target, body.getBytes(StandardCharsets.UTF_8), "Bearer " + KEY);
  }

  HttpReply call(String method, String target, byte[] body, String authorization) {
    Map<String, String> headers = new HashMap<>();
    if (authorization != null) {
      headers.put("authorization", authorization);
    }
    try {
      return endpoint.handle(httpCall(method, target, body, headers)).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("the endpoint's future failed", e);
    }
  }

  static HttpCall httpCall(String method, String target, byte[] body, Map<String, String> headers) {
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    Map<String, List<String>> query = new LinkedHashMap<>();
    if (q >= 0) {
      for (String pair : target.substring(q + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String name = decode(eq < 0 ? pair : pair.substring(0, eq));
        String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
        query.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      }
    }
    return new HttpCall(method, path, query, headers, body, "127.0.0.1:5000");
  }

  static JsonNode json(HttpReply reply) {
    try {
      return JSON.readTree(reply.body());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "reply is not JSON: " + new String(reply.body(), StandardCharsets.UTF_8), e);
    }
  }

  static String text(HttpReply reply) {
    return new String(reply.body(), StandardCharsets.UTF_8);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
