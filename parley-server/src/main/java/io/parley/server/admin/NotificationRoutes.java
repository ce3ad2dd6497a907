package io.parley.server.admin;

import io.parley.server.gateway.http.HttpReply;
import io.parley.server.notify.NotificationAdmin;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.WebhookRecord;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The notification routes of the admin API: webhook endpoints (create, list, get, delete), the
 * dead-letter list with manual replay, users' push targets and per-conversation mutes. A webhook's
 * secret is returned only by the create call. Stateless apart from its collaborators;
 * thread-safe.
 */
final class NotificationRoutes {
  static final int DEFAULT_LIST_LIMIT = 100;
  static final int MAX_LIST_LIMIT = 1000;

  private final NotificationAdmin notifications;
  private final AdminJson json;

  NotificationRoutes(NotificationAdmin notifications, AdminJson json) {
    this.notifications = Objects.requireNonNull(notifications, "notifications");
    this.json = Objects.requireNonNull(json, "json");
  }

  /** A webhook as the API shows it; {@code secret} is null except in the create reply. */
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  record WebhookView(
      String webhookId, String url, List<String> eventTypes, long createdAtMs, String secret) {
    static WebhookView of(WebhookRecord r, boolean withSecret) {
      return new WebhookView(
          r.webhookId(), r.url(), r.eventTypes(), r.createdAtMs(), withSecret ? r.secret() : null);
    }
  }

  /** An outbox job as the API shows it (dead letters, replays). */
  record JobView(
      String jobId,
      String kind,
      String target,
      long seq,
      int attempts,
      String lastError,
      long nextAttemptAtMs,
      long createdAtMs,
      String payload) {
    static JobView of(OutboxJob j) {
      return new JobView(
          j.jobId(),
          j.kind(),
          j.target(),
          j.seq(),
          j.attempts(),
          j.lastError(),
          j.nextAttemptAtMs(),
          j.createdAtMs(),
          new String(j.payload(), StandardCharsets.UTF_8));
    }
  }

  /** A push target as the API shows it; the token is not echoed back. */
  record PushTargetView(
      String userId, String targetId, String deviceId, String provider, long createdAtMs) {
    static PushTargetView of(PushTargetRecord t) {
      return new PushTargetView(t.userId(), t.targetId(), t.deviceId(), t.provider(), t.createdAtMs());
    }
  }

  void register(PathRouter<AdminHandler> router) {
    router
        .add("POST", "/v1/admin/webhooks", this::createWebhook)
        .add("GET", "/v1/admin/webhooks", this::listWebhooks)
        .add("GET", "/v1/admin/webhooks/{id}", this::getWebhook)
        .add("DELETE", "/v1/admin/webhooks/{id}", this::deleteWebhook)
        .add("GET", "/v1/admin/notifications/dead-letters", this::deadLetters)
        .add("POST", "/v1/admin/notifications/dead-letters/{id}/replay", this::replay)
        .add("POST", "/v1/admin/users/{id}/push-targets", this::registerPushTarget)
        .add("GET", "/v1/admin/users/{id}/push-targets", this::listPushTargets)
        .add("DELETE", "/v1/admin/users/{id}/push-targets/{target}", this::removePushTarget)
        .add("PUT", "/v1/admin/users/{id}/mutes/{conversation}", this::setMuted);
  }

  private CompletableFuture<HttpReply> createWebhook(AdminRequest r) {
    AdminBodies.CreateWebhook body =
        json.readBody(r.call().body(), AdminBodies.CreateWebhook.class, false);
    return notifications
        .createWebhook(body.url(), body.secret(), body.eventTypes())
        .thenApply(w -> json.value(201, WebhookView.of(w, true)));
  }

  private CompletableFuture<HttpReply> listWebhooks(AdminRequest r) {
    return notifications
        .webhooks()
        .thenApply(
            list ->
                json.value(
                    200, Map.of("webhooks", list.stream().map(w -> WebhookView.of(w, false)).toList())));
  }

  private CompletableFuture<HttpReply> getWebhook(AdminRequest r) {
    return notifications
        .webhook(r.param("id"))
        .thenApply(w -> json.value(200, WebhookView.of(w, false)));
  }

  private CompletableFuture<HttpReply> deleteWebhook(AdminRequest r) {
    return notifications.deleteWebhook(r.param("id")).thenApply(v -> json.value(200, Map.of()));
  }

  private CompletableFuture<HttpReply> deadLetters(AdminRequest r) {
    String after = r.query("after");
    int limit = r.intQuery("limit", DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT);
    return notifications
        .deadLetters(after == null ? "" : after, limit)
        .thenApply(
            page -> {
              Map<String, Object> out = new LinkedHashMap<>();
              out.put("dead_letters", page.stream().map(JobView::of).toList());
              if (page.size() >= limit && !page.isEmpty()) {
                out.put("next_after", page.get(page.size() - 1).jobId());
              }
              return json.value(200, out);
            });
  }

  private CompletableFuture<HttpReply> replay(AdminRequest r) {
    json.readBody(r.call().body(), AdminBodies.NoFields.class, true);
    return notifications.replay(r.param("id")).thenApply(j -> json.value(200, JobView.of(j)));
  }

  private CompletableFuture<HttpReply> registerPushTarget(AdminRequest r) {
    AdminBodies.RegisterPushTarget body =
        json.readBody(r.call().body(), AdminBodies.RegisterPushTarget.class, false);
    return notifications
        .registerPushTarget(r.param("id"), body.deviceId(), body.provider(), body.token())
        .thenApply(t -> json.value(201, PushTargetView.of(t)));
  }

  private CompletableFuture<HttpReply> listPushTargets(AdminRequest r) {
    return notifications
        .pushTargets(r.param("id"))
        .thenApply(
            list ->
                json.value(
                    200, Map.of("push_targets", list.stream().map(PushTargetView::of).toList())));
  }

  private CompletableFuture<HttpReply> removePushTarget(AdminRequest r) {
    return notifications
        .removePushTarget(r.param("id"), r.param("target"))
        .thenApply(v -> json.value(200, Map.of()));
  }

  private CompletableFuture<HttpReply> setMuted(AdminRequest r) {
    AdminBodies.SetMuted body = json.readBody(r.call().body(), AdminBodies.SetMuted.class, false);
    if (body.muted() == null) {
      throw io.parley.server.core.ParleyException.badRequest("field \"muted\" is required");
    }
    return notifications
        .setMuted(r.param("id"), r.param("conversation"), body.muted())
        .thenApply(v -> json.value(200, Map.of("muted", body.muted())));
  }
}
