package io.parley.server.core;

import java.util.Objects;

/**
 * Who performs an operation: an authenticated user on one device, an admin acting as a user, or
 * the system itself. Every service method takes a caller so that authorization is checked on every
 * operation. Immutable and thread-safe.
 *
 * @param userId the acting user's id (the JWT {@code sub}); empty for {@link #system()}
 * @param deviceId the device the user acts from; empty for admin or system actions
 * @param kind whether the call comes from a user session, the admin API on behalf of a user, or
 *     the system
 */
public record Caller(String userId, String deviceId, Kind kind) {

  /** The origin of a call. */
  public enum Kind {
    /** An authenticated client session. Full authorization checks apply. */
    USER,
    /** The admin API acting as a user (admin key). Authorization checks are skipped. */
    ADMIN_AS_USER,
    /** The system itself (admin API with no user). Authorization checks are skipped. */
    SYSTEM
  }

  public Caller {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(kind, "kind");
  }

  /** A user acting through a client session on a device. */
  public static Caller user(String userId, String deviceId) {
    return new Caller(userId, deviceId, Kind.USER);
  }

  /** The admin API acting on behalf of a user. */
  public static Caller adminAs(String userId) {
    return new Caller(userId, "", Kind.ADMIN_AS_USER);
  }

  /** The system (admin API without a user): events it causes have an empty actor. */
  public static Caller system() {
    return new Caller("", "", Kind.SYSTEM);
  }

  /** True when authorization checks apply (the call comes from a client session). */
  public boolean isChecked() {
    return kind == Kind.USER;
  }
}
