package io.parley.server.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads and validates the {@code cassandra.*} settings into {@link ParleyConfig.Cassandra}. Every
 * value is checked even when another engine is selected, so a typo is reported before anyone
 * switches engines. Stateless.
 */
final class CassandraSettings {
  /** Cassandra's own rule for unquoted keyspace names (at most 48 characters). */
  private static final Pattern KEYSPACE = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,47}");

  private static final Pattern DATACENTER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  private static final String NTS = "NetworkTopologyStrategy";
  private static final String SIMPLE = "SimpleStrategy";

  private CassandraSettings() {}

  static ParleyConfig.Cassandra read(
      Function<String, List<String>> lists,
      Function<String, String> strings,
      Function<String, String> origins,
      List<String> problems) {
    List<String> contactPoints = lists.apply("cassandra.contact_points");
    for (int i = 0; i < contactPoints.size(); i++) {
      String problem = hostPortProblem(contactPoints.get(i));
      if (problem != null) {
        problems.add(
            "cassandra.contact_points[" + i + "] " + problem + origins.apply("cassandra.contact_points"));
      }
    }
    String datacenter = strings.apply("cassandra.local_datacenter").strip();
    if (!DATACENTER.matcher(datacenter).matches()) {
      problems.add(
          "cassandra.local_datacenter is not a datacenter name: '"
              + datacenter
              + "'"
              + origins.apply("cassandra.local_datacenter"));
    }
    String keyspace = strings.apply("cassandra.keyspace").strip();
    if (!KEYSPACE.matcher(keyspace).matches()) {
      problems.add(
          "cassandra.keyspace must be a letter followed by at most 47 letters, digits or"
              + " underscores, got '"
              + keyspace
              + "'"
              + origins.apply("cassandra.keyspace"));
    }
    Map<String, String> replication;
    try {
      replication = replication(strings.apply("cassandra.replication"));
    } catch (IllegalArgumentException e) {
      problems.add("cassandra.replication " + e.getMessage() + origins.apply("cassandra.replication"));
      replication = replication("SimpleStrategy:1");
    }
    return new ParleyConfig.Cassandra(contactPoints, datacenter, keyspace, replication);
  }

  /**
   * Parses {@code SimpleStrategy:<n>} or {@code NetworkTopologyStrategy:<dc>=<n>[,<dc>=<n>...]}
   * into the replication map of {@code CREATE KEYSPACE}.
   */
  static Map<String, String> replication(String text) {
    String t = text.strip();
    int colon = t.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException(
          "must be SimpleStrategy:<n> or NetworkTopologyStrategy:<dc>=<n>[,<dc>=<n>], got '" + t + "'");
    }
    String strategy = t.substring(0, colon).strip();
    String args = t.substring(colon + 1).strip();
    Map<String, String> map = new LinkedHashMap<>();
    if (strategy.equalsIgnoreCase(SIMPLE)) {
      map.put("class", SIMPLE);
      map.put("replication_factor", Integer.toString(factor(args)));
    } else if (strategy.equalsIgnoreCase(NTS)) {
      map.put("class", NTS);
      for (String part : args.split(",")) {
        String[] kv = part.split("=", -1);
        if (kv.length != 2 || !DATACENTER.matcher(kv[0].strip()).matches()) {
          throw new IllegalArgumentException(
              "needs <datacenter>=<replicas> pairs after NetworkTopologyStrategy:, got '" + part.strip() + "'");
        }
        if (map.put(kv[0].strip(), Integer.toString(factor(kv[1]))) != null) {
          throw new IllegalArgumentException("names datacenter '" + kv[0].strip() + "' twice");
        }
      }
    } else {
      throw new IllegalArgumentException(
          "strategy must be SimpleStrategy or NetworkTopologyStrategy, got '" + strategy + "'");
    }
    return map;
  }

  private static int factor(String text) {
    try {
      int n = Integer.parseInt(text.strip());
      if (n >= 1 && n <= 99) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("replica count must be 1..99, got '" + text.strip() + "'");
  }

  static String hostPortProblem(String entry) {
    String e = entry.strip();
    int colon = e.lastIndexOf(':');
    if (colon <= 0 || colon == e.length() - 1) {
      return "must be host:port, got '" + e + "'";
    }
    try {
      int port = Integer.parseInt(e.substring(colon + 1));
      if (port < 1 || port > 65535) {
        return "has port " + port + " outside 1..65535";
      }
    } catch (NumberFormatException ex) {
      return "has a port that is not a number: '" + e + "'";
    }
    return null;
  }
}
