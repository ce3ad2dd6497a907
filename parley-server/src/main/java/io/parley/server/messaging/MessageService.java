package io.parley.server.messaging;

import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.server.core.Caller;
import java.util.concurrent.CompletableFuture;

/**
 * Messages and the history of a conversation's log. A send's future completes with (seq, message
 * id, timestamp) only after the event is durable; a resend with the same {@code client_msg_id}
 * from the same user returns the original result with {@code duplicate = true}. Edits, deletes and
 * reactions are events too and answer with their own seq. Futures fail with {@link
 * io.parley.server.core.ParleyException}. Thread-safe; never blocks the caller.
 */
public interface MessageService {
  CompletableFuture<SendResult> send(Caller caller, SendMessage request);

  CompletableFuture<SendResult> edit(Caller caller, EditMessage request);

  CompletableFuture<SendResult> delete(Caller caller, DeleteMessage request);

  CompletableFuture<SendResult> addReaction(Caller caller, AddReaction request);

  CompletableFuture<SendResult> removeReaction(Caller caller, RemoveReaction request);

  CompletableFuture<HistoryPage> history(Caller caller, GetHistory request);
}
