package io.parley.server.notify;

import io.micrometer.core.instrument.MeterRegistry;
import io.parley.server.bus.EventBus;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.DaemonThreads;
import io.parley.server.messaging.BeforeSendHook;
import io.parley.server.notify.push.ApnsPushProvider;
import io.parley.server.notify.push.FcmPushProvider;
import io.parley.server.notify.push.WebPushProvider;
import io.parley.server.notify.push.WebhookPushProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import io.parley.server.store.ParleyStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Wiring of the notification service for the composition root: builds the HTTP client, the
 * circuit breakers, the configured push providers, the job handlers and the outbox dispatcher,
 * and starts them. Push providers: the generic {@code webhook} gateway, FCM HTTP v1, Web Push and
 * APNs, each enabled by its configuration.
 */
public final class NotifyModule {
  private NotifyModule() {}

  /**
   * The before-send moderation hook of the configuration, or {@link BeforeSendHook#NONE} when
   * {@code notify.before_send_url} is unset. Built before the engine (which calls it), with its
   * own HTTP client and breaker registry, the breaker exported to {@code /metrics} like the
   * others.
   */
  public static BeforeSendHook beforeSendHook(
      ParleyConfig.Notify config, MeterRegistry metrics, Clock clock) {
    ParleyConfig.BeforeSend c = config.beforeSend();
    if (c.url() == null) {
      return BeforeSendHook.NONE;
    }
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(c.timeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    return new HttpBeforeSendHook(
        URI.create(c.url()),
        c.secret(),
        c.timeout(),
        c.failClosed(),
        http,
        new EndpointBreakers(config.breakerOpenDuration(), metrics).forBeforeSendHook(),
        metrics,
        clock);
  }

  /** Builds and starts the service, delivering the outbox; close it before the store. */
  public static NotificationService start(
      ParleyConfig.Notify config, ParleyStore store, EventBus bus, MeterRegistry metrics, Clock clock) {
    return start(config, store, bus, metrics, clock, true);
  }

  /**
   * Builds and starts the service; {@code deliver} says whether this process runs the notify role
   * (expands events into jobs and delivers the outbox) or only serves the client and admin calls
   * of an engine. Close it before the store.
   */
  public static NotificationService start(
      ParleyConfig.Notify config,
      ParleyStore store,
      EventBus bus,
      MeterRegistry metrics,
      Clock clock,
      boolean deliver) {
    ScheduledExecutorService executor =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("parley-notify"));
    // The JDK client: HTTP/1.1 and HTTP/2, async, no extra dependency. Redirects are not
    // followed, so a webhook cannot be bounced to another host.
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(config.httpTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    EndpointBreakers breakers = new EndpointBreakers(config.breakerOpenDuration(), metrics);
    Map<String, PushProvider> providers = new HashMap<>();
    if (config.pushWebhookUrl() != null) {
      providers.put(
          WebhookPushProvider.NAME,
          new WebhookPushProvider(
              URI.create(config.pushWebhookUrl()),
              config.pushWebhookSecret(),
              http,
              breakers,
              config.httpTimeout(),
              clock));
    }
    if (config.fcmServiceAccountFile() != null) {
      try {
        providers.put(
            FcmPushProvider.NAME,
            new FcmPushProvider(
                FcmPushProvider.ServiceAccount.read(Path.of(config.fcmServiceAccountFile())),
                URI.create(config.fcmBaseUrl()),
                http,
                breakers,
                config.httpTimeout(),
                clock));
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot read notify.fcm_service_account_file: " + e.getMessage(), e);
      }
    }
    if (config.webpushVapidPublicKey() != null) {
      try {
        providers.put(
            WebPushProvider.NAME,
            new WebPushProvider(
                config.webpushVapidPublicKey(),
                config.webpushVapidPrivateKey(),
                config.webpushSubject(),
                http,
                breakers,
                config.httpTimeout(),
                clock));
      } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
        throw new IllegalArgumentException("invalid notify.webpush_vapid_* key: " + e.getMessage(), e);
      }
    }
    if (config.apnsKeyFile() != null) {
      try {
        providers.put(
            ApnsPushProvider.NAME,
            new ApnsPushProvider(
                ApnsPushProvider.readP8(Path.of(config.apnsKeyFile())),
                config.apnsKeyId(),
                config.apnsTeamId(),
                config.apnsTopic(),
                URI.create(config.apnsBaseUrl()),
                http,
                breakers,
                config.httpTimeout(),
                clock));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read notify.apns_key_file: " + e.getMessage(), e);
      }
    }
    Map<String, JobHandler> handlers =
        Map.of(
            OutboxKeys.WEBHOOK,
            new WebhookSender(store, http, breakers, config.httpTimeout(), clock),
            OutboxKeys.PUSH_FANOUT,
            new PushFanout(store, providers.keySet(), config.pushPreview(), clock, metrics),
            OutboxKeys.PUSH,
            new PushSender(store, providers));
    OutboxDispatcher dispatcher =
        new OutboxDispatcher(
            store,
            handlers,
            executor,
            new RetryBackoff(config.backoffBase(), config.backoffMax()),
            config.maxAttempts(),
            clock,
            metrics);
    NotificationService service =
        new NotificationService(
            store,
            bus,
            executor,
            dispatcher,
            providers.keySet(),
            config.pushDelay(),
            Math.max(1, config.pollInterval().toMillis()),
            clock);
    service.start(deliver);
    return service;
  }
}
