package io.parley.server.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.parley.server.gateway.http.HttpCall;
import io.parley.server.gateway.http.HttpEndpoint;
import io.parley.server.gateway.http.HttpReply;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /v1/dev/token} with {@code {"user_id":"alice"}} answers {@code {"token":"...",
 * "expires_at_ms":...}}: a token for any user, without credentials, so the demo page and local
 * clients can connect. <b>Development mode only</b>: the composition root registers this endpoint
 * only when {@code config.devMode()} is true, because it lets anyone act as anyone.
 *
 * <p>Errors are JSON {@code {"error":{"code":"BAD_REQUEST","message":"..."}}} with status 400, or
 * 405 for another method. Minting an HS256 token is a few microseconds of CPU, so the reply is
 * computed on the calling thread and returned completed. Thread-safe.
 */
public final class DevTokenEndpoint implements HttpEndpoint {
  /** The path the gateway routes to this endpoint. */
  public static final String PATH = "/v1/dev/token";

  private final TokenMinter minter;
  private final Duration ttl;
  private final ObjectMapper json = new ObjectMapper();

  /**
   * @param minter signs with the dev-mode HMAC secret
   * @param ttl lifetime of each token ({@code auth.dev_token_ttl})
   */
  public DevTokenEndpoint(TokenMinter minter, Duration ttl) {
    this.minter = Objects.requireNonNull(minter, "minter");
    this.ttl = Objects.requireNonNull(ttl, "ttl");
  }

  @Override
  public CompletableFuture<HttpReply> handle(HttpCall call) {
    if (!"POST".equals(call.method())) {
      return CompletableFuture.completedFuture(
          new HttpReply(
              405,
              "application/json; charset=utf-8",
              error("METHOD_NOT_ALLOWED", "use POST " + PATH).getBytes(),
              Map.of("allow", "POST")));
    }
    String userId;
    try {
      JsonNode body = json.readTree(call.body());
      JsonNode user = body == null ? null : body.get("user_id");
      if (user == null || !user.isTextual()) {
        return badRequest("body must be JSON {\"user_id\": \"<id>\"}");
      }
      userId = user.asText();
    } catch (JsonProcessingException e) {
      return badRequest("body is not valid JSON");
    } catch (java.io.IOException e) {
      return badRequest("body cannot be read");
    }
    String problem = UserIdRules.problem(userId);
    if (problem != null) {
      return badRequest("invalid user_id: " + problem);
    }
    MintedToken minted = minter.mint(userId, ttl);
    ObjectNode reply = json.createObjectNode();
    reply.put("token", minted.token());
    reply.put("expires_at_ms", minted.expiresAtMs());
    return CompletableFuture.completedFuture(HttpReply.json(200, reply.toString()));
  }

  private CompletableFuture<HttpReply> badRequest(String message) {
    return CompletableFuture.completedFuture(HttpReply.json(400, error("BAD_REQUEST", message)));
  }

  private String error(String code, String message) {
    ObjectNode root = json.createObjectNode();
    ObjectNode err = root.putObject("error");
    err.put("code", code);
    err.put("message", message);
    return root.toString();
  }
}
