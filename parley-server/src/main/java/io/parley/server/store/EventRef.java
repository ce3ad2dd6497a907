package io.parley.server.store;

import java.util.Objects;

/** A pointer to one committed event: its conversation and seq. */
public record EventRef(String conversationId, long seq) {
  public EventRef {
    Objects.requireNonNull(conversationId, "conversationId");
  }
}
