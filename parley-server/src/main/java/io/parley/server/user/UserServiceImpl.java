package io.parley.server.user;

import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.UpdateProfile;
import io.parley.server.bus.BusMessage;
import io.parley.server.bus.EventBus;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.core.Validation;
import io.parley.server.messaging.Access;
import io.parley.server.messaging.EngineFailures;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.UserRecord;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The {@link UserService}. Users are created on first sight: {@link #ensureActive} (called when a
 * token is accepted) durably creates an unknown user with their id as display name. User ids are
 * validated by {@link Validation#isValidUserId}. Every read-modify-write of one user runs after
 * the previous one completed ({@link KeyedSerializer}), so concurrent updates cannot lose a
 * deactivation. Deactivating publishes {@link BusMessage.UserDeactivated} after the commit.
 *
 * <p>Profile updates: an empty {@code display_name} keeps the current one (at most 128
 * characters otherwise); {@code avatar_url} (at most 2048 characters) replaces the current one,
 * empty clears it. Deactivated users cannot update their profile ({@code USER_DEACTIVATED}). Any
 * user may read any profile.
 *
 * <p>Thread-safe; never blocks the caller (blocking reads run on the given executor).
 */
public final class UserServiceImpl implements UserService {
  static final int MAX_DISPLAY_NAME = 128;
  static final int MAX_AVATAR_URL = 2048;
  static final int DEFAULT_LIST = 100;
  static final int MAX_LIST = 1000;

  private final ParleyStore store;
  private final EventBus bus;
  private final Clock clock;
  private final Executor reads;
  private final KeyedSerializer serial;

  public UserServiceImpl(ParleyStore store, EventBus bus, Clock clock, Executor reads) {
    this.store = Objects.requireNonNull(store, "store");
    this.bus = Objects.requireNonNull(bus, "bus");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.reads = Objects.requireNonNull(reads, "reads");
    this.serial = new KeyedSerializer(reads);
  }

  @Override
  public CompletableFuture<UserRecord> ensureActive(String userId) {
    return EngineFailures.guard(
        () -> {
          Validation.requireUserId("user_id", userId);
          return CompletableFuture.supplyAsync(() -> store.user(userId), reads)
              .thenCompose(
                  existing ->
                      existing.isPresent()
                          ? CompletableFuture.completedFuture(requireActive(existing.get()))
                          : serial.run(userId, () -> createIfAbsent(userId)));
        });
  }

  private CompletableFuture<UserRecord> createIfAbsent(String userId) {
    Optional<UserRecord> existing = store.user(userId);
    if (existing.isPresent()) {
      return CompletableFuture.completedFuture(requireActive(existing.get()));
    }
    long now = clock.millis();
    UserRecord created = new UserRecord(userId, userId, "", false, now, now);
    return put(created);
  }

  @Override
  public CompletableFuture<Profile> getProfile(Caller caller, GetProfile request) {
    return EngineFailures.guard(
        () -> {
          String id =
              request.getUserId().isEmpty()
                  ? Access.requireUser(caller)
                  : Validation.requireUserId("user_id", request.getUserId());
          return CompletableFuture.supplyAsync(() -> toProfile(require(id)), reads);
        });
  }

  @Override
  public CompletableFuture<Profile> updateProfile(Caller caller, UpdateProfile request) {
    return EngineFailures.guard(
        () -> {
          String me = Access.requireUser(caller);
          Validation.maxChars("display_name", request.getDisplayName(), MAX_DISPLAY_NAME);
          Validation.maxChars("avatar_url", request.getAvatarUrl(), MAX_AVATAR_URL);
          return serial.run(
              me,
              () -> {
                UserRecord u = requireActive(require(me));
                String name =
                    request.getDisplayName().isEmpty()
                        ? u.displayName()
                        : request.getDisplayName();
                return put(
                        new UserRecord(
                            me, name, request.getAvatarUrl(), false, u.createdAtMs(),
                            clock.millis()))
                    .thenApply(UserServiceImpl::toProfile);
              });
        });
  }

  @Override
  public CompletableFuture<Profile> upsert(String userId, String displayName, String avatarUrl) {
    return EngineFailures.guard(
        () -> {
          Validation.requireUserId("user_id", userId);
          String name = displayName == null ? "" : displayName;
          String avatar = avatarUrl == null ? "" : avatarUrl;
          Validation.maxChars("display_name", name, MAX_DISPLAY_NAME);
          Validation.maxChars("avatar_url", avatar, MAX_AVATAR_URL);
          return serial.run(
              userId,
              () -> {
                long now = clock.millis();
                Optional<UserRecord> existing = store.user(userId);
                UserRecord next =
                    existing
                        .map(
                            u ->
                                new UserRecord(
                                    userId,
                                    name.isEmpty() ? u.displayName() : name,
                                    avatar,
                                    u.deactivated(),
                                    u.createdAtMs(),
                                    now))
                        .orElseGet(
                            () ->
                                new UserRecord(
                                    userId, name.isEmpty() ? userId : name, avatar, false, now,
                                    now));
                return put(next).thenApply(UserServiceImpl::toProfile);
              });
        });
  }

  @Override
  public CompletableFuture<Profile> setDeactivated(String userId, boolean deactivated) {
    return EngineFailures.guard(
        () -> {
          Validation.requireUserId("user_id", userId);
          return serial.run(
              userId,
              () -> {
                UserRecord u = require(userId);
                if (u.deactivated() == deactivated) {
                  return CompletableFuture.completedFuture(toProfile(u));
                }
                UserRecord next =
                    new UserRecord(
                        userId, u.displayName(), u.avatarUrl(), deactivated, u.createdAtMs(),
                        clock.millis());
                return put(next)
                    .thenApply(
                        r -> {
                          if (deactivated) {
                            bus.publish(new BusMessage.UserDeactivated(userId));
                          }
                          return toProfile(r);
                        });
              });
        });
  }

  @Override
  public CompletableFuture<List<Profile>> list(String afterUserId, int limit) {
    return EngineFailures.guard(
        () -> {
          String after = afterUserId == null ? "" : afterUserId;
          int n = limit <= 0 ? DEFAULT_LIST : Math.min(limit, MAX_LIST);
          return CompletableFuture.supplyAsync(
              () -> {
                List<Profile> out = new ArrayList<>();
                for (UserRecord u : store.users(after, n)) {
                  out.add(toProfile(u));
                }
                return out;
              },
              reads);
        });
  }

  /** Writes the user; continues on the read executor, never on the store's writer thread. */
  private CompletableFuture<UserRecord> put(UserRecord u) {
    return store.write(new StoreWrite().putUser(u)).thenApplyAsync(v -> u, reads);
  }

  private UserRecord require(String userId) {
    return store
        .user(userId)
        .orElseThrow(() -> ParleyException.notFound("user not found: " + userId));
  }

  private static UserRecord requireActive(UserRecord u) {
    if (u.deactivated()) {
      throw new ParleyException(ErrorCode.USER_DEACTIVATED, "user is deactivated");
    }
    return u;
  }

  private static Profile toProfile(UserRecord u) {
    return Profile.newBuilder()
        .setUserId(u.userId())
        .setDisplayName(u.displayName())
        .setAvatarUrl(u.avatarUrl())
        .setDeactivated(u.deactivated())
        .build();
  }
}
