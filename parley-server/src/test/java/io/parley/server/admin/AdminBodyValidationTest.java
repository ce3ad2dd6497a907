package io.parley.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.server.gateway.http.HttpReply;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class AdminBodyValidationTest {
  private final AdminHarness h = new AdminHarness();

  private JsonNode badRequest(String method, String path, String body) {
    HttpReply reply = h.call(method, path, body);
    JsonNode json = AdminHarness.json(reply);
    assertThat(reply.status()).as(json.toString()).isEqualTo(400);
    assertThat(json.get("code").asText()).isEqualTo("BAD_REQUEST");
    assertThat(h.services.calls).as("no service is called for a bad request").isEmpty();
    return json;
  }

  private String message(String method, String path, String body) {
    return badRequest(method, path, body).get("message").asText();
  }

  @Test
  void invalidJsonIsRejected() {
    assertThat(message("POST", "/v1/admin/users", "{\"user_id\": ")).startsWith("invalid JSON");
    assertThat(message("POST", "/v1/admin/users", "{user_id: 'x'}")).startsWith("invalid JSON");
  }

  @Test
  void unknownFieldIsNamed() {
    assertThat(message("POST", "/v1/admin/users", "{\"user_id\":\"a\",\"nickname\":\"x\"}"))
        .contains("unknown field \"nickname\"")
        .contains("user_id");
  }

  @Test
  void camelCaseNamesAreUnknownFields() {
    assertThat(message("POST", "/v1/admin/users", "{\"userId\":\"a\"}"))
        .contains("unknown field \"userId\"");
  }

  @Test
  void wrongTypesNameTheFieldAndTheExpectedType() {
    assertThat(message("POST", "/v1/admin/users", "{\"user_id\":42}"))
        .isEqualTo("field \"user_id\" must be a string");
    assertThat(message("POST", "/v1/admin/users/alice/tokens", "{\"ttl_seconds\":\"60\"}"))
        .isEqualTo("field \"ttl_seconds\" must be an integer");
    assertThat(message("POST", "/v1/admin/users/alice/tokens", "{\"ttl_seconds\":1.5}"))
        .isEqualTo("field \"ttl_seconds\" must be an integer");
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"group\",\"creator\":\"a\",\"members\":\"bob\"}"))
        .isEqualTo("field \"members\" must be an array");
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"group\",\"creator\":\"a\",\"members\":[\"bob\",7]}"))
        .isEqualTo("field \"members[1]\" must be a string");
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"channel\",\"creator\":\"a\",\"public\":\"yes\"}"))
        .isEqualTo("field \"public\" must be a boolean");
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"channel\",\"creator\":\"a\",\"public\":1}"))
        .isEqualTo("field \"public\" must be a boolean");
    assertThat(message("POST", "/v1/admin/users", "{\"user_id\":true}"))
        .isEqualTo("field \"user_id\" must be a string");
    assertThat(message("POST", "/v1/admin/users", "{\"user_id\":{\"id\":\"a\"}}"))
        .isEqualTo("field \"user_id\" must be a string");
  }

  @Test
  void bodyMustBeAnObject() {
    assertThat(message("POST", "/v1/admin/users", "[1,2]")).contains("JSON object");
    assertThat(message("POST", "/v1/admin/users", "\"alice\"")).contains("JSON object");
    assertThat(message("POST", "/v1/admin/users", "null")).contains("JSON object");
    assertThat(message("POST", "/v1/admin/users", "")).contains("required");
  }

  @Test
  void duplicateFieldsAndTrailingDataAreRejected() {
    assertThat(message("POST", "/v1/admin/users", "{\"user_id\":\"a\",\"user_id\":\"b\"}"))
        .contains("Duplicate field");
    assertThat(message("POST", "/v1/admin/users", "{\"user_id\":\"a\"} {}"))
        .contains("unexpected data after");
  }

  @Test
  void outOfRangeNumbersAreRejected() {
    assertThat(
            message(
                "POST", "/v1/admin/users/alice/tokens", "{\"ttl_seconds\":99999999999999999999}"))
        .contains("out of range");
    assertThat(message("POST", "/v1/admin/users/alice/tokens", "{\"ttl_seconds\":0}"))
        .contains("ttl_seconds");
  }

  @Test
  void invalidUtf8IsABadRequest() {
    byte[] body = {'{', '"', 'u', (byte) 0xff, (byte) 0xfe, '"', ':', '1', '}'};
    HttpReply reply = h.call("POST", "/v1/admin/users", body, "Bearer " + AdminHarness.KEY);
    assertThat(reply.status()).isEqualTo(400);
    assertThat(AdminHarness.json(reply).get("message").asText()).startsWith("invalid JSON");
  }

  @Test
  void bodiesOverOneMebibyteAreTooLarge() {
    byte[] body = new byte[AdminJson.MAX_BODY_BYTES + 1];
    Arrays.fill(body, (byte) ' ');
    HttpReply reply = h.call("POST", "/v1/admin/users", body, "Bearer " + AdminHarness.KEY);
    assertThat(reply.status()).isEqualTo(413);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("TOO_LARGE");
  }

  @Test
  void aBodyOfExactlyOneMebibyteIsParsed() {
    String prefix = "{\"user_id\":\"a\",\"display_name\":\"";
    String suffix = "\"}";
    int fill = AdminJson.MAX_BODY_BYTES - prefix.length() - suffix.length();
    String body = prefix + "x".repeat(fill) + suffix;
    assertThat(body.getBytes(StandardCharsets.UTF_8)).hasSize(AdminJson.MAX_BODY_BYTES);
    assertThat(h.call("POST", "/v1/admin/users", body).status()).isEqualTo(201);
  }

  @Test
  void missingRequiredFieldsAreNamed() {
    assertThat(message("POST", "/v1/admin/users", "{}")).isEqualTo("field \"user_id\" is required");
    assertThat(message("POST", "/v1/admin/users", "{\"user_id\":\"  \"}"))
        .isEqualTo("field \"user_id\" is required");
    assertThat(message("POST", "/v1/admin/conversations", "{\"kind\":\"group\"}"))
        .isEqualTo("field \"creator\" is required");
    assertThat(message("POST", "/v1/admin/conversations/grp_1/messages", "{\"text\":\"hi\"}"))
        .isEqualTo("field \"client_msg_id\" is required");
  }

  @Test
  void routesWithoutFieldsAcceptOnlyAnEmptyObject() {
    assertThat(message("POST", "/v1/admin/users/alice/deactivate", "{\"really\":true}"))
        .contains("unknown field \"really\"")
        .contains("allowed fields: none");
  }

  @Test
  void conversationShapeRulesAreChecked() {
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"direct\",\"creator\":\"a\",\"members\":[\"b\",\"c\"]}"))
        .contains("exactly one");
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"direct\",\"creator\":\"a\",\"members\":[\"b\"],\"title\":\"t\"}"))
        .contains("no \"title\"");
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"group\",\"creator\":\"a\",\"public\":true}"))
        .contains("only channels");
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"channel\",\"creator\":\"a\",\"members\":[\"b\"]}"))
        .contains("no initial \"members\"");
    assertThat(message("POST", "/v1/admin/conversations", "{\"kind\":\"room\",\"creator\":\"a\"}"))
        .contains("direct, group, channel");
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"group\",\"creator\":\"a\",\"members\":[\"b\",\"b\"]}"))
        .contains("twice");
    assertThat(
            message(
                "POST",
                "/v1/admin/conversations",
                "{\"kind\":\"group\",\"creator\":\"a\",\"members\":[null]}"))
        .contains("members[0]");
  }

  @Test
  void messageBodyRulesAreChecked() {
    String path = "/v1/admin/conversations/grp_1/messages";
    assertThat(message("POST", path, "{\"client_msg_id\":\"c1\"}")).contains("exactly one");
    assertThat(
            message(
                "POST", path, "{\"client_msg_id\":\"c1\",\"text\":\"a\",\"body_base64\":\"YQ==\"}"))
        .contains("exactly one");
    assertThat(message("POST", path, "{\"client_msg_id\":\"c1\",\"body_base64\":\"***\"}"))
        .contains("base64");
    assertThat(
            message("POST", path, "{\"client_msg_id\":\"c1\",\"text\":\"a\",\"reply_to_seq\":-1}"))
        .contains("reply_to_seq");
    assertThat(
            message(
                "POST", path, "{\"client_msg_id\":\"c1\",\"text\":\"a\",\"content_type\":\"\"}"))
        .contains("content_type");
    assertThat(message("POST", path, "{\"client_msg_id\":\"c1\",\"text\":\"a\",\"as_user\":\"\"}"))
        .contains("as_user");
  }

  @Test
  void addMembersNeedsAtLeastOneUser() {
    assertThat(message("POST", "/v1/admin/conversations/grp_1/members", "{\"user_ids\":[]}"))
        .contains("at least one");
    assertThat(message("POST", "/v1/admin/conversations/grp_1/members", "{}"))
        .contains("at least one");
  }

  @Test
  void malformedQueryParametersAreNamed() {
    assertThat(message("GET", "/v1/admin/users?limit=ten", ""))
        .contains("limit")
        .contains("integer");
    assertThat(message("GET", "/v1/admin/users?limit=0", "")).contains("between 1 and 1000");
    assertThat(message("GET", "/v1/admin/users?limit=1001", "")).contains("between 1 and 1000");
    assertThat(message("GET", "/v1/admin/conversations/c/messages?from_seq=-3", ""))
        .contains("from_seq");
    assertThat(message("GET", "/v1/admin/conversations/c/messages?direction=sideways", ""))
        .contains("backward or forward");
    assertThat(message("GET", "/v1/admin/users/bob/conversations?limit=x", "")).contains("limit");
  }
}
