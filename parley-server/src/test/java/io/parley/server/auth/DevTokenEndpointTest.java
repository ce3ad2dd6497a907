package io.parley.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parley.server.gateway.http.HttpCall;
import io.parley.server.gateway.http.HttpReply;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DevTokenEndpointTest {
  private final byte[] secret = new byte[32];

  {
    new SecureRandom().nextBytes(secret);
  }

  private final DevTokenEndpoint endpoint =
      new DevTokenEndpoint(
          new TokenMinter(secret, null, null, Clock.systemUTC()), Duration.ofHours(24));

  private static HttpCall call(String method, String body) {
    return new HttpCall(
        method,
        DevTokenEndpoint.PATH,
        Map.of(),
        Map.of("content-type", "application/json"),
        body.getBytes(StandardCharsets.UTF_8),
        "127.0.0.1");
  }

  private static JsonNode json(HttpReply reply) throws Exception {
    return new ObjectMapper().readTree(reply.body());
  }

  @Test
  void mintsATokenTheVerifierAccepts() throws Exception {
    HttpReply reply = endpoint.handle(call("POST", "{\"user_id\":\"alice\"}")).get();
    assertThat(reply.status()).isEqualTo(200);
    JsonNode body = json(reply);
    long expiresAt = body.get("expires_at_ms").asLong();
    assertThat(expiresAt).isGreaterThan(System.currentTimeMillis() + Duration.ofHours(23).toMillis());

    try (JwtTokenVerifier verifier =
        JwtTokenVerifier.create(
            TestKeys.auth(
                Base64.getEncoder().encodeToString(secret), List.of(), List.of(), null, null))) {
      VerifiedToken token = verifier.verify(body.get("token").asText()).get(10, TimeUnit.SECONDS);
      assertThat(token.userId()).isEqualTo("alice");
      assertThat(token.expiresAtMs()).isEqualTo(expiresAt);
    }
  }

  @Test
  void rejectsOtherMethods() throws Exception {
    HttpReply reply = endpoint.handle(call("GET", "")).get();
    assertThat(reply.status()).isEqualTo(405);
    assertThat(reply.headers()).containsEntry("allow", "POST");
  }

  @Test
  void rejectsMalformedBodiesAndInvalidUserIds() throws Exception {
    for (String body : List.of("", "not json", "{}", "{\"user_id\":42}", "{\"user_id\":\"a b\"}")) {
      HttpReply reply = endpoint.handle(call("POST", body)).get();
      assertThat(reply.status()).as(body).isEqualTo(400);
      assertThat(json(reply).at("/error/code").asText()).isEqualTo("BAD_REQUEST");
    }
  }
}
