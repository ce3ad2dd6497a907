package io.parley.client.internal;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a client keeps in its state directory besides the outbox: the device id the server
 * assigned, the sync cursor, and per conversation the last delivered seq (channels flagged, because
 * their positions are sent with every sync). Immutable.
 *
 * @param deviceId empty until the server assigned one
 * @param syncCursor empty before the first sync
 */
public record PersistedState(
    String deviceId, String syncCursor, Map<String, Long> positions, Set<String> channels) {

  public PersistedState {
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(syncCursor, "syncCursor");
    positions = Map.copyOf(positions);
    channels = Set.copyOf(channels);
  }

  /** The state of a device that never connected. */
  public static PersistedState empty() {
    return new PersistedState("", "", Map.of(), Set.of());
  }
}
