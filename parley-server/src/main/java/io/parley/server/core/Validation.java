package io.parley.server.core;

import java.nio.charset.StandardCharsets;

/**
 * The one place that defines what a well-formed identifier or bounded text field is. User ids are
 * JWT {@code sub} values: 1 to {@value #MAX_ID_CHARS} characters, printable, without whitespace.
 * Conversation ids and client message ids: 1 to {@value #MAX_ID_CHARS} characters without control
 * characters. Every id is well-formed UTF-16 and at most {@value #MAX_ID_UTF8_BYTES} UTF-8 bytes,
 * so it is a valid store key. Violations throw {@link ParleyException} with {@code BAD_REQUEST}.
 * Stateless and thread-safe.
 */
public final class Validation {
  /** Maximum length (in UTF-16 chars) of user ids, conversation ids and client message ids. */
  public static final int MAX_ID_CHARS = 128;

  /** Maximum UTF-8 length of any id (the store's key component bound). */
  public static final int MAX_ID_UTF8_BYTES = 256;

  private Validation() {}

  /** True when {@code userId} is 1..128 printable characters with no whitespace. */
  public static boolean isValidUserId(String userId) {
    if (userId == null || userId.isEmpty() || userId.length() > MAX_ID_CHARS) {
      return false;
    }
    for (int i = 0; i < userId.length(); ) {
      int cp = userId.codePointAt(i);
      if (Character.isISOControl(cp)
          || Character.isWhitespace(cp)
          || Character.isSpaceChar(cp)
          || Character.getType(cp) == Character.FORMAT
          || Character.getType(cp) == Character.UNASSIGNED
          || Character.getType(cp) == Character.SURROGATE) {
        return false;
      }
      i += Character.charCount(cp);
    }
    return utf8Length(userId) <= MAX_ID_UTF8_BYTES;
  }

  /** Returns {@code userId} or throws {@code BAD_REQUEST} naming {@code field}. */
  public static String requireUserId(String field, String userId) {
    if (!isValidUserId(userId)) {
      throw ParleyException.badRequest(
          field + " must be 1.." + MAX_ID_CHARS + " printable characters without whitespace");
    }
    return userId;
  }

  /** Returns {@code value} when it is non-empty and at most {@value #MAX_ID_CHARS} chars. */
  public static String requireId(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw ParleyException.badRequest(field + " is required");
    }
    if (value.length() > MAX_ID_CHARS) {
      throw ParleyException.badRequest(field + " is longer than " + MAX_ID_CHARS + " characters");
    }
    for (int i = 0; i < value.length(); ) {
      int cp = value.codePointAt(i);
      if (Character.isISOControl(cp) || Character.getType(cp) == Character.SURROGATE) {
        throw ParleyException.badRequest(field + " contains invalid characters");
      }
      i += Character.charCount(cp);
    }
    if (utf8Length(value) > MAX_ID_UTF8_BYTES) {
      throw ParleyException.badRequest(
          field + " is longer than " + MAX_ID_UTF8_BYTES + " UTF-8 bytes");
    }
    return value;
  }

  /** UTF-8 length of well-formed text (an unpaired surrogate counts as 3 bytes). */
  static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  /** Throws {@code BAD_REQUEST} when {@code value} has more than {@code max} chars. */
  public static void maxChars(String field, String value, int max) {
    if (value != null && value.length() > max) {
      throw ParleyException.badRequest(field + " is longer than " + max + " characters");
    }
  }

  /** Throws {@code BAD_REQUEST} when the UTF-8 encoding of {@code value} exceeds {@code max}. */
  public static void maxUtf8Bytes(String field, String value, int max) {
    if (value != null
        && value.length() > max / 3
        && value.getBytes(StandardCharsets.UTF_8).length > max) {
      throw ParleyException.badRequest(field + " is longer than " + max + " bytes");
    }
  }
}
