package io.parley.client.internal;

import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Messages accepted by {@code send()} and not yet acknowledged by the server, in the order they
 * were sent. Each keeps its {@code client_msg_id}, so every retry is the same request to the server
 * and can never create a duplicate.
 *
 * <p>Sends to one conversation go out one at a time in order (the next only after the previous
 * was acknowledged or rejected), so that a retried message cannot end up after a later one; sends
 * to different conversations proceed in parallel.
 *
 * <p>Pure bookkeeping; not thread-safe (confined to the client's event loop).
 */
public final class Outbox {

  /** One pending message. */
  public static final class Entry {
    private final SendMessage message;
    private final List<CompletableFuture<SendResult>> futures = new ArrayList<>(1);
    private boolean inFlight;
    private boolean durable;
    private long notBeforeMs;
    private int attempts;

    Entry(SendMessage message, boolean durable) {
      this.message = message;
      this.durable = durable;
    }

    public SendMessage message() {
      return message;
    }

    public String clientMsgId() {
      return message.getClientMsgId();
    }

    /** The futures of the {@code send()} calls waiting for this message (none after a restart). */
    public List<CompletableFuture<SendResult>> futures() {
      return futures;
    }

    /** How many times the message was transmitted. */
    public int attempts() {
      return attempts;
    }
  }

  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

  /**
   * Adds a message. When a message with the same {@code client_msg_id} is already pending, the
   * future joins that entry instead (the id identifies the message).
   *
   * @param durable whether the message is already persisted; only durable messages are sent
   * @return true if a new entry was added
   */
  public boolean add(SendMessage message, CompletableFuture<SendResult> future, boolean durable) {
    Objects.requireNonNull(message, "message");
    Entry existing = entries.get(message.getClientMsgId());
    if (existing != null) {
      if (future != null) {
        existing.futures.add(future);
      }
      return false;
    }
    Entry e = new Entry(message, durable);
    if (future != null) {
      e.futures.add(future);
    }
    entries.put(message.getClientMsgId(), e);
    return true;
  }

  /**
   * Returns the messages to transmit now and marks them in flight: per conversation the oldest
   * pending message, if it is durable, not in flight and not waiting for a retry time.
   */
  public List<Entry> takeSendable(long nowMs) {
    List<Entry> out = new ArrayList<>();
    Set<String> headsSeen = new HashSet<>();
    for (Entry e : entries.values()) {
      if (!headsSeen.add(e.message.getConversationId())) {
        continue;
      }
      if (!e.inFlight && e.durable && e.notBeforeMs <= nowMs) {
        e.inFlight = true;
        e.attempts++;
        out.add(e);
      }
    }
    return out;
  }

  /**
   * The earliest retry time among conversation heads that wait for one, or {@link Long#MAX_VALUE}
   * when none waits (the caller arms a timer for it).
   */
  public long nextRetryAtMs(long nowMs) {
    long next = Long.MAX_VALUE;
    Set<String> headsSeen = new HashSet<>();
    for (Entry e : entries.values()) {
      if (headsSeen.add(e.message.getConversationId())
          && !e.inFlight
          && e.durable
          && e.notBeforeMs > nowMs) {
        next = Math.min(next, e.notBeforeMs);
      }
    }
    return next;
  }

  /** Removes and returns an acknowledged message, or null if it is not pending. */
  public Entry acknowledge(String clientMsgId) {
    return entries.remove(clientMsgId);
  }

  /** Removes and returns a message the server rejected for good, or null if it is not pending. */
  public Entry reject(String clientMsgId) {
    return entries.remove(clientMsgId);
  }

  /** The message's attempt failed temporarily; it is sent again at or after {@code atMs}. */
  public void retryAt(String clientMsgId, long atMs) {
    Entry e = entries.get(clientMsgId);
    if (e != null) {
      e.inFlight = false;
      e.notBeforeMs = atMs;
    }
  }

  /** The connection carrying the in-flight messages was lost; they are sent again on the next. */
  public void connectionLost() {
    for (Entry e : entries.values()) {
      e.inFlight = false;
    }
  }

  /** Marks the given messages as persisted, making them eligible for sending. */
  public void markDurable(Collection<String> clientMsgIds) {
    for (String id : clientMsgIds) {
      Entry e = entries.get(id);
      if (e != null) {
        e.durable = true;
      }
    }
  }

  /** Every pending message, oldest first (what is persisted). */
  public List<SendMessage> messages() {
    List<SendMessage> out = new ArrayList<>(entries.size());
    for (Entry e : entries.values()) {
      out.add(e.message);
    }
    return out;
  }

  /** Removes and returns every entry (the client is closing). */
  public List<Entry> drain() {
    List<Entry> out = new ArrayList<>(entries.values());
    entries.clear();
    return out;
  }

  public int size() {
    return entries.size();
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }
}
