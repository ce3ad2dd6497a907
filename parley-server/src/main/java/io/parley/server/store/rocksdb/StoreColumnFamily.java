package io.parley.server.store.rocksdb;

import java.nio.charset.StandardCharsets;

/**
 * The column families of the store, one per record kind. {@code pointLookups} marks the families
 * read by exact key, which get a bloom filter; the others are only range-scanned.
 */
enum StoreColumnFamily {
  META("meta", false),
  USERS("users", true),
  CONVERSATIONS("conversations", true),
  MEMBERS("members", true),
  USERCONV("userconv", false),
  EVENTS("events", true),
  IDEMPOTENCY("idempotency", true),
  FEED("feed", false),
  RECEIPTS("receipts", true),
  /** Events not yet expanded into notification jobs: (conversation, seq) → empty. */
  NOTIFY_PENDING("notify_pending", true),
  /** Pending notification jobs: (lane, seq) → job. */
  OUTBOX("outbox", false),
  /** Jobs that exhausted their attempts: (job id) → job with its last error. */
  DEAD_LETTERS("dead_letters", true),
  WEBHOOKS("webhooks", true),
  /** (user, target id) → push target. */
  PUSH_TARGETS("push_targets", true),
  /** (user, conversation) → empty: the user muted the conversation's pushes. */
  MUTES("mutes", true);

  private final String cfName;
  private final boolean pointLookups;

  StoreColumnFamily(String cfName, boolean pointLookups) {
    this.cfName = cfName;
    this.pointLookups = pointLookups;
  }

  byte[] nameBytes() {
    return cfName.getBytes(StandardCharsets.UTF_8);
  }

  boolean pointLookups() {
    return pointLookups;
  }

  /** The log and the feeds take most writes, so they get the larger memtables. */
  boolean writeHeavy() {
    return this == EVENTS || this == FEED;
  }
}
