package io.parley.server.limits;

/** The kinds of request that have their own rate limits (see {@code rate_limits.*}). */
public enum LimitedAction {
  /** Message sends, edits, deletes and reactions. */
  SEND("send"),
  /** Typing indicators. */
  TYPING("typing"),
  /** Presence updates and presence subscriptions. */
  PRESENCE("presence"),
  /** Conversation creation, direct opens, channel joins and member adds. */
  JOIN("join"),
  /** Admin API calls. */
  ADMIN("admin");

  private final String label;

  LimitedAction(String label) {
    this.label = label;
  }

  /** The lower-case name used in metrics and messages. */
  public String label() {
    return label;
  }
}
