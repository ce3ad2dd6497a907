package io.parley.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.UpdateProfile;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.http.HttpReply;
import io.parley.server.store.UserRecord;
import io.parley.server.user.UserService;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class AdminUserRoutesTest {
  private final AdminHarness h = new AdminHarness();
  private final RecordingServices s = h.services;

  private void givenUser(String id, String name, boolean deactivated) {
    s.profiles.put(
        id,
        Profile.newBuilder()
            .setUserId(id)
            .setDisplayName(name)
            .setAvatarUrl("https://img/" + id)
            .setDeactivated(deactivated)
            .build());
  }

  @Test
  void createUserUpsertsAndAnswers201WithTheProfileInProtoJson() {
    HttpReply reply =
        h.call(
            "POST",
            "/v1/admin/users",
            "{\"user_id\":\"alice\",\"display_name\":\"Alice\",\"avatar_url\":\"https://a\"}");
    assertThat(reply.status()).isEqualTo(201);
    assertThat(reply.contentType()).startsWith("application/json");
    assertThat(AdminHarness.text(reply))
        .isEqualTo("{\"userId\":\"alice\",\"displayName\":\"Alice\",\"avatarUrl\":\"https://a\"}");
    assertThat(s.onlyCall().request()).isEqualTo(List.of("alice", "Alice", "https://a"));
  }

  @Test
  void createUserWithOnlyAnIdLeavesOtherFieldsEmpty() {
    assertThat(h.call("POST", "/v1/admin/users", "{\"user_id\":\"bob\"}").status()).isEqualTo(201);
    assertThat(s.onlyCall().request()).isEqualTo(List.of("bob", "", ""));
  }

  @Test
  void getUserReadsTheProfileAsSystem() {
    givenUser("alice", "Alice", false);
    JsonNode body = AdminHarness.json(h.call("GET", "/v1/admin/users/alice", ""));
    assertThat(body.get("displayName").asText()).isEqualTo("Alice");
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.system());
    assertThat(s.onlyCall().request())
        .isEqualTo(GetProfile.newBuilder().setUserId("alice").build());
  }

  @Test
  void getUnknownUserIsNotFound() {
    HttpReply reply = h.call("GET", "/v1/admin/users/ghost", "");
    assertThat(reply.status()).isEqualTo(404);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("NOT_FOUND");
  }

  @Test
  void listUsersPagesByIdAndReturnsTheNextCursorOnFullPages() {
    givenUser("a", "A", false);
    givenUser("b", "B", false);
    givenUser("c", "C", false);
    JsonNode first = AdminHarness.json(h.call("GET", "/v1/admin/users?limit=2", ""));
    assertThat(first.get("users")).hasSize(2);
    assertThat(first.get("users").get(0).get("userId").asText()).isEqualTo("a");
    assertThat(first.get("next_after").asText()).isEqualTo("b");

    JsonNode second = AdminHarness.json(h.call("GET", "/v1/admin/users?after=b&limit=2", ""));
    assertThat(second.get("users")).hasSize(1);
    assertThat(second.has("next_after")).isFalse();
    assertThat(s.calls.get(1).request()).isEqualTo(List.of("b", 2));
  }

  @Test
  void listUsersDefaultsToFirstPageOfOneHundred() {
    JsonNode body = AdminHarness.json(h.call("GET", "/v1/admin/users?after=&limit=", ""));
    assertThat(body.get("users")).isEmpty();
    assertThat(s.onlyCall().request()).isEqualTo(List.of("", 100));
  }

  @Test
  void patchChangesOnlyTheGivenFields() {
    givenUser("alice", "Alice", false);
    HttpReply reply = h.call("PATCH", "/v1/admin/users/alice", "{\"display_name\":\"Al\"}");
    assertThat(reply.status()).isEqualTo(200);
    assertThat(AdminHarness.json(reply).get("displayName").asText()).isEqualTo("Al");
    assertThat(s.calls.get(1).request()).isEqualTo(List.of("alice", "Al", "https://img/alice"));
  }

  @Test
  void patchWithEmptyStringClearsAField() {
    givenUser("alice", "Alice", false);
    h.call("PATCH", "/v1/admin/users/alice", "{\"avatar_url\":\"\"}");
    assertThat(s.calls.get(1).request()).isEqualTo(List.of("alice", "Alice", ""));
  }

  @Test
  void patchOfUnknownUserIsNotFoundAndCreatesNothing() {
    assertThat(h.call("PATCH", "/v1/admin/users/ghost", "{\"display_name\":\"x\"}").status())
        .isEqualTo(404);
    assertThat(s.profiles).isEmpty();
  }

  @Test
  void deactivateAndReactivateToggleTheFlag() {
    givenUser("alice", "Alice", false);
    JsonNode off = AdminHarness.json(h.call("POST", "/v1/admin/users/alice/deactivate", ""));
    assertThat(off.get("deactivated").asBoolean()).isTrue();
    JsonNode on = AdminHarness.json(h.call("POST", "/v1/admin/users/alice/reactivate", "{}"));
    assertThat(on.has("deactivated")).isFalse();
    assertThat(s.calls)
        .extracting(RecordingServices.Call::request)
        .containsExactly(List.of("alice", true), List.of("alice", false));
  }

  @Test
  void tokenForActiveUserUsesTheDefaultTtl() {
    givenUser("alice", "Alice", false);
    HttpReply reply = h.call("POST", "/v1/admin/users/alice/tokens", "");
    JsonNode body = AdminHarness.json(reply);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(body.get("token").asText()).isEqualTo("token-for-alice");
    assertThat(body.get("expires_at_ms").asLong())
        .isEqualTo(1_700_000_000_000L + Duration.ofHours(1).toMillis());
    assertThat(s.mintedTtls).containsExactly(UserRoutes.DEFAULT_TOKEN_TTL);
    assertThat(s.onlyCall().caller()).isEqualTo(Caller.system());
  }

  @Test
  void tokenTtlCanBeChosen() {
    givenUser("alice", "Alice", false);
    h.call("POST", "/v1/admin/users/alice/tokens", "{\"ttl_seconds\":90}");
    assertThat(s.mintedTtls).containsExactly(Duration.ofSeconds(90));
  }

  @Test
  void tokenTtlOverTheMaximumIsRejected() {
    givenUser("alice", "Alice", false);
    long tooLong = UserRoutes.MAX_TOKEN_TTL.toSeconds() + 1;
    HttpReply reply =
        h.call("POST", "/v1/admin/users/alice/tokens", "{\"ttl_seconds\":" + tooLong + "}");
    assertThat(reply.status()).isEqualTo(400);
    assertThat(s.mintedFor).isEmpty();
  }

  @Test
  void noTokenForUnknownUser() {
    HttpReply reply = h.call("POST", "/v1/admin/users/ghost/tokens", "{}");
    assertThat(reply.status()).isEqualTo(404);
    assertThat(s.mintedFor).isEmpty();
  }

  @Test
  void noTokenForDeactivatedUser() {
    givenUser("mallory", "M", true);
    HttpReply reply = h.call("POST", "/v1/admin/users/mallory/tokens", "{}");
    assertThat(reply.status()).isEqualTo(403);
    assertThat(AdminHarness.json(reply).get("code").asText())
        .isEqualTo(ErrorCode.USER_DEACTIVATED.name());
    assertThat(s.mintedFor).isEmpty();
  }

  @Test
  void minterFailuresAreMappedToTheirStatus() {
    AdminHarness harness = new AdminHarness();
    RecordingServices rs = harness.services;
    rs.profiles.put("alice", Profile.newBuilder().setUserId("alice").build());
    AdminEndpoint failing =
        new AdminEndpoint(
            AdminHarness.KEY,
            rs.users,
            rs.conversations,
            rs.messages,
            rs.delivery,
            rs.notifications,
            (user, ttl) -> {
              throw RecordingServices.error(ErrorCode.UNSUPPORTED);
            });
    HttpReply reply =
        failing
            .handle(
                AdminHarness.httpCall(
                    "POST",
                    "/v1/admin/users/alice/tokens",
                    new byte[0],
                    Map.of("authorization", "Bearer " + AdminHarness.KEY)))
            .join();
    assertThat(reply.status()).isEqualTo(400);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("UNSUPPORTED");
  }

  @Test
  void serviceErrorsKeepTheirCodeAndRetryHint() {
    s.failNextWith(new ParleyException(ErrorCode.UNAVAILABLE, "store down", 2500));
    HttpReply reply = h.call("POST", "/v1/admin/users", "{\"user_id\":\"alice\"}");
    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.headers()).containsEntry("Retry-After", "3");
    JsonNode body = AdminHarness.json(reply);
    assertThat(body.get("code").asText()).isEqualTo("UNAVAILABLE");
    assertThat(body.get("retry_after_ms").asLong()).isEqualTo(2500);
  }

  @Test
  void unexpectedServiceFailuresAreInternalErrors() {
    s.failNextWith(new IllegalStateException("boom"));
    HttpReply reply = h.call("POST", "/v1/admin/users", "{\"user_id\":\"alice\"}");
    assertThat(reply.status()).isEqualTo(500);
    assertThat(AdminHarness.json(reply).get("message").asText()).doesNotContain("boom");
  }

  @Test
  void servicesThatThrowInsteadOfFailingTheFutureStillGetAReply() {
    AdminHarness harness = new AdminHarness();
    AdminEndpoint throwing =
        new AdminEndpoint(
            AdminHarness.KEY,
            new ThrowingUserService(),
            harness.services.conversations,
            harness.services.messages,
            harness.services.delivery,
            harness.services.notifications,
            harness.services.minter);
    HttpReply reply =
        throwing
            .handle(
                AdminHarness.httpCall(
                    "GET",
                    "/v1/admin/users/x",
                    new byte[0],
                    Map.of("authorization", "Bearer " + AdminHarness.KEY)))
            .join();
    assertThat(reply.status()).isEqualTo(403);
  }

  /** A user service whose methods throw synchronously. */
  private static final class ThrowingUserService implements UserService {
    @Override
    public CompletableFuture<UserRecord> ensureActive(String userId) {
      throw ParleyException.forbidden("nope");
    }

    @Override
    public CompletableFuture<Profile> getProfile(Caller caller, GetProfile request) {
      throw ParleyException.forbidden("nope");
    }

    @Override
    public CompletableFuture<Profile> updateProfile(Caller caller, UpdateProfile request) {
      throw ParleyException.forbidden("nope");
    }

    @Override
    public CompletableFuture<Profile> upsert(String userId, String displayName, String avatarUrl) {
      throw ParleyException.forbidden("nope");
    }

    @Override
    public CompletableFuture<Profile> setDeactivated(String userId, boolean deactivated) {
      throw ParleyException.forbidden("nope");
    }

    @Override
    public CompletableFuture<List<Profile>> list(String afterUserId, int limit) {
      throw ParleyException.forbidden("nope");
    }
  }
}
