package io.parley.server.notify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.PushTargetResult;
import io.parley.protocol.v1.RegisterPushTarget;
import io.parley.protocol.v1.SetConversationMuted;
import io.parley.protocol.v1.UnregisterPushTarget;
import io.parley.server.bus.BusMessage;
import io.parley.server.bus.EventBus;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.messaging.Access;
import io.parley.server.store.EventRef;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.StoreWrite;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.WebhookRecord;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The notification service: turns committed events into outbox jobs and manages webhooks, push
 * targets, mutes and dead letters.
 *
 * <p><b>Expansion.</b> The messaging engine writes a notify-pending mark in the same commit as
 * every event. This service expands a mark into one {@code webhook} job per subscribed endpoint
 * and, for messages, one {@code push_fanout} job due after the push delay, and clears the mark in
 * the same commit as the jobs. Marks are expanded as the bus reports commits and, at start (and
 * whenever the live queue overflowed), by scanning every remaining mark, so a crash between a
 * commit and its expansion loses nothing and, because job keys are deterministic, duplicates
 * nothing. {@code user.deactivated} comes from the bus only and is not covered by a mark: a crash
 * in that window loses that webhook.
 *
 * <p>All store work runs on one notification thread ({@code parley-notify}); public methods hand
 * their work to it and return futures. Thread-safe.
 */
