package io.parley.server.store.cassandra;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;

/**
 * The id rules of the Cassandra store, matching the embedded store so both accept the same input:
 * ids are non-empty and at most {@value #MAX_ID_BYTES} UTF-8 bytes. Also the order Cassandra sorts
 * {@code text} clustering columns in (UTF-8 bytes, which is Unicode code point order), for merges
 * done in the client.
 */
final class Ids {
  /** The longest id accepted, in UTF-8 bytes (as in the embedded store). */
  static final int MAX_ID_BYTES = 256;

  /** Unicode code point order: the order of UTF-8 bytes, as Cassandra compares text. */
  static final Comparator<String> CODE_POINT_ORDER = Ids::compareCodePoints;

  private Ids() {}

  /** Returns the id, or throws {@link IllegalArgumentException} if it is not acceptable. */
  static String check(String id) {
    if (id == null || id.isEmpty()) {
      throw new IllegalArgumentException("id must not be empty");
    }
    if (id.length() > MAX_ID_BYTES
        || id.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
      throw new IllegalArgumentException("id longer than " + MAX_ID_BYTES + " bytes");
    }
    return id;
  }

  /** Returns the seq if positive, else throws {@link IllegalArgumentException}. */
  static long positive(long seq, String what) {
    if (seq < 1) {
      throw new IllegalArgumentException(what + " must be positive, got " + seq);
    }
    return seq;
  }

  static void checkLimit(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must not be negative, got " + limit);
    }
  }

  private static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
