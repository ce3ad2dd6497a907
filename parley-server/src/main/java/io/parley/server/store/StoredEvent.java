package io.parley.server.store;

import io.parley.protocol.v1.Event;
import java.util.Objects;

/**
 * One log entry as stored: the wire event plus the storage-only message ordinal.
 *
 * @param messageOrdinal number of {@code MessagePosted} events with seq at most this event's seq
 */
public record StoredEvent(Event event, long messageOrdinal) {
  public StoredEvent {
    Objects.requireNonNull(event, "event");
  }

  public String conversationId() {
    return event.getConversationId();
  }

  public long seq() {
    return event.getSeq();
  }
}
