package io.parley.server.store;

import java.util.List;
import java.util.Objects;

/**
 * A webhook endpoint of the app's backend, configured through the admin API.
 *
 * @param secret the HMAC-SHA256 key deliveries are signed with
 * @param eventTypes the event types delivered (see {@code notify.WebhookEventType})
 */
public record WebhookRecord(
    String webhookId, String url, String secret, List<String> eventTypes, long createdAtMs) {
  public WebhookRecord {
    Objects.requireNonNull(webhookId, "webhookId");
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(secret, "secret");
    eventTypes = List.copyOf(eventTypes);
  }
}
