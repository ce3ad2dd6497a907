package io.parley.server.auth;

import java.util.Base64;

/**
 * Decodes the configured HS256 secret. The secret is written in base64 (standard or URL-safe
 * alphabet, padding optional) and must decode to at least 32 bytes, the HS256 key size that RFC 7518
 * requires. Stateless and thread-safe.
 */
public final class HmacSecrets {
  /** Smallest accepted secret, in bytes (256 bits). */
  public static final int MIN_BYTES = 32;

  private HmacSecrets() {}

  /**
   * Returns the secret's bytes.
   *
   * @throws IllegalArgumentException when the text is not base64 or is shorter than 32 bytes
   */
  public static byte[] decode(String base64) {
    if (base64 == null || base64.isBlank()) {
      throw new IllegalArgumentException("the HMAC secret is empty");
    }
    String text = base64.strip();
    byte[] bytes;
    try {
      bytes =
          text.indexOf('-') >= 0 || text.indexOf('_') >= 0
              ? Base64.getUrlDecoder().decode(text)
              : Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the HMAC secret is not valid base64", e);
    }
    if (bytes.length < MIN_BYTES) {
      throw new IllegalArgumentException(
          "the HMAC secret must decode to at least "
              + MIN_BYTES
              + " bytes, got "
              + bytes.length
              + " (generate one with: openssl rand -base64 32)");
    }
    return bytes;
  }
}
