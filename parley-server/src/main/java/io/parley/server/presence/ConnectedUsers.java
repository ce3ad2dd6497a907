package io.parley.server.presence;

import java.util.function.BiConsumer;

/**
 * Where the presence service learns whether a user has a session anywhere, when sessions live in
 * other processes (a cluster's gateways). Counting connects and disconnects in the engine's memory
 * cannot survive a change of engine: an engine that takes a shard over has counted nothing, and a
 * gateway that crashes never reports its disconnects. The gateways' routing declarations can: each
 * gateway declares its users while they have sessions there, the declarations outlive any one
 * engine, and a gateway that falls silent is evicted with them.
 */
public interface ConnectedUsers {
  /** True while at least one gateway holds a session of the user. */
  boolean isConnected(String userId);

  /**
   * Sets the one listener told when a user's first session anywhere appears ({@code true}) or the
   * last one goes ({@code false}); called on the source's own thread, in order per user.
   */
  void setListener(BiConsumer<String, Boolean> listener);
}
