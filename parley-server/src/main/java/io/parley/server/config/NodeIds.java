package io.parley.server.config;

import java.net.InetAddress;

/**
 * The default {@code cluster.node_id}: this host's name and the process id, reduced to the
 * characters a Kafka topic name allows. Stable for the life of the process (so loading the
 * configuration twice gives equal values) and distinct between processes of a cluster as long as
 * host names are. Stateless.
 */
public final class NodeIds {
  private static final String LOCAL = compute();

  private NodeIds() {}

  /** This process's generated node id. */
  public static String local() {
    return LOCAL;
  }

  /** Whether a configured node id is usable (it names Kafka topics). */
  public static boolean valid(String nodeId) {
    return nodeId != null && nodeId.matches("[A-Za-z0-9._-]{1,64}");
  }

  private static String compute() {
    String host = System.getenv("HOSTNAME");
    if (host == null || host.isBlank()) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (Exception e) {
        host = "node";
      }
    }
    String pid = String.valueOf(ProcessHandle.current().pid());
    String clean = host.replaceAll("[^A-Za-z0-9._-]", "-");
    int room = 64 - pid.length() - 1;
    if (clean.length() > room) {
      clean = clean.substring(0, room);
    }
    return (clean.isEmpty() ? "node" : clean) + "-" + pid;
  }
}
