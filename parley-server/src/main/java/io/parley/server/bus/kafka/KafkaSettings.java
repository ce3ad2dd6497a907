package io.parley.server.bus.kafka;

import io.parley.server.config.ParleyConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how a node talks to the Kafka cluster that connects gateways and engines.
 *
 * @param bootstrapServers comma-separated {@code host:port} list
 * @param topicPrefix prefix of every topic Parley creates (several clusters may share a broker)
 * @param commandPartitions partitions of the command topic: the unit of engine ownership, fixed
 *     for the life of a cluster (a conversation's partition is {@code murmur2(id) % partitions})
 * @param replicationFactor replication of the topics Parley creates (3 in production, 1 in tests)
 * @param nodeId this process's unique id in the cluster; names its own inbox topics
 * @param requestTimeout how long a gateway waits for an engine's answer before failing the
 *     client's request with a retryable {@code UNAVAILABLE}
 */
public record KafkaSettings(
    String bootstrapServers,
    String topicPrefix,
    int commandPartitions,
    short replicationFactor,
    String nodeId,
    Duration requestTimeout) {
  public KafkaSettings {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    Objects.requireNonNull(topicPrefix, "topicPrefix");
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    if (bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("bootstrapServers must not be blank");
    }
    if (commandPartitions < 1 || replicationFactor < 1) {
      throw new IllegalArgumentException("partitions and replication factor must be >= 1");
    }
    if (!nodeId.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException(
          "nodeId must be 1-64 letters, digits, '.', '_' or '-' (it names Kafka topics)");
    }
  }

  /**
   * The settings of a loaded configuration's {@code cluster} section.
   *
   * @throws IllegalStateException when {@code cluster.kafka.bootstrap_servers} is not set (the
   *     loader requires it whenever a process does not run every role)
   */
  public static KafkaSettings from(ParleyConfig.Cluster cluster) {
    if (cluster.kafkaBootstrapServers() == null) {
      throw new IllegalStateException("cluster.kafka.bootstrap_servers is not configured");
    }
    return new KafkaSettings(
        cluster.kafkaBootstrapServers(),
        cluster.topicPrefix(),
        cluster.commandPartitions(),
        (short) cluster.replicationFactor(),
        cluster.nodeId(),
        cluster.requestTimeout());
  }

  /** The topic a name stands for under this cluster's prefix. */
  public String topic(String name) {
    return topicPrefix + name;
  }
}
