package io.parley.server.messaging;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The seam that makes one component the only writer of a conversation: "run this command as the
 * sole writer of conversation X". The local implementation ({@link LaneSequencer}) hashes
 * conversations onto single-threaded lanes; a cluster implementation would route the command to
 * the engine owning the conversation's Kafka partition. Implementations are thread-safe.
 */
public interface Sequencer extends AutoCloseable {

  /**
   * Runs {@code command} as the only writer of {@code conversationId}. Commands for one
   * conversation run one at a time in submission order; a command may return before its commit
   * completes (the returned future then completes after the commit), and the next command of the
   * conversation can run in the meantime (pipelining).
   *
   * <p>The returned future completes with the command's future; it may complete on a sequencer
   * thread, so dependent stages must be quick and non-blocking. Fails with {@code UNAVAILABLE}
   * when the sequencer is overloaded and {@code SHUTTING_DOWN} after {@link #close}.
   */
  <T> CompletableFuture<T> submit(
      String conversationId, Function<LaneContext, CompletableFuture<T>> command);

  /** Stops accepting commands, lets queued commands and their commits finish, then stops. */
  @Override
  void close();
}
