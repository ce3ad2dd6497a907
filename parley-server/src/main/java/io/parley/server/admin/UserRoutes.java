package io.parley.server.admin;

import io.parley.server.auth.MintedToken;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.Profile;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.http.HttpReply;
import io.parley.server.user.UserService;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The user routes of the admin API: create (upsert), list, get, patch, deactivate, reactivate, and
 * minting a client token for an active user. Stateless apart from its collaborators; thread-safe.
 */
final class UserRoutes {
  /** Token lifetime when the request names none. */
  static final Duration DEFAULT_TOKEN_TTL = Duration.ofHours(1);

  /** Longest token lifetime the admin API issues. */
  static final Duration MAX_TOKEN_TTL = Duration.ofDays(30);

  static final int DEFAULT_LIST_LIMIT = 100;
  static final int MAX_LIST_LIMIT = 1000;

  private final UserService users;
  private final UserTokenMinter minter;
  private final AdminJson json;

  UserRoutes(UserService users, UserTokenMinter minter, AdminJson json) {
    this.users = Objects.requireNonNull(users, "users");
    this.minter = Objects.requireNonNull(minter, "minter");
    this.json = Objects.requireNonNull(json, "json");
  }

  void register(PathRouter<AdminHandler> router) {
    router
        .add("POST", "/v1/admin/users", this::create)
        .add("GET", "/v1/admin/users", this::list)
        .add("GET", "/v1/admin/users/{id}", this::get)
        .add("PATCH", "/v1/admin/users/{id}", this::update)
        .add("POST", "/v1/admin/users/{id}/deactivate", r -> setDeactivated(r, true))
        .add("POST", "/v1/admin/users/{id}/reactivate", r -> setDeactivated(r, false))
        .add("POST", "/v1/admin/users/{id}/tokens", this::mintToken);
  }

  private CompletableFuture<HttpReply> create(AdminRequest r) {
    AdminBodies.CreateUser body =
        json.readBody(r.call().body(), AdminBodies.CreateUser.class, false);
    String userId = Fields.required(body.userId(), "user_id");
    return users
        .upsert(userId, Fields.orEmpty(body.displayName()), Fields.orEmpty(body.avatarUrl()))
        .thenApply(p -> json.proto(201, p));
  }

  private CompletableFuture<HttpReply> list(AdminRequest r) {
    String after = r.query("after");
    int limit = r.intQuery("limit", DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT);
    return users
        .list(after == null ? "" : after, limit)
        .thenApply(
            page -> {
              Map<String, String> fields = new LinkedHashMap<>();
              // A full page may be followed by more; the client continues after its last id.
              fields.put(
                  "next_after",
                  page.size() >= limit && !page.isEmpty()
                      ? page.get(page.size() - 1).getUserId()
                      : null);
              return json.protoList(200, "users", List.copyOf(page), fields);
            });
  }

  private CompletableFuture<HttpReply> get(AdminRequest r) {
    return profile(r.param("id")).thenApply(p -> json.proto(200, p));
  }

  private CompletableFuture<HttpReply> update(AdminRequest r) {
    AdminBodies.UpdateUser body =
        json.readBody(r.call().body(), AdminBodies.UpdateUser.class, false);
    String userId = r.param("id");
    // UserService only offers a full upsert; merge with the current profile so absent fields
    // keep their value (and an unknown user is a 404 rather than being created).
    return profile(userId)
        .thenCompose(
            current ->
                users.upsert(
                    userId,
                    body.displayName() != null ? body.displayName() : current.getDisplayName(),
                    body.avatarUrl() != null ? body.avatarUrl() : current.getAvatarUrl()))
        .thenApply(p -> json.proto(200, p));
  }

  private CompletableFuture<HttpReply> setDeactivated(AdminRequest r, boolean deactivated) {
    json.readBody(r.call().body(), AdminBodies.NoFields.class, true);
    return users.setDeactivated(r.param("id"), deactivated).thenApply(p -> json.proto(200, p));
  }

  private CompletableFuture<HttpReply> mintToken(AdminRequest r) {
    AdminBodies.MintToken body = json.readBody(r.call().body(), AdminBodies.MintToken.class, true);
    Duration ttl = ttl(body.ttlSeconds());
    String userId = r.param("id");
    return profile(userId)
        .thenApply(
            p -> {
              if (p.getDeactivated()) {
                throw new ParleyException(
                    ErrorCode.USER_DEACTIVATED, "user " + userId + " is deactivated");
              }
              MintedToken t = minter.mint(userId, ttl);
              return json.value(200, new AdminBodies.TokenReply(t.token(), t.expiresAtMs()));
            });
  }

  private CompletableFuture<Profile> profile(String userId) {
    return users.getProfile(Caller.system(), GetProfile.newBuilder().setUserId(userId).build());
  }

  private static Duration ttl(Long seconds) {
    if (seconds == null) {
      return DEFAULT_TOKEN_TTL;
    }
    if (seconds < 1 || seconds > MAX_TOKEN_TTL.toSeconds()) {
      throw ParleyException.badRequest(
          "field \"ttl_seconds\" must be between 1 and " + MAX_TOKEN_TTL.toSeconds());
    }
    return Duration.ofSeconds(seconds);
  }
}
