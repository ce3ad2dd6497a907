package io.parley.server.store.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.parley.server.config.ParleyConfig;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.EventRef;
import io.parley.server.store.ConversationShards;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoreUnavailableException;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.UserRecord;
import io.parley.server.store.WebhookRecord;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ParleyStore} that guards another with two Resilience4j circuit breakers, {@value
 * #WRITES} and {@value #READS}. Each counts {@link StoreUnavailableException}s among its recent
 * calls; when the failure rate reaches {@code storage.breaker_failure_rate} over {@code
 * storage.breaker_window} calls it opens, and for {@code storage.breaker_open_duration} every
 * call is refused at once with a {@link StoreUnavailableException} carrying the time left as its
 * retry hint (clients see {@code UNAVAILABLE} with {@code retry_after_ms}). Then it lets a few
 * probe calls through (half-open) and closes again when they succeed, so the node recovers by
 * itself when the store does.
 *
 * <p>Reads and writes have separate breakers because they fail separately: a full disk rejects
 * commits while reads still work, and counting both together would let the successful reads of
 * every send hide the failed commit behind it.
 *
 * <p>A refused write is thrown from {@link #write} rather than returned as a failed future: the
 * sequencer treats a synchronous rejection as "never queued" and discards the conversation state
 * it had advanced for it before any later command can build on it, so the log stays gapless.
 *
 * <p>{@link #epoch()}, {@link #isHealthy()} and {@link #close()} pass straight through. Thread-safe.
 */
public final class CircuitBreakingStore implements ParleyStore {
  /** Name (and metrics tag) of the breaker around {@link #write}. */
  public static final String WRITES = "store-write";

  /** Name (and metrics tag) of the breaker around the reads. */
  public static final String READS = "store-read";

  private static final Logger log = LoggerFactory.getLogger(CircuitBreakingStore.class);
  private static final int HALF_OPEN_PROBES = 3;
  private static final long MIN_RETRY_AFTER_MS = 100;

  private final ParleyStore store;
  private final Guard writes;
  private final Guard reads;

  private CircuitBreakingStore(ParleyStore store, CircuitBreaker writes, CircuitBreaker reads) {
    this.store = store;
    this.writes = new Guard(writes);
    this.reads = new Guard(reads);
  }

  /**
   * Wraps the store and publishes the breakers' state, call and failure-rate meters
   * ({@code resilience4j_circuitbreaker_*}, tagged {@code name}) to the registry.
   */
  public static CircuitBreakingStore wrap(
      ParleyStore store, ParleyConfig.StoreBreaker settings, MeterRegistry meters) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(meters, "meters");
    CircuitBreakerConfig config =
        CircuitBreakerConfig.custom()
            .failureRateThreshold(settings.failureRatePercent())
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(settings.windowCalls())
            .minimumNumberOfCalls(settings.windowCalls())
            .waitDurationInOpenState(settings.openDuration())
            .permittedNumberOfCallsInHalfOpenState(
                Math.min(HALF_OPEN_PROBES, settings.windowCalls()))
            // Probes must not depend on a client happening to call: readiness turns back on
            // by itself, so load balancers send traffic that can close the breaker.
            .automaticTransitionFromOpenToHalfOpenEnabled(true)
            .recordExceptions(StoreUnavailableException.class)
            .build();
    CircuitBreakerRegistry registry = CircuitBreakerRegistry.of(config);
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(registry).bindTo(meters);
    CircuitBreaker writes = registry.circuitBreaker(WRITES);
    CircuitBreaker reads = registry.circuitBreaker(READS);
    for (CircuitBreaker b : List.of(writes, reads)) {
      b.getEventPublisher()
          .onStateTransition(
              e -> {
                if (e.getStateTransition().getToState() == CircuitBreaker.State.CLOSED) {
                  log.info(
                      "store circuit breaker {} closed again: {}",
                      e.getCircuitBreakerName(),
                      e.getStateTransition());
                } else {
                  log.warn(
                      "store circuit breaker {}: {}",
                      e.getCircuitBreakerName(),
                      e.getStateTransition());
                }
              });
    }
    return new CircuitBreakingStore(store, writes, reads);
  }

  /** The breaker around writes (state for readiness and tests). */
  public CircuitBreaker writeBreaker() {
    return writes.breaker;
  }

  /** The breaker around reads. */
  public CircuitBreaker readBreaker() {
    return reads.breaker;
  }

  /** True unless the breaker is open: the readiness check of each breaker. */
  public static boolean admitsCalls(CircuitBreaker breaker) {
    CircuitBreaker.State s = breaker.getState();
    return s != CircuitBreaker.State.OPEN && s != CircuitBreaker.State.FORCED_OPEN;
  }

  @Override
  public CompletableFuture<Void> write(StoreWrite write) {
    writes.acquire();
    long start = System.nanoTime();
    CompletableFuture<Void> result;
    try {
      result = store.write(write);
    } catch (RuntimeException e) {
      writes.failed(start, e);
      throw e;
    }
    // The caller gets the stage that completes after the outcome is recorded, so whoever sees a
    // write finish also sees the breaker state that outcome produced (a caller racing ahead of
    // the bookkeeping would otherwise meet a half-open breaker whose probes look unfinished).
    return result.whenComplete(
        (v, e) -> {
          if (e == null) {
            writes.succeeded(start);
          } else {
            writes.failed(start, e);
          }
        });
  }

  @Override
  public long epoch() {
    return store.epoch();
  }

  @Override
  public long epoch(String conversationId) {
    return store.epoch(conversationId);
  }

  @Override
  public Optional<UserRecord> user(String userId) {
    return reads.call(() -> store.user(userId));
  }

  @Override
  public Optional<ConversationRecord> conversation(String conversationId) {
    return reads.call(() -> store.conversation(conversationId));
  }

  @Override
  public Optional<MemberRecord> member(String conversationId, String userId) {
    return reads.call(() -> store.member(conversationId, userId));
  }

  @Override
  public List<MemberRecord> members(String conversationId, String afterUserId, int limit) {
    return reads.call(() -> store.members(conversationId, afterUserId, limit));
  }

  @Override
  public List<MemberRecord> userConversations(String userId, String afterConversationId, int limit) {
    return reads.call(() -> store.userConversations(userId, afterConversationId, limit));
  }

  @Override
  public Optional<StoredEvent> event(String conversationId, long seq) {
    return reads.call(() -> store.event(conversationId, seq));
  }

  @Override
  public List<StoredEvent> events(
      String conversationId, long fromSeq, long toSeq, int limit, boolean ascending) {
    return reads.call(() -> store.events(conversationId, fromSeq, toSeq, limit, ascending));
  }

  @Override
  public OptionalLong idempotentSeq(String conversationId, String userId, String clientMsgId) {
    return reads.call(() -> store.idempotentSeq(conversationId, userId, clientMsgId));
  }

  @Override
  public ConversationShards shards() {
    return store.shards();
  }

  @Override
  public List<FeedEntry> feed(String userId, int shard, long afterFeedSeq, int limit) {
    return reads.call(() -> store.feed(userId, shard, afterFeedSeq, limit));
  }

  @Override
  public long[] feedHeads(String userId) {
    return reads.call(() -> store.feedHeads(userId));
  }

  @Override
  public Optional<ReceiptRecord> receipt(String conversationId, String userId) {
    return reads.call(() -> store.receipt(conversationId, userId));
  }

  @Override
  public List<ReceiptRecord> receipts(String conversationId, String afterUserId, int limit) {
    return reads.call(() -> store.receipts(conversationId, afterUserId, limit));
  }

  @Override
  public List<UserRecord> users(String afterUserId, int limit) {
    return reads.call(() -> store.users(afterUserId, limit));
  }

  @Override
  public List<EventRef> notifyPending(int limit) {
    return reads.call(() -> store.notifyPending(limit));
  }

  @Override
  public boolean isNotifyPending(String conversationId, long seq) {
    return reads.call(() -> store.isNotifyPending(conversationId, seq));
  }

  @Override
  public List<OutboxJob> outboxLaneHeads(String afterLane, int limit) {
    return reads.call(() -> store.outboxLaneHeads(afterLane, limit));
  }

  @Override
  public List<OutboxJob> outboxLane(String lane, long afterSeq, int limit) {
    return reads.call(() -> store.outboxLane(lane, afterSeq, limit));
  }

  @Override
  public Optional<OutboxJob> deadLetter(String jobId) {
    return reads.call(() -> store.deadLetter(jobId));
  }

  @Override
  public List<OutboxJob> deadLetters(String afterJobId, int limit) {
    return reads.call(() -> store.deadLetters(afterJobId, limit));
  }

  @Override
  public Optional<WebhookRecord> webhook(String webhookId) {
    return reads.call(() -> store.webhook(webhookId));
  }

  @Override
  public List<WebhookRecord> webhooks(String afterWebhookId, int limit) {
    return reads.call(() -> store.webhooks(afterWebhookId, limit));
  }

  @Override
  public Optional<PushTargetRecord> pushTarget(String userId, String targetId) {
    return reads.call(() -> store.pushTarget(userId, targetId));
  }

  @Override
  public List<PushTargetRecord> pushTargets(String userId, int limit) {
    return reads.call(() -> store.pushTargets(userId, limit));
  }

  @Override
  public boolean isMuted(String userId, String conversationId) {
    return reads.call(() -> store.isMuted(userId, conversationId));
  }

  @Override
  public boolean isHealthy() {
    return store.isHealthy();
  }

  @Override
  public void close() {
    store.close();
  }

  @Override
  public String toString() {
    return "CircuitBreakingStore[" + store + "]";
  }

  /** One breaker plus the bookkeeping for its refusals' retry hints. */
  private static final class Guard {
    private final CircuitBreaker breaker;
    private final long openNanos;
    private volatile long openedAt;

    Guard(CircuitBreaker breaker) {
      this.breaker = breaker;
      this.openNanos =
          TimeUnit.MILLISECONDS.toNanos(
              breaker.getCircuitBreakerConfig().getWaitIntervalFunctionInOpenState().apply(1));
      breaker
          .getEventPublisher()
          .onStateTransition(
              e -> {
                if (e.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                  openedAt = System.nanoTime();
                }
              });
    }

    <T> T call(Supplier<T> read) {
      acquire();
      long start = System.nanoTime();
      T value;
      try {
        value = read.get();
      } catch (RuntimeException e) {
        failed(start, e);
        throw e;
      }
      succeeded(start);
      return value;
    }

    void acquire() {
      if (!breaker.tryAcquirePermission()) {
        throw new StoreUnavailableException(
            "storage circuit breaker " + breaker.getName() + " is " + breaker.getState(),
            retryAfterMs());
      }
    }

    void succeeded(long start) {
      breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }

    void failed(long start, Throwable t) {
      Throwable cause = t;
      while (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, cause);
    }

    /** Time left until the open breaker probes again; a short pause when half-open is full. */
    private long retryAfterMs() {
      if (breaker.getState() != CircuitBreaker.State.OPEN) {
        return MIN_RETRY_AFTER_MS;
      }
      long left = openedAt + openNanos - System.nanoTime();
      return Math.max(MIN_RETRY_AFTER_MS, TimeUnit.NANOSECONDS.toMillis(left));
    }
  }
}
