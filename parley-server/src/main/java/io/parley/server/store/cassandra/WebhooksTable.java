package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.server.store.WebhookRecord;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code webhooks} table: {@code PRIMARY KEY ((scope), webhook_id)} with one partition ({@code
 * scope = '}{@value #SCOPE}{@code '}). A deployment configures a handful of endpoints through the
 * admin API (the notification service reads at most 100) and rarely changes them, so one small
 * partition clustered by id lists them in order without sharding. Thread-safe.
 */
final class WebhooksTable {
  static final String SCOPE = "parley";

  private static final String COLUMNS = "webhook_id, url, secret, event_types, created_at_ms";

  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement delete;
  private final PreparedStatement select;
  private final PreparedStatement page;

  WebhooksTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.webhooks (scope, " + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)"
                + " USING TIMESTAMP ?");
    this.delete =
        cql.prepare("DELETE FROM ${ks}.webhooks USING TIMESTAMP ? WHERE scope = ? AND webhook_id = ?");
    this.select =
        cql.prepare("SELECT " + COLUMNS + " FROM ${ks}.webhooks WHERE scope = ? AND webhook_id = ?");
    this.page =
        cql.prepare(
            "SELECT " + COLUMNS + " FROM ${ks}.webhooks WHERE scope = ? AND webhook_id > ? LIMIT ?");
  }

  void put(List<BatchableStatement<?>> batch, WebhookRecord w, long timestamp) {
    batch.add(
        Cql.bind(
            insert,
            SCOPE,
            w.webhookId(),
            w.url(),
            w.secret(),
            w.eventTypes(),
            w.createdAtMs(),
            timestamp));
  }

  void remove(List<BatchableStatement<?>> batch, String webhookId, long timestamp) {
    batch.add(Cql.bind(delete, timestamp, SCOPE, webhookId));
  }

  Optional<WebhookRecord> get(String webhookId) {
    Ids.check(webhookId);
    return Optional.ofNullable(cql.one(Cql.bind(select, SCOPE, webhookId)))
        .map(WebhooksTable::webhook);
  }

  List<WebhookRecord> list(String afterWebhookId, int limit) {
    Objects.requireNonNull(afterWebhookId, "afterWebhookId");
    Ids.checkLimit(limit);
    if (limit == 0) {
      return List.of();
    }
    return cql.rows(Cql.bind(page, SCOPE, afterWebhookId, limit), WebhooksTable::webhook);
  }

  private static WebhookRecord webhook(Row r) {
    return new WebhookRecord(
        r.getString("webhook_id"),
        r.getString("url"),
        r.getString("secret"),
        r.getList("event_types", String.class),
        r.getLong("created_at_ms"));
  }
}
