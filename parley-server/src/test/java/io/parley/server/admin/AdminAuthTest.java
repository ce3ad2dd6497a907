package io.parley.server.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.protocol.v1.Profile;
import io.parley.server.gateway.http.HttpReply;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class AdminAuthTest {
  private final AdminHarness h = new AdminHarness();

  {
    h.services.profiles.put("alice", Profile.newBuilder().setUserId("alice").build());
  }

  private HttpReply getAliceWith(String authorization) {
    return h.call("GET", "/v1/admin/users/alice", new byte[0], authorization);
  }

  @Test
  void missingAuthorizationIsUnauthenticated() {
    HttpReply reply = getAliceWith(null);
    assertThat(reply.status()).isEqualTo(401);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("UNAUTHENTICATED");
    assertThat(h.services.calls).isEmpty();
  }

  @Test
  void wrongKeyGetsExactlyTheSameReplyAsMissingKey() {
    HttpReply missing = getAliceWith(null);
    HttpReply wrong = getAliceWith("Bearer not-the-key");
    HttpReply prefixOfKey = getAliceWith("Bearer " + AdminHarness.KEY.substring(0, 5));
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(AdminHarness.text(wrong)).isEqualTo(AdminHarness.text(missing));
    assertThat(AdminHarness.text(prefixOfKey)).isEqualTo(AdminHarness.text(missing));
    assertThat(h.services.calls).isEmpty();
  }

  @Test
  void otherSchemesAndMalformedHeadersAreUnauthenticated() {
    assertThat(getAliceWith("Basic " + AdminHarness.KEY).status()).isEqualTo(401);
    assertThat(getAliceWith(AdminHarness.KEY).status()).isEqualTo(401);
    assertThat(getAliceWith("Bearer").status()).isEqualTo(401);
    assertThat(getAliceWith("Bearer ").status()).isEqualTo(401);
    assertThat(getAliceWith("").status()).isEqualTo(401);
  }

  @Test
  void rightKeyIsAcceptedWithAnySchemeCase() {
    assertThat(getAliceWith("Bearer " + AdminHarness.KEY).status()).isEqualTo(200);
    assertThat(getAliceWith("bearer " + AdminHarness.KEY).status()).isEqualTo(200);
  }

  @Test
  void unauthenticatedCallsLearnNothingAboutRoutes() {
    HttpReply reply = h.call("GET", "/v1/admin/no/such/route", new byte[0], null);
    assertThat(reply.status()).isEqualTo(401);
  }

  @Test
  void unknownRouteIsNotFoundAndWrongMethodIs405() {
    JsonNode notFound = AdminHarness.json(h.call("GET", "/v1/admin/nope", ""));
    assertThat(notFound.get("code").asText()).isEqualTo("NOT_FOUND");

    HttpReply wrongMethod = h.call("PUT", "/v1/admin/users/alice", "{}");
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(wrongMethod.headers()).containsEntry("Allow", "GET, PATCH");
  }

  @Test
  void blankAdminKeyIsRejectedAtConstruction() {
    RecordingServices s = new RecordingServices();
    assertThatThrownBy(
            () ->
                AdminModule.create(
                    "  ", s.users, s.conversations, s.messages, s.delivery, s.notifications, s.minter))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void moduleCreatesAWorkingEndpoint() throws Exception {
    RecordingServices s = new RecordingServices();
    var endpoint =
        AdminModule.create("k", s.users, s.conversations, s.messages, s.delivery, s.notifications, s.minter);
    HttpReply reply =
        endpoint
            .handle(
                AdminHarness.httpCall(
                    "POST",
                    "/v1/admin/users",
                    "{\"user_id\":\"zoe\"}".getBytes(StandardCharsets.UTF_8),
                    java.util.Map.of("authorization", "Bearer k")))
            .get();
    assertThat(reply.status()).isEqualTo(201);
  }
}
