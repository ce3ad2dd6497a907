package io.parley.server.bus.kafka;

import com.google.protobuf.Message;
import io.parley.server.core.Caller;
import java.util.concurrent.CompletableFuture;

/**
 * Runs one service method on an engine and completes with its response, or fails with a {@link
 * io.parley.server.core.ParleyException}. Implemented by {@link RemoteEngine}; the remote service
 * classes adapt the service interfaces onto it. Thread-safe; never blocks the caller.
 */
public interface RpcChannel {
  <Q extends Message, R extends Message> CompletableFuture<R> call(
      RpcMethod<?, Q, R> method, Caller caller, Q request);
}