public final class NotificationService
    implements NotificationAdmin, ClientNotifications, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NotificationService.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFormat.Printer EVENT_JSON = JsonFormat.printer().omittingInsignificantWhitespace();
  private static final int MAX_QUEUED_EXPANSIONS = 10_000;
  private static final int RECOVERY_PAGE = 512;
  private static final int MAX_WEBHOOKS = 100;
  private static final int MAX_TARGETS_PER_USER = 100;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ParleyStore store;
  private final EventBus bus;
  private final ScheduledExecutorService executor;
  private final OutboxDispatcher dispatcher;
  private final Set<String> providers;
  private final Duration pushDelay;
  private final long pollIntervalMs;
  private final Clock clock;
  private final AtomicInteger queuedExpansions = new AtomicInteger();
  private final AtomicBoolean rescanNeeded = new AtomicBoolean(true);
  /** Scan the marks at every poll, not only after a lost live event (cluster leader). */
  private volatile boolean scanEveryPoll;
  private final AtomicBoolean delivering = new AtomicBoolean();
  private final AtomicLong lastUserEventSeq = new AtomicLong();
  private volatile List<WebhookRecord> webhookCache = List.of();
  private static final long WEBHOOK_RELOAD_MS = 10_000;
  private volatile AutoCloseable subscription;
  private volatile ScheduledFuture<?> rescans;
  private volatile ScheduledFuture<?> reloads;

  NotificationService(
      ParleyStore store,
      EventBus bus,
      ScheduledExecutorService executor,
      OutboxDispatcher dispatcher,
      Set<String> providers,
      Duration pushDelay,
      long pollIntervalMs,
      Clock clock) {
    this.store = store;
    this.bus = bus;
    this.executor = executor;
    this.dispatcher = dispatcher;
    this.providers = Set.copyOf(providers);
    this.pushDelay = pushDelay;
    this.pollIntervalMs = pollIntervalMs;
    this.clock = clock;
  }

  /**
   * Loads the webhooks, subscribes to the bus, expands leftover marks and starts delivering; with
   * {@code deliver} false (an engine without the notify role) it only serves the client and admin
   * calls, which write push targets, mutes and webhooks for the notify node to use.
   */
  void start(boolean deliver) {
    if (!deliver || !delivering.compareAndSet(false, true)) {
      return;
    }
    runOnThread(
            () -> {
              webhookCache = store.webhooks("", MAX_WEBHOOKS);
              return null;
            })
        .join();
    subscription = bus.subscribe(this::onBusMessage);
    rescanNeeded.set(true);
    executor.execute(this::rescanIfNeeded);
    rescans =
        executor.scheduleWithFixedDelay(
            this::rescanIfNeeded, pollIntervalMs, pollIntervalMs, TimeUnit.MILLISECONDS);
    // In a cluster, webhooks may be registered through another node's admin API.
    reloads =
        executor.scheduleWithFixedDelay(
            this::reloadWebhooks, WEBHOOK_RELOAD_MS, WEBHOOK_RELOAD_MS, TimeUnit.MILLISECONDS);
    dispatcher.start(pollIntervalMs);
  }

  /**
   * Starts expanding and delivering in a service started without: what a cluster process does
   * once it holds the notify lease. Most events are sequenced by other engines and never reach
   * this process's bus, so from now on the durable marks are scanned at every poll interval (the
   * live events of this process's own engine are still expanded at once). Does nothing if it
   * delivers already.
   */
  public void startDelivering() {
    scanEveryPoll = true;
    start(true);
  }

  /**
   * Stops expanding and delivering (what a cluster process does when another took the notify
   * lease): no new attempt starts; attempts in flight may still finish and record their outcome
   * (receivers see the same delivery id if the new holder sends the job again). The service keeps
   * serving the client and admin calls, and {@link #startDelivering} starts it again.
   */
  public void stopDelivering() {
    if (!delivering.compareAndSet(true, false)) {
      return;
    }
    scanEveryPoll = false;
    closeSubscription();
    for (ScheduledFuture<?> task : new ScheduledFuture<?>[] {rescans, reloads}) {
      if (task != null) {
        task.cancel(false);
      }
    }
    dispatcher.stop();
  }

  private void closeSubscription() {
    AutoCloseable s = subscription;
    subscription = null;
    if (s != null) {
      try {
        s.close();
      } catch (Exception ignored) {
        // the local bus's handle cannot fail
      }
    }
  }

  private void reloadWebhooks() {
    try {
      webhookCache = store.webhooks("", MAX_WEBHOOKS);
    } catch (RuntimeException e) {
      log.warn("cannot reload webhooks: {}", e.toString());
    }
  }

  @Override
  public void close() {
    closeSubscription();
    dispatcher.stop();
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
  }

  // ---- expansion ----

  private void onBusMessage(BusMessage message) {
    if (message instanceof BusMessage.CommittedEvents c) {
      if (queuedExpansions.incrementAndGet() > MAX_QUEUED_EXPANSIONS) {
        // The marks are durable: drop the live copy and let the next scan pick them up.
        queuedExpansions.decrementAndGet();
        rescanNeeded.set(true);
        return;
      }
      submit(
          () -> {
            queuedExpansions.decrementAndGet();
            expandAll(
                c.events().stream()
                    .map(e -> new EventRef(e.getConversationId(), e.getSeq()))
                    .toList());
          });
    } else if (message instanceof BusMessage.UserDeactivated u) {
      submit(() -> enqueueUserDeactivated(u.userId()));
    }
  }

  private void submit(Runnable task) {
    try {
      executor.execute(
          () -> {
            try {
              task.run();
            } catch (RuntimeException e) {
              log.warn("notification expansion failed (marks are rescanned): {}", e.toString());
              rescanNeeded.set(true);
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // Closing: the marks stay and are expanded after the restart.
    }
  }

  private void rescanIfNeeded() {
    if (!rescanNeeded.getAndSet(false) && !scanEveryPoll) {
      return;
    }
    try {
      while (true) {
        List<EventRef> marks = store.notifyPending(RECOVERY_PAGE);
        expandAll(marks);
        if (marks.size() < RECOVERY_PAGE) {
          return;
        }
      }
    } catch (RuntimeException e) {
      log.warn("notification rescan failed, will retry: {}", e.toString());
      rescanNeeded.set(true);
    }
  }

  /**
   * Expands marks into their jobs in one commit that also clears them (one fsync for a whole
   * committed batch or scan page, not one per event). Marks already cleared are skipped.
   */
  private void expandAll(List<EventRef> refs) {
    StoreWrite w = new StoreWrite();
    for (EventRef ref : refs) {
      StoreWrite one = new StoreWrite();
      try {
        expandInto(ref, one);
      } catch (IllegalArgumentException | IllegalStateException e) {
        // An event that cannot be expanded (corrupt record, unrenderable) would otherwise block
        // every later mark on each rescan: drop its notifications, loudly.
        log.error("dropping the notifications of {}#{}: {}", ref.conversationId(), ref.seq(), e.toString());
        one = new StoreWrite().clearNotifyPending(ref);
      }
      one.notifyClears().forEach(w::clearNotifyPending);
      one.outboxPuts().forEach(w::putOutboxJob);
    }
    if (w.isEmpty()) {
      return;
    }
    store.write(w).join();
    if (!w.outboxPuts().isEmpty()) {
      dispatcher.wake();
    }
  }

  private void expandInto(EventRef ref, StoreWrite w) {
    if (!store.isNotifyPending(ref.conversationId(), ref.seq())) {
      return;
    }
    w.clearNotifyPending(ref);
    Optional<StoredEvent> stored = store.event(ref.conversationId(), ref.seq());
    long now = clock.millis();
    if (stored.isPresent()) {
      Event e = stored.get().event();
      Optional<WebhookEventType> type = WebhookEventType.of(e);
      if (type.isPresent()) {
        for (WebhookRecord hook : webhookCache) {
          if (hook.eventTypes().contains(type.get().wireName())) {
            String lane = OutboxKeys.webhookLane(hook.webhookId(), e.getConversationId());
            String id = OutboxKeys.jobId(OutboxKeys.WEBHOOK, lane, e.getSeq());
            w.putOutboxJob(
                new OutboxJob(
                    lane,
                    e.getSeq(),
                    id,
                    OutboxKeys.WEBHOOK,
                    hook.webhookId(),
                    eventPayload(id, type.get(), e),
                    0,
                    now,
                    "",
                    now));
          }
        }
      }
      if (e.hasMessagePosted() && !providers.isEmpty()) {
        String lane = OutboxKeys.fanoutLane(e.getConversationId());
        w.putOutboxJob(
            new OutboxJob(
                lane,
                e.getSeq(),
                OutboxKeys.jobId(OutboxKeys.PUSH_FANOUT, lane, e.getSeq()),
                OutboxKeys.PUSH_FANOUT,
                e.getConversationId(),
                new byte[0],
                0,
                Math.max(now, e.getTimestampMs() + pushDelay.toMillis()),
                "",
                now));
      }
    }
  }

  private void enqueueUserDeactivated(String userId) {
    long now = clock.millis();
    // Strictly increasing per node so user events keep their order within each endpoint's lane.
    long seq = lastUserEventSeq.updateAndGet(prev -> Math.max(prev + 1, now));
    StoreWrite w = new StoreWrite();
    for (WebhookRecord hook : webhookCache) {
      if (hook.eventTypes().contains(WebhookEventType.USER_DEACTIVATED.wireName())) {
        String lane = OutboxKeys.webhookUserLane(hook.webhookId());
        String id = OutboxKeys.jobId(OutboxKeys.WEBHOOK, lane, seq);
        ObjectNode data = JSON.createObjectNode().put("user_id", userId);
        w.putOutboxJob(
            new OutboxJob(
                lane,
                seq,
                id,
                OutboxKeys.WEBHOOK,
                hook.webhookId(),
                envelope(id, WebhookEventType.USER_DEACTIVATED, now, null, 0, data),
                0,
                now,
                "",
                now));
      }
    }
    if (!w.isEmpty()) {
      store.write(w).join();
      dispatcher.wake();
    }
  }

  private byte[] eventPayload(String id, WebhookEventType type, Event e) {
    try {
      return envelope(
          id,
          type,
          e.getTimestampMs(),
          e.getConversationId(),
          e.getSeq(),
          JSON.readTree(EVENT_JSON.print(e)));
    } catch (InvalidProtocolBufferException | com.fasterxml.jackson.core.JsonProcessingException ex) {
      throw new IllegalStateException("cannot render event as JSON", ex);
    }
  }

  private static byte[] envelope(
      String id,
      WebhookEventType type,
      long occurredAtMs,
      String conversationId,
      long seq,
      com.fasterxml.jackson.databind.JsonNode data) {
    ObjectNode root = JSON.createObjectNode();
    root.put("id", id);
    root.put("type", type.wireName());
    root.put("occurred_at_ms", occurredAtMs);
    if (conversationId != null) {
      root.put("conversation_id", conversationId);
      root.put("seq", seq);
    }
    root.set("data", data);
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
  }

  // ---- admin ----

  @Override
  public CompletableFuture<WebhookRecord> createWebhook(
      String url, String secret, List<String> eventTypes) {
    validateUrl(url);
    if (secret != null && secret.length() < 16) {
      throw ParleyException.badRequest("field \"secret\" must be at least 16 characters");
    }
    if (eventTypes == null || eventTypes.isEmpty()) {
      throw ParleyException.badRequest(
          "field \"event_types\" must list at least one of " + WebhookEventType.wireNames());
    }
    Set<String> types = new LinkedHashSet<>();
    for (String t : eventTypes) {
      if (t == null || WebhookEventType.fromWireName(t).isEmpty()) {
        throw ParleyException.badRequest(
            "unknown event type " + t + "; known types: " + WebhookEventType.wireNames());
      }
      types.add(t);
    }
    String actualSecret = secret != null ? secret : generatedSecret();
    return runOnThread(
        () -> {
          if (webhookCache.size() >= MAX_WEBHOOKS) {
            throw new ParleyException(
                ErrorCode.LIMIT_EXCEEDED, "at most " + MAX_WEBHOOKS + " webhooks can be configured");
          }
          WebhookRecord r =
              new WebhookRecord(
                  "wh_" + UUID.randomUUID().toString().replace("-", ""),
                  url,
                  actualSecret,
                  List.copyOf(types),
                  clock.millis());
          store.write(new StoreWrite().putWebhook(r)).join();
          webhookCache = store.webhooks("", MAX_WEBHOOKS);
          return r;
        });
  }

  @Override
  public CompletableFuture<List<WebhookRecord>> webhooks() {
    return runOnThread(() -> store.webhooks("", MAX_WEBHOOKS));
  }

  @Override
  public CompletableFuture<WebhookRecord> webhook(String webhookId) {
    return runOnThread(() -> requireWebhook(webhookId));
  }

  @Override
  public CompletableFuture<Void> deleteWebhook(String webhookId) {
    return runOnThread(
        () -> {
          requireWebhook(webhookId);
          store.write(new StoreWrite().removeWebhook(webhookId)).join();
          webhookCache = store.webhooks("", MAX_WEBHOOKS);
          return null;
        });
  }

  @Override
  public CompletableFuture<List<OutboxJob>> deadLetters(String afterJobId, int limit) {
    return runOnThread(() -> store.deadLetters(afterJobId, limit));
  }

  @Override
  public CompletableFuture<OutboxJob> replay(String jobId) {
    return runOnThread(
        () -> {
          OutboxJob dead =
              validId(jobId, "dead letter")
                  .flatMap(store::deadLetter)
                  .orElseThrow(() -> ParleyException.notFound("no dead letter " + jobId));
          OutboxJob again = dead.replayed(clock.millis());
          store.write(new StoreWrite().removeDeadLetter(jobId).putOutboxJob(again)).join();
          dispatcher.wake();
          return again;
        });
  }

  @Override
  public CompletableFuture<PushTargetRecord> registerPushTarget(
      String userId, String deviceId, String provider, String token) {
    if (deviceId == null || deviceId.isBlank() || deviceId.length() > 128) {
      throw ParleyException.badRequest("a device id of 1 to 128 characters is required");
    }
    if (provider == null || !providers.contains(provider)) {
      throw ParleyException.badRequest(
          "push provider " + provider + " is not configured; configured: " + providers);
    }
    if (token == null || token.isBlank() || token.length() > 4096) {
      throw ParleyException.badRequest("a token of 1 to 4096 characters is required");
    }
    return runOnThread(
        () -> {
          if (store.user(userId).isEmpty()) {
            throw ParleyException.notFound("no user " + userId);
          }
          String targetId = targetId(userId, deviceId);
          List<PushTargetRecord> existing = store.pushTargets(userId, MAX_TARGETS_PER_USER);
          boolean replaces = existing.stream().anyMatch(t -> t.targetId().equals(targetId));
          if (!replaces && existing.size() >= MAX_TARGETS_PER_USER) {
            throw new ParleyException(
                ErrorCode.LIMIT_EXCEEDED,
                "at most " + MAX_TARGETS_PER_USER + " push targets per user");
          }
          PushTargetRecord t =
              new PushTargetRecord(userId, targetId, deviceId, provider, token, clock.millis());
          store.write(new StoreWrite().putPushTarget(t)).join();
          return t;
        });
  }

  @Override
  public CompletableFuture<List<PushTargetRecord>> pushTargets(String userId) {
    return runOnThread(() -> store.pushTargets(userId, MAX_TARGETS_PER_USER));
  }

  @Override
  public CompletableFuture<Void> removePushTarget(String userId, String targetId) {
    return runOnThread(
        () -> {
          PushTargetRecord t =
              validId(targetId, "push target")
                  .flatMap(id -> store.pushTarget(userId, id))
                  .orElseThrow(() -> ParleyException.notFound("no push target " + targetId));
          store.write(new StoreWrite().removePushTarget(t)).join();
          return null;
        });
  }

  @Override
  public CompletableFuture<Void> setMuted(String userId, String conversationId, boolean muted) {
    return runOnThread(
        () -> {
          if (store.member(conversationId, userId).isEmpty()) {
            // The messaging services' one answer for "not visible" and "does not exist".
            throw Access.conversationNotFound();
          }
          store.write(new StoreWrite().setMuted(userId, conversationId, muted)).join();
          return null;
        });
  }

  // ---- client protocol ----

  @Override
  public CompletableFuture<PushTargetResult> registerPushTarget(
      Caller caller, RegisterPushTarget request) {
    return registerPushTarget(
            caller.userId(), requireDevice(caller), request.getProvider(), request.getToken())
        .thenApply(
            t ->
                PushTargetResult.newBuilder()
                    .setTargetId(t.targetId())
                    .setDeviceId(t.deviceId())
                    .setProvider(t.provider())
                    .build());
  }

  @Override
  public CompletableFuture<Ack> unregisterPushTarget(Caller caller, UnregisterPushTarget request) {
    return removePushTarget(caller.userId(), targetId(caller.userId(), requireDevice(caller)))
        .thenApply(v -> Ack.getDefaultInstance());
  }

  @Override
  public CompletableFuture<Ack> setConversationMuted(Caller caller, SetConversationMuted request) {
    if (request.getConversationId().isEmpty()) {
      throw ParleyException.badRequest("conversation_id is required");
    }
    return setMuted(caller.userId(), request.getConversationId(), request.getMuted())
        .thenApply(v -> Ack.getDefaultInstance());
  }

  private static String requireDevice(Caller caller) {
    if (caller.deviceId() == null || caller.deviceId().isEmpty()) {
      throw ParleyException.badRequest("push targets belong to a device: authenticate with a device_id");
    }
    return caller.deviceId();
  }

  /** One target per (user, device): registering again replaces the token. */
  static String targetId(String userId, String deviceId) {
    return "pt_"
        + UUID.nameUUIDFromBytes((userId + "\u001f" + deviceId).getBytes(StandardCharsets.UTF_8))
            .toString()
            .replace("-", "");
  }

  private WebhookRecord requireWebhook(String webhookId) {
    return validId(webhookId, "webhook")
        .flatMap(store::webhook)
        .orElseThrow(() -> ParleyException.notFound("no webhook " + webhookId));
  }

  /** The id if the store could hold it (else nothing by that id can exist). */
  private static Optional<String> validId(String id, String what) {
    if (id == null || id.isEmpty() || id.length() > 128 || id.indexOf('\0') >= 0) {
      return Optional.empty();
    }
    return Optional.of(id);
  }

  private static void validateUrl(String url) {
    if (url == null || url.isBlank()) {
      throw ParleyException.badRequest("field \"url\" is required");
    }
    try {
      URI u = new URI(url);
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("https") || scheme.equals("http")) || u.getHost() == null) {
        throw ParleyException.badRequest("field \"url\" must be an absolute http(s) URL");
      }
    } catch (URISyntaxException e) {
      throw ParleyException.badRequest("field \"url\" is not a valid URL: " + e.getMessage());
    }
  }

  private static String generatedSecret() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return "whsec_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** Runs store work on the notification thread; store failures become UNAVAILABLE. */
  private <T> CompletableFuture<T> runOnThread(Supplier<T> work) {
    try {
      return CompletableFuture.supplyAsync(
          () -> {
            try {
              return work.get();
            } catch (ParleyException e) {
              throw e;
            } catch (IllegalArgumentException e) {
              // The store rejects ids it could never hold (empty, NUL, over 256 bytes).
              throw ParleyException.badRequest(e.getMessage());
            } catch (RuntimeException e) {
              throw ParleyException.from(e);
            }
          },
          executor);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          new ParleyException(ErrorCode.SHUTTING_DOWN, "the node is shutting down"));
    }
  }

}
