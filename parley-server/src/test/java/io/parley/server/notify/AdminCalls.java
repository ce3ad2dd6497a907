package io.parley.server.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parley.server.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Calls the admin API of a {@link TestServer} over real HTTP. */
final class AdminCalls {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final TestServer server;

  AdminCalls(TestServer server) {
    this.server = server;
  }

  /** Sends the request; fails the test unless the status is 2xx. */
  JsonNode call(String method, String path, String jsonBody) {
    try {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
              .header("Authorization", "Bearer " + TestServer.adminKey())
              .header("Content-Type", "application/json")
              .method(
                  method,
                  jsonBody == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(jsonBody));
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() / 100 != 2) {
        throw new AssertionError(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
      }
      return r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  void createUser(String userId) {
    call("POST", "/v1/admin/users", "{\"user_id\":\"" + userId + "\",\"display_name\":\"" + userId + "\"}");
  }

  /** Creates a group and returns its id. */
  String createGroup(String creator, String... members) {
    StringBuilder m = new StringBuilder();
    for (String s : members) {
      m.append(m.length() == 0 ? "" : ",").append('"').append(s).append('"');
    }
    JsonNode r =
        call(
            "POST",
            "/v1/admin/conversations",
            "{\"kind\":\"group\",\"creator\":\"" + creator + "\",\"members\":[" + m + "]}");
    return r.path("conversation").path("id").asText();
  }

  /** Sends a text message; returns its seq. */
  long send(String conversationId, String asUser, String text) {
    JsonNode r =
        call(
            "POST",
            "/v1/admin/conversations/" + conversationId + "/messages",
            "{\"as_user\":\""
                + asUser
                + "\",\"client_msg_id\":\""
                + java.util.UUID.randomUUID()
                + "\",\"text\":\""
                + text
                + "\"}");
    return r.path("seq").asLong();
  }

  /** Creates a webhook for the given event types; returns its id. */
  String createWebhook(String url, String secret, String... types) {
    StringBuilder t = new StringBuilder();
    for (String s : types) {
      t.append(t.length() == 0 ? "" : ",").append('"').append(s).append('"');
    }
    JsonNode r =
        call(
            "POST",
            "/v1/admin/webhooks",
            "{\"url\":\"" + url + "\",\"secret\":\"" + secret + "\",\"event_types\":[" + t + "]}");
    return r.path("webhook_id").asText();
  }

  /** Sum of the /metrics samples of {@code name} whose labels contain {@code labels}. */
  double metric(String name, String labels) {
    try {
      String text =
          HTTP.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      double sum = 0;
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(text);
      while (m.find()) {
        String l = m.group(1) == null ? "" : m.group(1);
        if (l.contains(labels)) {
          sum += Double.parseDouble(m.group(2));
        }
      }
      return sum;
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
