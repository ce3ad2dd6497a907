package io.parley.server.bus.kafka;

import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.GetReceipts;
import io.parley.protocol.v1.MarkDelivered;
import io.parley.protocol.v1.MarkRead;
import io.parley.protocol.v1.ReceiptList;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.server.core.Caller;
import io.parley.server.delivery.DeliveryService;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/** {@link DeliveryService} run on an engine through an {@link RpcChannel}. Thread-safe. */
public final class RemoteDeliveryService implements DeliveryService {
  private final RpcChannel rpc;

  public RemoteDeliveryService(RpcChannel rpc) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
  }

  @Override
  public CompletableFuture<SyncResult> sync(Caller caller, Sync request) {
    return rpc.call(RpcMethods.SYNC, caller, request);
  }

  @Override
  public CompletableFuture<Ack> markDelivered(Caller caller, MarkDelivered request) {
    return rpc.call(RpcMethods.MARK_DELIVERED, caller, request);
  }

  @Override
  public CompletableFuture<Ack> markRead(Caller caller, MarkRead request) {
    return rpc.call(RpcMethods.MARK_READ, caller, request);
  }

  @Override
  public CompletableFuture<ReceiptList> receipts(Caller caller, GetReceipts request) {
    return rpc.call(RpcMethods.RECEIPTS, caller, request);
  }
}
