package io.parley.server.config;

import io.parley.server.config.ParleyConfig.Role;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads and validates {@code server.roles} and the {@code cluster.*} settings into {@link
 * ParleyConfig.Cluster}: the roles must be a non-empty subset of gateway, engine and notify; a
 * process that does not run all three talks to the others through Kafka, so it needs {@code
 * cluster.kafka.bootstrap_servers}, and if it runs the engine or notify role it needs the shared
 * store ({@code storage.engine: cassandra}): an embedded RocksDB store cannot be shared. Stateless.
 */
final class ClusterSettings {
  /** Kafka's legal topic-name characters (the prefix starts every topic name). */
  private static final Pattern TOPIC_PREFIX = Pattern.compile("[A-Za-z0-9._-]{0,100}");

  private ClusterSettings() {}

  static ParleyConfig.Cluster read(
      ConfigLoader.Values v, ParleyConfig.StorageEngine storage, List<String> problems) {
    Set<Role> roles = roles(v, problems);
    String bootstrap = v.optional("cluster.kafka.bootstrap_servers");
    if (bootstrap != null) {
      bootstrap = bootstrap.strip();
      String[] servers = bootstrap.split(",");
      for (int i = 0; i < servers.length; i++) {
        String problem = CassandraSettings.hostPortProblem(servers[i]);
        if (problem != null) {
          problems.add(
              "cluster.kafka.bootstrap_servers entry "
                  + (i + 1)
                  + " "
                  + problem
                  + v.origin("cluster.kafka.bootstrap_servers"));
        }
      }
    }
    String prefix = v.string("cluster.kafka.topic_prefix");
    if (!TOPIC_PREFIX.matcher(prefix).matches()) {
      problems.add(
          "cluster.kafka.topic_prefix may only use letters, digits, '.', '_' and '-' (at most 100),"
              + " got '"
              + prefix
              + "'"
              + v.origin("cluster.kafka.topic_prefix"));
    }
    String nodeId = v.optional("cluster.node_id");
    if (nodeId == null) {
      nodeId = NodeIds.local();
    } else if (!NodeIds.valid(nodeId)) {
      problems.add(
          "cluster.node_id must be 1-64 letters, digits, '.', '_' or '-' (it names a Kafka topic),"
              + " got '"
              + nodeId
              + "'"
              + v.origin("cluster.node_id"));
      nodeId = NodeIds.local();
    }
    boolean split = !roles.isEmpty() && roles.size() < Role.values().length;
    if (split) {
      String names = names(roles);
      if (bootstrap == null) {
        problems.add(
            "server.roles is "
                + names
                + ", not all of gateway, engine and notify: the roles of a cluster talk through"
                + " Kafka, so set cluster.kafka.bootstrap_servers (or"
                + " PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS)");
      }
      if ((roles.contains(Role.ENGINE) || roles.contains(Role.NOTIFY))
          && storage != ParleyConfig.StorageEngine.CASSANDRA) {
        problems.add(
            "server.roles "
                + names
                + " includes engine or notify without the gateway role in the same process: they"
                + " need the shared store, set storage.engine: cassandra (the embedded RocksDB"
                + " store serves a single process only)");
      }
    }
    return new ParleyConfig.Cluster(
        roles.isEmpty() ? EnumSet.allOf(Role.class) : roles,
        bootstrap,
        prefix,
        v.integer("cluster.kafka.command_partitions"),
        v.integer("cluster.kafka.replication_factor"),
        nodeId,
        v.duration("cluster.request_timeout"));
  }

  private static Set<Role> roles(ConfigLoader.Values v, List<String> problems) {
    Set<Role> roles = EnumSet.noneOf(Role.class);
    List<String> given = v.list("server.roles");
    for (String name : given) {
      String n = name.strip().toLowerCase(Locale.ROOT);
      Role role = null;
      for (Role r : Role.values()) {
        if (r.configName().equals(n)) {
          role = r;
        }
      }
      if (role == null) {
        problems.add(
            "server.roles: unknown role '"
                + name.strip()
                + "' (the roles are gateway, engine and notify)"
                + v.origin("server.roles"));
      } else {
        roles.add(role);
      }
    }
    if (given.isEmpty()) {
      problems.add(
          "server.roles must name at least one of gateway, engine and notify"
              + v.origin("server.roles"));
    }
    return roles;
  }

  private static String names(Set<Role> roles) {
    return roles.stream().map(Role::configName).collect(Collectors.joining(","));
  }
}
