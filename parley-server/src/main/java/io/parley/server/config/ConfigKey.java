package io.parley.server.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One configuration setting: where it lives in the YAML file, its environment variable, its type,
 * default, bounds and one-line description. The list in {@link ConfigSchema} drives the loader, the
 * {@code config init} template and the documentation. Immutable.
 *
 * @param section the YAML section ({@code server}, {@code storage}, ...)
 * @param name the key inside the section, in snake_case; a dot nests it in a sub-mapping
 *     ({@code kafka.topic_prefix} is {@code kafka: {topic_prefix: ...}} in YAML)
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

  /**
   * The environment variable, e.g. {@code PARLEY_SERVER_PORT}; a nested name's dots become
   * underscores ({@code cluster.kafka.bootstrap_servers}: {@code
   * PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS}).
   */
  public String envVar() {
    return "PARLEY_" + (section + "_" + name).replace('.', '_').toUpperCase(Locale.ROOT);
  }

  /** The key's group inside its section ({@code kafka} for {@code kafka.topic_prefix}), or "". */
  public String group() {
    int dot = name.lastIndexOf('.');
    return dot < 0 ? "" : name.substring(0, dot);
  }

  /** The key's own name, without its group. */
  public String leaf() {
    return name.substring(name.lastIndexOf('.') + 1);
  }
}
