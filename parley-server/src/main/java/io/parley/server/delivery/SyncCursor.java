package io.parley.server.delivery;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.parley.server.core.ParleyException;
import io.parley.server.messaging.PageTokens;
import io.parley.server.store.ConversationShards;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sync cursor: opaque to clients, plain text for the server. A user's change feed has one
 * part per {@link ConversationShards shard}, so a position in it is a vector: one feed seq per
 * shard, written as unsigned varints in base64url (no padding).
 *
 * <ul>
 *   <li>{@code ""}: a device's first sync; the listing starts.
 *   <li>{@code l2.<heads>.<after>}: a first-sync listing in progress: {@code heads} are the user's
 *       feed heads captured when the listing started, {@code after} the base64url (no padding) of
 *       the last conversation id listed.
 *   <li>{@code f2.<positions>}: every feed entry up to each shard's position has been returned.
 *   <li>{@code f1.<feedSeq>} and {@code l1.<feedHead>.<after>}, the cursors of the unsharded feed,
 *       still parse: as the same positions when the store has one shard (the embedded store, whose
 *       layout did not change), else as {@code ""}, because the feeds they pointed into were
 *       replaced (the device lists its conversations again).
 * </ul>
 *
 * Anything else, or a vector with the wrong number of positions, is {@code BAD_REQUEST}.
 * Immutable; thread-safe.
 *
 * @param listing true while the first-sync listing is in progress
 * @param positions the feed position of each shard (empty for the start of a listing)
 * @param afterConversationId while listing, the last conversation returned ("" at the start)
 */
record SyncCursor(boolean listing, List<Long> positions, String afterConversationId) {
  private static final int MAX_CURSOR_CHARS = 16_384;
  private static final Pattern FEED = Pattern.compile("f2\\.([A-Za-z0-9_-]+)");
  private static final Pattern LISTING = Pattern.compile("l2\\.([A-Za-z0-9_-]+)\\.([A-Za-z0-9_-]+)");
  private static final Pattern FEED_V1 = Pattern.compile("f1\\.(0|[1-9][0-9]{0,18})");
  private static final Pattern LISTING_V1 =
      Pattern.compile("l1\\.(0|[1-9][0-9]{0,18})\\.([A-Za-z0-9_-]+)");

  static final SyncCursor START = new SyncCursor(true, List.of(), "");

  SyncCursor {
    positions = List.copyOf(positions);
  }

  static SyncCursor feed(long[] positions) {
    return new SyncCursor(false, boxed(positions), "");
  }

  static SyncCursor listing(long[] heads, String afterConversationId) {
    return new SyncCursor(true, boxed(heads), afterConversationId);
  }

  /** True for the empty cursor: the listing has not captured the feed heads yet. */
  boolean isStart() {
    return listing && positions.isEmpty();
  }

  /** The positions as a new array (index = shard). */
  long[] positionArray() {
    long[] out = new long[positions.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = positions.get(i);
    }
    return out;
  }

  /**
   * Parses a cursor of a store with {@code shards} shards.
   *
   * @throws ParleyException {@code BAD_REQUEST} for anything that is not such a cursor
   */
  static SyncCursor parse(String text, int shards) {
    if (text.isEmpty()) {
      return START;
    }
    if (text.length() <= MAX_CURSOR_CHARS) {
      Matcher f = FEED.matcher(text);
      if (f.matches()) {
        long[] positions = decodePositions(f.group(1), shards);
        if (positions != null) {
          return feed(positions);
        }
      }
      Matcher l = LISTING.matcher(text);
      if (l.matches()) {
        long[] heads = decodePositions(l.group(1), shards);
        String after = PageTokens.decodeOrNull(l.group(2));
        if (heads != null && after != null && !after.isEmpty()) {
          return listing(heads, after);
        }
      }
      SyncCursor v1 = parseV1(text, shards);
      if (v1 != null) {
        return v1;
      }
    }
    throw ParleyException.badRequest("invalid sync cursor");
  }

  String format() {
    String vector = encodePositions();
    if (!listing) {
      return "f2." + vector;
    }
    if (isStart() || afterConversationId.isEmpty()) {
      throw new IllegalStateException("the start of a listing has no cursor text");
    }
    return "l2." + vector + "." + PageTokens.encode(afterConversationId);
  }

  private static SyncCursor parseV1(String text, int shards) {
    Matcher f = FEED_V1.matcher(text);
    Matcher l = LISTING_V1.matcher(text);
    Long seq = null;
    String after = null;
    if (f.matches()) {
      seq = parseSeq(f.group(1));
    } else if (l.matches()) {
      seq = parseSeq(l.group(1));
      after = PageTokens.decodeOrNull(l.group(2));
      if (after == null || after.isEmpty()) {
        return null;
      }
    }
    if (seq == null) {
      return null;
    }
    if (shards != 1) {
      return START;
    }
    return after == null ? feed(new long[] {seq}) : listing(new long[] {seq}, after);
  }

  private String encodePositions() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(positions.size() * 3);
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      for (long p : positions) {
        out.writeUInt64NoTag(p);
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.toByteArray());
  }

  /** Exactly {@code shards} non-negative varints, or null. */
  private static long[] decodePositions(String base64, int shards) {
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      return null;
    }
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    long[] out = new long[shards];
    try {
      for (int i = 0; i < shards; i++) {
        if (in.isAtEnd()) {
          return null;
        }
        out[i] = in.readUInt64();
        if (out[i] < 0) {
          return null;
        }
      }
      return in.isAtEnd() ? out : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static List<Long> boxed(long[] values) {
    List<Long> out = new ArrayList<>(values.length);
    for (long v : values) {
      out.add(v);
    }
    return out;
  }

  private static Long parseSeq(String digits) {
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
