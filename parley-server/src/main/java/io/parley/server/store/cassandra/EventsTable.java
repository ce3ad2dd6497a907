package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.google.protobuf.InvalidProtocolBufferException;
import io.parley.protocol.v1.Event;
import io.parley.server.store.StoredEvent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The event log: {@code events}, {@code PRIMARY KEY ((conversation_id, bucket), seq)} with {@code
 * bucket = seq / }{@value Buckets#SIZE}, and {@code event_heads}, the highest seq appended per
 * conversation, which tells a range read which buckets exist. Both are written in the same logged
 * batch. Events are stored as their protobuf bytes plus the message ordinal. Thread-safe.
 */
final class EventsTable {
  private final Cql cql;
  private final PreparedStatement insert;
  private final PreparedStatement insertHead;
  private final PreparedStatement select;
  private final PreparedStatement selectHead;
  private final PreparedStatement rangeAscending;
  private final PreparedStatement rangeDescending;

  EventsTable(Cql cql) {
    this.cql = cql;
    this.insert =
        cql.prepare(
            "INSERT INTO ${ks}.events (conversation_id, bucket, seq, message_ordinal, event)"
                + " VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?");
    this.insertHead =
        cql.prepare(
            "INSERT INTO ${ks}.event_heads (conversation_id, last_seq) VALUES (?, ?)"
                + " USING TIMESTAMP ?");
    this.select =
        cql.prepare(
            "SELECT message_ordinal, event FROM ${ks}.events"
                + " WHERE conversation_id = ? AND bucket = ? AND seq = ?");
    this.selectHead =
        cql.prepare("SELECT last_seq FROM ${ks}.event_heads WHERE conversation_id = ?");
    String range =
        "SELECT message_ordinal, event FROM ${ks}.events"
            + " WHERE conversation_id = ? AND bucket = ? AND seq >= ? AND seq <= ?";
    this.rangeAscending = cql.prepare(range + " ORDER BY seq ASC LIMIT ?");
    this.rangeDescending = cql.prepare(range + " ORDER BY seq DESC LIMIT ?");
  }

  /**
   * Appends the events of one write and raises each conversation's head to the highest seq among
   * them. Heads only move forward because the sequencer appends seqs in order and every write
   * carries a later timestamp than the one before.
   */
  void append(List<BatchableStatement<?>> batch, List<StoredEvent> events, long timestamp) {
    java.util.Map<String, Long> heads = new java.util.LinkedHashMap<>();
    for (StoredEvent e : events) {
      batch.add(
          Cql.bind(
              insert,
              e.conversationId(),
              Buckets.of(e.seq()),
              e.seq(),
              e.messageOrdinal(),
              ByteBuffer.wrap(e.event().toByteArray()),
              timestamp));
      heads.merge(e.conversationId(), e.seq(), Math::max);
    }
    heads.forEach((c, seq) -> batch.add(Cql.bind(insertHead, c, seq, timestamp)));
  }

  Optional<StoredEvent> get(String conversationId, long seq) {
    Ids.check(conversationId);
    if (seq < 0) {
      return Optional.empty();
    }
    return Optional.ofNullable(
            cql.one(Cql.bind(select, conversationId, Buckets.of(seq), seq)))
        .map(EventsTable::event);
  }

  List<StoredEvent> range(
      String conversationId, long fromSeq, long toSeq, int limit, boolean ascending) {
    Ids.check(conversationId);
    Ids.checkLimit(limit);
    if (limit == 0 || toSeq < 0 || fromSeq > toSeq) {
      return List.of();
    }
    Row head = cql.one(Cql.bind(selectHead, conversationId));
    if (head == null) {
      return List.of();
    }
    long low = Math.max(fromSeq, 0);
    long high = Math.min(toSeq, head.getLong("last_seq"));
    if (low > high) {
      return List.of();
    }
    List<StoredEvent> out = new ArrayList<>(Math.min(limit, 128));
    long first = Buckets.of(ascending ? low : high);
    long last = Buckets.of(ascending ? high : low);
    long step = ascending ? 1 : -1;
    PreparedStatement ps = ascending ? rangeAscending : rangeDescending;
    for (long bucket = first; out.size() < limit; bucket += step) {
      int remaining = limit - out.size();
      out.addAll(
          cql.rows(
              Cql.bind(ps, conversationId, bucket, low, high, remaining), EventsTable::event));
      if (bucket == last) {
        break;
      }
    }
    return out;
  }

  private static StoredEvent event(Row r) {
    try {
      return new StoredEvent(Event.parseFrom(r.getByteBuffer("event")), r.getLong("message_ordinal"));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt event record", e);
    }
  }
}
