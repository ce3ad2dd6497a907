package io.parley.server.auth;

/**
 * The rules a user id (a token's {@code sub}) must follow: 1 to 128 characters, no whitespace and no
 * control characters. Ids are compared exactly (case-sensitive). Stateless and thread-safe.
 */
public final class UserIdRules {
  /** Longest accepted user id, in characters. */
  public static final int MAX_LENGTH = 128;

  private UserIdRules() {}

  /** Returns why {@code userId} is not acceptable, or null when it is. */
  public static String problem(String userId) {
    if (userId == null || userId.isEmpty()) {
      return "user id is empty";
    }
    if (userId.length() > MAX_LENGTH) {
      return "user id is longer than " + MAX_LENGTH + " characters";
    }
    for (int i = 0; i < userId.length(); ) {
      int cp = userId.codePointAt(i);
      if (Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.isISOControl(cp)
          || Character.getType(cp) == Character.FORMAT
          || Character.getType(cp) == Character.SURROGATE) {
        return "user id contains whitespace or control characters";
      }
      i += Character.charCount(cp);
    }
    return null;
  }

  /** Throws {@link IllegalArgumentException} with the reason when {@code userId} is not acceptable. */
  public static String require(String userId) {
    String problem = problem(userId);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    return userId;
  }
}
