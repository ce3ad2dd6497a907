package io.parley.server.bus.kafka;

import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.server.core.Caller;
import io.parley.server.messaging.MessageService;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/** {@link MessageService} run on an engine through an {@link RpcChannel}. Thread-safe. */
public final class RemoteMessageService implements MessageService {
  private final RpcChannel rpc;

  public RemoteMessageService(RpcChannel rpc) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
  }

  @Override
  public CompletableFuture<SendResult> send(Caller caller, SendMessage request) {
    return rpc.call(RpcMethods.SEND, caller, request);
  }

  @Override
  public CompletableFuture<SendResult> edit(Caller caller, EditMessage request) {
    return rpc.call(
        RpcMethods.EDIT,
        caller,
        request.toBuilder().setClientMsgId(keyOf(request.getClientMsgId())).build());
  }

  @Override
  public CompletableFuture<SendResult> delete(Caller caller, DeleteMessage request) {
    return rpc.call(
        RpcMethods.DELETE,
        caller,
        request.toBuilder().setClientMsgId(keyOf(request.getClientMsgId())).build());
  }

  @Override
  public CompletableFuture<SendResult> addReaction(Caller caller, AddReaction request) {
    return rpc.call(
        RpcMethods.ADD_REACTION,
        caller,
        request.toBuilder().setClientMsgId(keyOf(request.getClientMsgId())).build());
  }

  @Override
  public CompletableFuture<SendResult> removeReaction(Caller caller, RemoveReaction request) {
    return rpc.call(
        RpcMethods.REMOVE_REACTION,
        caller,
        request.toBuilder().setClientMsgId(keyOf(request.getClientMsgId())).build());
  }

  /**
   * The client's idempotency key, or a fresh one when it chose none: the engine that runs the call
   * records it with the event, so the same Kafka record run again (after a crash or a shard move,
   * the calls after the committed offset run once more) answers the first result instead of
   * appending a second event.
   */
  private static String keyOf(String clientKey) {
    return clientKey.isEmpty() ? "op-" + UUID.randomUUID() : clientKey;
  }

  @Override
  public CompletableFuture<HistoryPage> history(Caller caller, GetHistory request) {
    return rpc.call(RpcMethods.HISTORY, caller, request);
  }
}
