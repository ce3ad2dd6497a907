package io.parley.server.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One configuration setting: where it lives in the YAML file, its environment variable, its type,
 * default, bounds and one-line description. The list in {@link ConfigSchema} drives the loader, the
 * {@code config init} template and the documentation. Immutable.
 *
 * @param section the YAML section ({@code server}, {@code storage}, ...)
 * @param name the key inside the section, in snake_case
 * @param type how the value is written and checked
 * @param defaultText the default in the form a YAML file would write it (null for none)
 * @param min the smallest accepted value (ints and sizes as is, durations in ms)
 * @param max the largest accepted value (same units as {@code min})
 * @param comment one line saying what the setting does
 */
public record ConfigKey(
    String section, String name, Type type, String defaultText, long min, long max, String comment) {

  /** Value types of settings. */
  public enum Type {
    /** Required text. */
    STRING,
    /** Text or null. */
    OPTIONAL_STRING,
    /** Whole number within bounds. */
    INT,
    /** {@code true} or {@code false}. */
    BOOL,
    /** A duration, see {@link Durations}. */
    DURATION,
    /** A size in bytes, see {@link ByteSizes}. */
    BYTES,
    /** A file system path. */
    PATH,
    /** A list of strings; comma-separated in an environment variable. */
    STRING_LIST,
    /** A request rate {@code N/duration} or {@code off}, see {@link Rates}. */
    RATE
  }

  public ConfigKey {
    Objects.requireNonNull(section, "section");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(comment, "comment");
  }

  /** The dotted path, e.g. {@code server.port}. */
  public String path() {
    return section + "." + name;
  }

  /** The environment variable, e.g. {@code PARLEY_SERVER_PORT}. */
  public String envVar() {
    return "PARLEY_" + (section + "_" + name).toUpperCase(Locale.ROOT);
  }
}
