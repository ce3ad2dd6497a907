package io.parley.server.bus.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import io.parley.protocol.cluster.v1.InterestKey;
import io.parley.protocol.cluster.v1.InterestKind;
import io.parley.protocol.cluster.v1.InterestValue;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Names, settings and record codecs of the routing topics: the compacted {@code <prefix>interest}
 * topic every engine reads whole, and each gateway's {@code <prefix>deliveries.<nodeId>}.
 * Stateless.
 */
public final class RoutingTopics {
  /** The interest topic's name under the prefix. */
  public static final String INTEREST = "interest";

  private RoutingTopics() {}

  /** The deliveries topic of a gateway node. */
  public static String deliveries(KafkaSettings settings, String gatewayNodeId) {
    return settings.topic("deliveries." + gatewayNodeId);
  }

  /**
   * Creates the interest topic if missing. One partition on purpose: engines derive "which engines
   * must acknowledge this record" from the records before it, which needs one total order (the
   * topic carries one record per session-level interest change, far below a partition's limits).
   */
  static void ensureInterestTopic(Admin admin, KafkaSettings settings) {
    KafkaClients.ensureTopic(
        admin,
        settings.topic(INTEREST),
        1,
        settings.replicationFactor(),
        Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
            // Roll segments often enough that compaction keeps the topic near its live size.
            TopicConfig.SEGMENT_MS_CONFIG, "600000",
            TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.1"));
  }

  /**
   * Creates a gateway's deliveries topic. Records are only useful while the gateway that reads
   * them lives (a restarted gateway takes a new node id), so they are kept one hour.
   */
  static void ensureDeliveriesTopic(Admin admin, KafkaSettings settings, String gatewayNodeId) {
    KafkaClients.ensureTopic(
        admin,
        deliveries(settings, gatewayNodeId),
        1,
        settings.replicationFactor(),
        Map.of(TopicConfig.RETENTION_MS_CONFIG, "3600000"));
  }

  static byte[] key(String nodeId, InterestKind kind, String id) {
    return InterestKey.newBuilder().setNodeId(nodeId).setKind(kind).setId(id).build().toByteArray();
  }

  static byte[] value(long correlationId, long nowMs) {
    return InterestValue.newBuilder()
        .setCorrelationId(correlationId)
        .setWrittenAtMs(nowMs)
        .build()
        .toByteArray();
  }

  /** Parses an interest-topic key; a malformed one throws {@link IllegalArgumentException}. */
  static InterestKey parseKey(byte[] bytes) {
    if (bytes == null) {
      throw new IllegalArgumentException("interest record without key");
    }
    try {
      return InterestKey.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("malformed interest key", e);
    }
  }

  /** Parses an interest-topic value (null for a tombstone). */
  static InterestValue parseValue(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      return InterestValue.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("malformed interest value", e);
    }
  }
}
