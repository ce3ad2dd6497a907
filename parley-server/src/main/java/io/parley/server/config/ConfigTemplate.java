package io.parley.server.config;

import io.parley.server.config.ConfigKey.Type;
import java.util.Map;

/**
 * The commented default configuration file that {@code ./parley config init} prints: every setting
 * of {@link ConfigSchema} with its default and a one-line comment. Loading the template (with a key
 * source and admin key added) yields the defaults. Stateless and thread-safe.
 */
public final class ConfigTemplate {
  private static final Map<String, String> SECTION_COMMENTS =
      Map.of(
          "server", "Network listener.",
          "storage", "Embedded store (RocksDB).",
          "auth",
              "Client token (JWT) verification. Production needs at least one key source:\n"
                  + "# hmac_secret, public_keys_pem or jwks_urls.",
          "admin", "Admin REST API (/v1/admin/*). Required outside development mode.",
          "cluster",
              "A cluster: processes running only some of server.roles talk through Kafka\n"
                  + "# (see docs/operations.md, \"Cluster\"). Unused when one process runs every role.",
          "limits", "Size and count limits; each violation is answered with a typed error.",
          "timeouts", "Connection timing.",
          "rate_limits",
              "Request rates (token buckets) per user and per client IP address. A rate N/period\n"
                  + "# allows bursts of N and N per period sustained; 'off' disables one limit.\n"
                  + "# An excess request is answered with RATE_LIMITED and retry_after_ms.");

  private ConfigTemplate() {}

  /** The template text (YAML). */
  public static String render() {
    StringBuilder sb = new StringBuilder();
    sb.append("# Parley server configuration. Start with: ./parley server --config parley.yaml\n");
    sb.append("#\n");
    sb.append("# Every key is optional and shown with its default. Each can also be set with an\n");
    sb.append("# environment variable PARLEY_<SECTION>_<KEY> (e.g. PARLEY_SERVER_PORT=9000), which\n");
    sb.append("# wins over this file; --port, --host, --data-dir and --roles win over both. A nested\n");
    sb.append("# key's variable joins the names with '_' (PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS).\n");
    sb.append("# Durations: 500ms, 30s, 5m, 24h, 1h30m or ISO-8601 (PT30S). Sizes: 65536, 64KiB, 1MiB.\n");
    sb.append("# Rates: requests per period such as 50/10s or 600/1m, or off.\n");
    String section = null;
    String group = "";
    for (ConfigKey key : ConfigSchema.KEYS) {
      if (!key.section().equals(section)) {
        section = key.section();
        group = "";
        sb.append("\n# ").append(SECTION_COMMENTS.getOrDefault(section, section)).append('\n');
        sb.append(section).append(":\n");
      }
      // A dotted key lives in a nested mapping (cluster: kafka: bootstrap_servers: ...).
      if (!key.group().equals(group)) {
        group = key.group();
        if (!group.isEmpty()) {
          sb.append("  ").append(group).append(":\n");
        }
      }
      String indent = group.isEmpty() ? "  " : "    ";
      sb.append(indent).append("# ").append(key.comment()).append('\n');
      sb.append(indent).append(key.leaf()).append(": ").append(yamlDefault(key)).append('\n');
    }
    return sb.toString();
  }

  private static String yamlDefault(ConfigKey key) {
    if (key.type() == Type.STRING_LIST) {
      return key.defaultText() == null ? "[]" : key.defaultText();
    }
    if (key.defaultText() == null) {
      return "null";
    }
    if (key.type() == Type.STRING || key.type() == Type.PATH) {
      return '"' + key.defaultText() + '"';
    }
    return key.defaultText();
  }
}
