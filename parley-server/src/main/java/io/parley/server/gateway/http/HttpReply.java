package io.parley.server.gateway.http;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;

/** An HTTP response produced by an {@link HttpEndpoint}. */
public record HttpReply(int status, String contentType, byte[] body, Map<String, String> headers) {
  public HttpReply {
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(body, "body");
    headers = Map.copyOf(headers);
  }

  public static HttpReply json(int status, String json) {
    return new HttpReply(
        status, "application/json; charset=utf-8", json.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  public static HttpReply text(int status, String contentType, String text) {
    return new HttpReply(status, contentType, text.getBytes(StandardCharsets.UTF_8), Map.of());
  }
}
