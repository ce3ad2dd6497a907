package io.parley.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.parley.client.TokenProvider;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link TokenProvider} for development mode: mints a token for a chosen user through the
 * server's {@code POST /v1/dev/token} endpoint (which exists only when the server runs without a
 * config file). Every request for a token fetches a fresh one, so refreshes and rejections are
 * handled by the SDK's normal token flow. Thread-safe.
 */
public final class DevTokenProvider implements TokenProvider {
  /** The development endpoint's path (see the server's {@code DevTokenEndpoint}). */
  static final String PATH = "/v1/dev/token";

  private final URI endpoint;
  private final String userId;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private final ObjectMapper json = new ObjectMapper();

  /**
   * @param httpBase the server's HTTP base URL, e.g. {@code http://localhost:8080}
   * @param userId the user to act as
   */
  public DevTokenProvider(URI httpBase, String userId) {
    this.endpoint = Objects.requireNonNull(httpBase, "httpBase").resolve(PATH);
    this.userId = Objects.requireNonNull(userId, "userId");
  }

  @Override
  public CompletableFuture<String> token(Reason reason) {
    ObjectNode body = json.createObjectNode().put("user_id", userId);
    HttpRequest request =
        HttpRequest.newBuilder(endpoint)
            .timeout(Duration.ofSeconds(15))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(this::tokenOf);
  }

  private String tokenOf(HttpResponse<String> response) {
    if (response.statusCode() == 404) {
      throw new IllegalStateException(
          "POST " + endpoint + " answered 404: the server is not in development mode; pass --token");
    }
    JsonNode reply;
    try {
      reply = json.readTree(response.body());
    } catch (IOException e) {
      throw new IllegalStateException("POST " + endpoint + " answered no JSON: " + response.body(), e);
    }
    if (response.statusCode() != 200 || !reply.path("token").isTextual()) {
      throw new IllegalStateException(
          "POST " + endpoint + " answered " + response.statusCode() + ": "
              + reply.path("error").path("message").asText(response.body()));
    }
    return reply.get("token").asText();
  }
}
