package io.parley.server.messaging;

import java.util.concurrent.CompletableFuture;

/**
 * What a command sees while it runs as the only writer of a conversation: the conversation's
 * current in-memory state and a way to commit a change to it. Valid only on the thread that runs
 * the command and only for the duration of the command call; not thread-safe.
 */
public interface LaneContext {

  /**
   * The state of the conversation as of every command sequenced before this one (it may run
   * ahead of the disk while earlier commits are in flight). Loaded from the store on first use
   * and reloaded when the store's epoch moved. {@link ConversationState#exists()} is false for a
   * conversation that has not been created.
   */
  ConversationState state(String conversationId);

  /**
   * Hands the change to the store (tagged with the state's epoch) and returns a future that
   * completes on this lane after the commit: normally when it is durable, exceptionally with a
   * typed {@link io.parley.server.core.ParleyException} ({@code UNAVAILABLE} for store
   * failures) after the state has been evicted. Commit futures of one conversation complete in
   * commit order, so stages attached to them on the lane (bus publishes) run in seq order.
   */
  CompletableFuture<Void> commit(StateChange change);
}
