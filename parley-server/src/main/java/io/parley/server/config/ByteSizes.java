package io.parley.server.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and prints configuration sizes: a number of bytes, optionally with a binary unit ({@code
 * B}, {@code KiB}, {@code MiB}, {@code GiB}): {@code 131072}, {@code 128KiB}, {@code 1MiB}. Decimal
 * units (KB, MB) are refused because their meaning is ambiguous. Stateless and thread-safe.
 */
public final class ByteSizes {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([a-z]*)");

  private ByteSizes() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException when it is not a size
   */
  public static long parse(String text) {
    Matcher m = SIZE.matcher(text == null ? "" : text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw invalid(text);
    }
    long multiplier =
        switch (m.group(2)) {
          case "", "b" -> 1L;
          case "kib" -> 1L << 10;
          case "mib" -> 1L << 20;
          case "gib" -> 1L << 30;
          default -> throw invalid(text);
        };
    try {
      return Math.multiplyExact(Long.parseLong(m.group(1)), multiplier);
    } catch (ArithmeticException | NumberFormatException e) {
      throw invalid(text);
    }
  }

  /** The exact form in the largest binary unit: {@code 128KiB}, {@code 1MiB}, {@code 1000}. */
  public static String format(long bytes) {
    String[] units = {"GiB", "MiB", "KiB"};
    int[] shifts = {30, 20, 10};
    for (int i = 0; i < units.length; i++) {
      long size = 1L << shifts[i];
      if (bytes != 0 && bytes % size == 0) {
        return bytes / size + units[i];
      }
    }
    return Long.toString(bytes);
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException(
        "must be a size such as 65536, 64KiB or 1MiB, got '" + text + "'");
  }
}
