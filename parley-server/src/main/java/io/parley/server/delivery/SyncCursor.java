package io.parley.server.delivery;

import io.parley.server.core.ParleyException;
import io.parley.server.messaging.PageTokens;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sync cursor: opaque to clients, plain text for the server.
 *
 * <ul>
 *   <li>{@code ""}: a device's first sync; the listing starts.
 *   <li>{@code l1.<feedHead>.<after>}: a first-sync listing in progress: {@code feedHead} is the
 *       user's feed head captured when the listing started, {@code after} the base64url (no
 *       padding) of the last conversation id listed.
 *   <li>{@code f1.<feedSeq>}: every feed entry up to {@code feedSeq} has been returned.
 * </ul>
 *
 * Anything else is {@code BAD_REQUEST}. Immutable; thread-safe.
 *
 * @param feedSeq the feed position ({@code -1} for the start of a listing)
 * @param afterConversationId while listing, the last conversation returned ("" at the start)
 */
record SyncCursor(boolean listing, long feedSeq, String afterConversationId) {
  private static final int MAX_CURSOR_CHARS = 600;
  private static final Pattern FEED = Pattern.compile("f1\\.(0|[1-9][0-9]{0,18})");
  private static final Pattern LISTING =
      Pattern.compile("l1\\.(0|[1-9][0-9]{0,18})\\.([A-Za-z0-9_-]+)");

  static final SyncCursor START = new SyncCursor(true, -1, "");

  static SyncCursor feed(long feedSeq) {
    return new SyncCursor(false, feedSeq, "");
  }

  static SyncCursor listing(long feedHead, String afterConversationId) {
    return new SyncCursor(true, feedHead, afterConversationId);
  }

  /** True for the empty cursor: the listing has not captured the feed head yet. */
  boolean isStart() {
    return listing && feedSeq < 0;
  }

  static SyncCursor parse(String text) {
    if (text.isEmpty()) {
      return START;
    }
    if (text.length() <= MAX_CURSOR_CHARS) {
      Matcher f = FEED.matcher(text);
      if (f.matches()) {
        Long seq = parseSeq(f.group(1));
        if (seq != null) {
          return feed(seq);
        }
      }
      Matcher l = LISTING.matcher(text);
      if (l.matches()) {
        Long head = parseSeq(l.group(1));
        String after = PageTokens.decodeOrNull(l.group(2));
        if (head != null && after != null && !after.isEmpty()) {
          return listing(head, after);
        }
      }
    }
    throw ParleyException.badRequest("invalid sync cursor");
  }

  String format() {
    if (!listing) {
      return "f1." + feedSeq;
    }
    if (isStart() || afterConversationId.isEmpty()) {
      throw new IllegalStateException("the start of a listing has no cursor text");
    }
    return "l1." + feedSeq + "." + PageTokens.encode(afterConversationId);
  }

  private static Long parseSeq(String digits) {
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
