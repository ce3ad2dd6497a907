package io.parley.server.messaging;

import io.parley.server.core.ParleyException;
import io.parley.server.core.Validation;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Opaque page tokens for listings ordered by id: base64url (no padding) of the last id returned.
 * Stateless; thread-safe.
 */
public final class PageTokens {
  private PageTokens() {}

  public static String encode(String lastId) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(lastId.getBytes(StandardCharsets.UTF_8));
  }

  /** The id after which the next page starts ("" for an empty token); BAD_REQUEST on garbage. */
  public static String decode(String token, String what) {
    if (token.isEmpty()) {
      return "";
    }
    String id = decodeOrNull(token);
    if (id == null || id.isEmpty() || id.length() > Validation.MAX_ID_CHARS) {
      throw ParleyException.badRequest("invalid " + what);
    }
    return id;
  }

  /** Decodes base64url UTF-8 text, or null when it is not valid. */
  public static String decodeOrNull(String token) {
    if (token.length() > 4 * Validation.MAX_ID_CHARS) {
      return null;
    }
    try {
      byte[] bytes = Base64.getUrlDecoder().decode(token);
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (IllegalArgumentException | CharacterCodingException e) {
      return null;
    }
  }
}
