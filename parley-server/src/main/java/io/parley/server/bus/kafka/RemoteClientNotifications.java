package io.parley.server.bus.kafka;

import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.PushTargetResult;
import io.parley.protocol.v1.RegisterPushTarget;
import io.parley.protocol.v1.SetConversationMuted;
import io.parley.protocol.v1.UnregisterPushTarget;
import io.parley.server.core.Caller;
import io.parley.server.notify.ClientNotifications;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/** {@link ClientNotifications} run on an engine through an {@link RpcChannel}. Thread-safe. */
public final class RemoteClientNotifications implements ClientNotifications {
  private final RpcChannel rpc;

  public RemoteClientNotifications(RpcChannel rpc) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
  }

  @Override
  public CompletableFuture<PushTargetResult> registerPushTarget(
      Caller caller, RegisterPushTarget request) {
    return rpc.call(RpcMethods.REGISTER_PUSH_TARGET, caller, request);
  }

  @Override
  public CompletableFuture<Ack> unregisterPushTarget(Caller caller, UnregisterPushTarget request) {
    return rpc.call(RpcMethods.UNREGISTER_PUSH_TARGET, caller, request);
  }

  @Override
  public CompletableFuture<Ack> setConversationMuted(Caller caller, SetConversationMuted request) {
    return rpc.call(RpcMethods.SET_CONVERSATION_MUTED, caller, request);
  }
}
