package io.parley.server.store;

import java.util.Objects;

/**
 * A device's registration for push notifications while it is offline.
 *
 * @param provider which push provider delivers to it (e.g. {@code webhook})
 * @param token the provider's device token (opaque to Parley)
 */
public record PushTargetRecord(
    String userId,
    String targetId,
    String deviceId,
    String provider,
    String token,
    long createdAtMs) {
  public PushTargetRecord {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(targetId, "targetId");
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(token, "token");
  }
}
