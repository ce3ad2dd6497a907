package io.parley.server.admin;

import io.parley.server.core.ParleyException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Field checks shared by the admin routes; each failure is a {@code BAD_REQUEST} that names the
 * field. Stateless.
 */
final class Fields {
  private Fields() {}

  /** A string field that must be present and not blank. */
  static String required(String value, String field) {
    if (value == null || value.isBlank()) {
      throw ParleyException.badRequest("field \"" + field + "\" is required");
    }
    return value;
  }

  /** An optional string field that, when present, must not be blank. */
  static String optionalNonBlank(String value, String field) {
    if (value != null && value.isBlank()) {
      throw ParleyException.badRequest("field \"" + field + "\" must not be blank");
    }
    return value;
  }

  /** A list of user ids: no null, blank or repeated entries; null counts as empty. */
  static List<String> userIds(List<String> values, String field) {
    if (values == null) {
      return List.of();
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      if (v == null || v.isBlank()) {
        throw ParleyException.badRequest(
            "field \"" + field + "[" + i + "]\" must be a non-empty string");
      }
      if (!seen.add(v)) {
        throw ParleyException.badRequest(
            "field \"" + field + "\" lists \"" + AdminRequest.abbreviate(v) + "\" twice");
      }
    }
    return List.copyOf(values);
  }

  /** Null or empty. */
  static String orEmpty(String value) {
    return value == null ? "" : value;
  }
}
