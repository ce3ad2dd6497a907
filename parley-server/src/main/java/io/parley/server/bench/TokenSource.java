package io.parley.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * Obtains client tokens for the generator's users over HTTP, the way a real deployment does: with
 * an admin key, through the admin API (create the user, then mint its token); without one, through
 * the development-mode endpoint {@code POST /v1/dev/token}. Thread-safe.
 */
public final class TokenSource {
  private static final int PARALLEL_REQUESTS = 32;

  private final URI base;
  private final String adminKey;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  private final ObjectMapper json = new ObjectMapper();

  /**
   * @param base the server's HTTP base URL, e.g. {@code http://127.0.0.1:8080}
   * @param adminKey the admin API key, or null to use the development endpoint
   */
  public TokenSource(URI base, String adminKey) {
    this.base = base;
    this.adminKey = adminKey;
  }

  /** Tokens for the given users, in order. */
  public List<String> tokens(List<String> userIds) {
    Semaphore permits = new Semaphore(PARALLEL_REQUESTS);
    List<CompletableFuture<String>> all = new ArrayList<>();
    for (String user : userIds) {
      permits.acquireUninterruptibly();
      CompletableFuture<String> t = token(user);
      t.whenComplete((r, e) -> permits.release());
      all.add(t);
    }
    return all.stream().map(CompletableFuture::join).toList();
  }

  private CompletableFuture<String> token(String user) {
    if (adminKey == null) {
      return post("/v1/dev/token", "{\"user_id\":\"" + user + "\"}").thenApply(r -> r.get("token").asText());
    }
    return post("/v1/admin/users", "{\"user_id\":\"" + user + "\"}")
        .thenCompose(created -> post("/v1/admin/users/" + user + "/tokens", "{}"))
        .thenApply(r -> r.get("token").asText());
  }

  private CompletableFuture<JsonNode> post(String path, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (adminKey != null) {
      b.header("Authorization", "Bearer " + adminKey);
    }
    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString())
        .thenApply(
            r -> {
              if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException(
                    "POST " + path + " answered " + r.statusCode() + ": " + r.body()
                        + (adminKey == null && r.statusCode() == 404
                            ? " (the dev token endpoint exists only in development mode; pass --admin-key)"
                            : ""));
              }
              try {
                return json.readTree(r.body());
              } catch (IOException e) {
                throw new IllegalStateException("POST " + path + " answered no JSON: " + r.body(), e);
              }
            });
  }
}
