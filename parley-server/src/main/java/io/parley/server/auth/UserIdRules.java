package io.parley.server.auth;

import io.parley.server.core.Validation;

/**
 * The rules a token's {@code sub} must follow to name a Parley user: exactly the user-id rules of
 * {@link Validation#isValidUserId} (1 to 128 printable characters, no whitespace or control
 * characters), so a token the verifier accepts always names a user the engine accepts. Ids are
 * compared exactly (case-sensitive). Stateless and thread-safe.
 */
public final class UserIdRules {
  /** Longest accepted user id, in characters. */
  public static final int MAX_LENGTH = Validation.MAX_ID_CHARS;

  private UserIdRules() {}

  /** Returns why {@code userId} is not acceptable, or null when it is. */
  public static String problem(String userId) {
    if (userId == null || userId.isEmpty()) {
      return "user id is empty";
    }
    if (userId.length() > MAX_LENGTH) {
      return "user id is longer than " + MAX_LENGTH + " characters";
    }
    if (!Validation.isValidUserId(userId)) {
      return "user id contains whitespace, control or unassigned characters";
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
