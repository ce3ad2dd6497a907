package io.parley.server.delivery;

import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.GetReceipts;
import io.parley.protocol.v1.MarkDelivered;
import io.parley.protocol.v1.MarkRead;
import io.parley.protocol.v1.ReceiptList;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.server.core.Caller;
import java.util.concurrent.CompletableFuture;

/**
 * Offline sync and receipts. {@link #sync} returns, page by page, exactly the events a device
 * missed since its cursor (read from the user's change feed, so the cost grows with the number of
 * changes, not with the number of conversations). Receipts are cumulative and only move forward;
 * unread counts derive from them. Futures fail with {@link io.parley.server.core.ParleyException}.
 * Thread-safe; never blocks the caller.
 */
public interface DeliveryService {
  CompletableFuture<SyncResult> sync(Caller caller, Sync request);

  CompletableFuture<Ack> markDelivered(Caller caller, MarkDelivered request);

  CompletableFuture<Ack> markRead(Caller caller, MarkRead request);

  CompletableFuture<ReceiptList> receipts(Caller caller, GetReceipts request);
}
