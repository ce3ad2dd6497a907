package io.parley.server.bus.kafka;

import java.util.HashMap;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The client settings every Parley Kafka producer, consumer and admin client shares, in one place
 * so that the durability rules hold everywhere: producers are idempotent with {@code acks=all}
 * (a record the broker acknowledged is on every in-sync replica and never duplicated by a
 * retry); consumers commit offsets themselves. Stateless.
 */
public final class KafkaClients {
  private KafkaClients() {}

  /** Idempotent, {@code acks=all}, ordered producer settings; {@code role} names the client. */
  public static Map<String, Object> producer(KafkaSettings settings, String role) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "parley-" + settings.nodeId() + "-" + role);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    // Idempotence keeps order per partition with up to 5 requests in flight.
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    // Chat traffic is latency-bound: batch only what arrives while a request is in flight.
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    // A record that cannot be written within the request timeout is of no use to the client,
    // which has been told UNAVAILABLE by then (Kafka requires delivery >= linger + request).
    int timeoutMs = (int) Math.max(1_000, settings.requestTimeout().toMillis());
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs);
    return p;
  }

  /** Consumer settings without auto-commit; {@code groupId} may be null for assign()-only use. */
  public static Map<String, Object> consumer(KafkaSettings settings, String role, String groupId) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "parley-" + settings.nodeId() + "-" + role);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
    if (groupId != null) {
      c.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    }
    return c;
  }

  /** Admin client settings. */
  public static Map<String, Object> admin(KafkaSettings settings) {
    return Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers(),
        AdminClientConfig.CLIENT_ID_CONFIG, "parley-" + settings.nodeId() + "-admin",
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
  }

  /**
   * Creates the topic if it does not exist (idempotent; concurrent creators are fine). An
   * existing topic is left as it is.
   */
  public static void ensureTopic(
      Admin admin, String name, int partitions, short replication, Map<String, String> configs) {
    try {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      if (existing.contains(name)) {
        return;
      }
      admin
          .createTopics(List.of(new NewTopic(name, partitions, replication).configs(configs)))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("cannot create Kafka topic " + name + ": " + e.getCause(), e);
      }
    } catch (TimeoutException e) {
      throw new IllegalStateException("Kafka did not answer while creating topic " + name, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topic " + name, e);
    }
  }

  /**
   * True when {@code e} or one of its causes is one of {@code types}: Kafka clients wrap a broker's
   * verdict (fenced, unauthorized) in other exceptions.
   */
  @SafeVarargs
  public static boolean causedBy(Throwable e, Class<? extends Throwable>... types) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      for (Class<? extends Throwable> type : types) {
        if (type.isInstance(t)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Creates the command topic if needed and checks its partition count: the partitions are the
   * conversation shards (a gateway picks a command's partition from its conversation's shard, and
   * the store lays out feeds by shard), so a topic created with another count must stop the start.
   */
  public static void ensureCommandTopic(
      Admin admin, String name, int partitions, short replication) {
    // Calls are useless after their deadline; a day covers any engine outage worth replaying.
    ensureShardTopic(
        admin,
        name,
        partitions,
        replication,
        Map.of("retention.ms", String.valueOf(Duration.ofDays(1).toMillis())));
  }

  /**
   * Creates a topic with one partition per conversation shard if needed and checks that an
   * existing one has that many: a topic created with another count must stop the start.
   */
  public static void ensureShardTopic(
      Admin admin, String name, int partitions, short replication, Map<String, String> config) {
    ensureTopic(admin, name, partitions, replication, config);
    int actual;
    try {
      actual =
          admin.describeTopics(List.of(name)).allTopicNames().get(30, TimeUnit.SECONDS)
              .get(name).partitions().size();
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot describe Kafka topic " + name + ": " + e.getCause(), e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("Kafka did not answer while describing topic " + name, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while describing topic " + name, e);
    }
    if (actual != partitions) {
      throw new IllegalStateException(
          "Kafka topic "
              + name
              + " has "
              + actual
              + " partitions, but cluster.kafka.command_partitions is "
              + partitions
              + ": the count is fixed for the life of a cluster");
    }
  }
}
