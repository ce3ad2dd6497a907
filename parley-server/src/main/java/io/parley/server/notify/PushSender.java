package io.parley.server.notify;

import io.parley.server.store.OutboxJob;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.PushTargetRecord;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers {@code push} jobs through the target's {@link PushProvider}. The token is read at send
 * time, so a target re-registered with a new token gets the push and a removed one gets none. An
 * invalid-token answer removes the target in the same commit that completes the job. Thread-safe.
 */
final class PushSender implements JobHandler {
  private static final Logger log = LoggerFactory.getLogger(PushSender.class);

  private final ParleyStore store;
  private final Map<String, PushProvider> providers;

  PushSender(ParleyStore store, Map<String, PushProvider> providers) {
    this.store = store;
    this.providers = Map.copyOf(providers);
  }

  @Override
  public CompletableFuture<JobOutcome> attempt(OutboxJob job) {
    PushMessage stored;
    try {
      stored = PushJobs.decode(job.jobId(), job.payload(), "");
    } catch (IOException e) {
      return CompletableFuture.completedFuture(new JobOutcome.Permanent("corrupt push job"));
    }
    Optional<PushTargetRecord> target = store.pushTarget(stored.userId(), stored.targetId());
    if (target.isEmpty()) {
      return CompletableFuture.completedFuture(new JobOutcome.Done("target_removed", w -> {}));
    }
    PushTargetRecord t = target.get();
    PushProvider provider = providers.get(t.provider());
    if (provider == null) {
      return CompletableFuture.completedFuture(
          new JobOutcome.Permanent("push provider " + t.provider() + " is not configured"));
    }
    PushMessage m =
        new PushMessage(
            stored.pushId(),
            stored.userId(),
            t.deviceId(),
            t.targetId(),
            t.token(),
            stored.conversationId(),
            stored.seq(),
            stored.messageId(),
            stored.title(),
            stored.body(),
            stored.badge());
    return provider
        .send(m)
        .thenApply(
            r -> {
              if (r instanceof PushResult.Sent) {
                return JobOutcome.Done.delivered();
              }
              if (r instanceof PushResult.InvalidToken i) {
                log.info("removing push target {} of {}: {}", t.targetId(), t.userId(), i.reason());
                return new JobOutcome.Done("invalid_token", w -> w.removePushTarget(t));
              }
              if (r instanceof PushResult.Retry retry) {
                return new JobOutcome.Failed(retry.reason(), retry.retryAfterMs());
              }
              if (r instanceof PushResult.ProviderUnavailable u) {
                return new JobOutcome.Postponed(u.reason(), u.atMs());
              }
              return new JobOutcome.Permanent(((PushResult.Rejected) r).reason());
            });
  }
}
