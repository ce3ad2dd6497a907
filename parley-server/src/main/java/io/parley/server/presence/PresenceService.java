package io.parley.server.presence;

import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.SendTyping;
import io.parley.server.core.Caller;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Ephemeral state that never enters the log: typing indicators (checked against membership, sent
 * to the other members) and presence (online while any device is connected, unless the user sets
 * another status). Thread-safe.
 */
public interface PresenceService {
  CompletableFuture<Ack> typing(Caller caller, SendTyping request);

  CompletableFuture<Ack> setStatus(Caller caller, PresenceStatus status);

  /**
   * The current presence of the given users (for a session that subscribes to them). Asynchronous
   * because in a cluster the presence state lives on the engine, behind a network hop.
   */
  CompletableFuture<List<io.parley.protocol.v1.PresenceNotice>> current(List<String> userIds);

  /** A device of the user connected. */
  void deviceConnected(String userId, String deviceId);

  /** A device of the user disconnected. */
  void deviceDisconnected(String userId, String deviceId);
}
