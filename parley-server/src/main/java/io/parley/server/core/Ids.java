package io.parley.server.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Locale;

/**
 * Generates the server's identifiers: time-ordered random ids for messages, groups, channels,
 * devices and sessions, and deterministic ids for direct conversations (so that opening a direct
 * conversation with the same person twice yields the same id). Thread-safe.
 */
public final class Ids {
  private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Prefix of direct conversation ids. */
  public static final String DIRECT_PREFIX = "dm_";

  /** Prefix of group conversation ids. */
  public static final String GROUP_PREFIX = "g_";

  /** Prefix of channel ids: lets a gateway tell channels apart without a store read. */
  public static final String CHANNEL_PREFIX = "c_";

  /** Prefix of server message ids. */
  public static final String MESSAGE_PREFIX = "m_";

  private Ids() {}

  /** True when the conversation id names a channel. */
  public static boolean isChannel(String conversationId) {
    return conversationId.startsWith(CHANNEL_PREFIX);
  }

  /**
   * A 26-character Crockford-base32 id: 48 bits of milliseconds then 80 random bits, so ids sort
   * roughly by creation time (ULID layout).
   */
  public static String timeOrdered(String prefix) {
    byte[] b = new byte[16];
    long now = System.currentTimeMillis();
    for (int i = 5; i >= 0; i--) {
      b[i] = (byte) now;
      now >>>= 8;
    }
    byte[] rnd = new byte[10];
    RANDOM.nextBytes(rnd);
    System.arraycopy(rnd, 0, b, 6, 10);
    return prefix + base32(b, 26);
  }

  /** The id of the direct conversation between two users, independent of their order. */
  public static String direct(String userA, String userB) {
    String lo = userA.compareTo(userB) <= 0 ? userA : userB;
    String hi = lo.equals(userA) ? userB : userA;
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(lo.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(hi.getBytes(StandardCharsets.UTF_8));
      return DIRECT_PREFIX + base32(sha.digest(), 26);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }

  private static String base32(byte[] bytes, int chars) {
    StringBuilder sb = new StringBuilder(chars);
    int buffer = 0;
    int bits = 0;
    int i = 0;
    while (sb.length() < chars) {
      if (bits < 5) {
        buffer = (buffer << 8) | (i < bytes.length ? bytes[i++] & 0xff : 0);
        bits += 8;
      }
      sb.append(ALPHABET[(buffer >>> (bits - 5)) & 31]);
      bits -= 5;
    }
    return sb.toString().toLowerCase(Locale.ROOT);
  }
}
