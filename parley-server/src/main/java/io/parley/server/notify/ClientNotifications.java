package io.parley.server.notify;

import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.PushTargetResult;
import io.parley.protocol.v1.RegisterPushTarget;
import io.parley.protocol.v1.SetConversationMuted;
import io.parley.protocol.v1.UnregisterPushTarget;
import io.parley.server.core.Caller;
import java.util.concurrent.CompletableFuture;

/**
 * The notification requests of the client protocol: a device registers its own push target and a
 * user mutes conversations. Futures fail with {@link io.parley.server.core.ParleyException}.
 * Thread-safe.
 */
public interface ClientNotifications {
  CompletableFuture<PushTargetResult> registerPushTarget(Caller caller, RegisterPushTarget request);

  CompletableFuture<Ack> unregisterPushTarget(Caller caller, UnregisterPushTarget request);

  CompletableFuture<Ack> setConversationMuted(Caller caller, SetConversationMuted request);
}
