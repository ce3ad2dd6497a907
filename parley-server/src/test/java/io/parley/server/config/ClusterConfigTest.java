package io.parley.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.server.bus.kafka.KafkaSettings;
import io.parley.server.config.ParleyConfig.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code server.roles} and the {@code cluster.*} settings: parsing, defaults and validation. */
class ClusterConfigTest {
  private static final String CASSANDRA =
      "storage:\n  engine: cassandra\ncassandra:\n  contact_points: [\"db1:9042\"]\n";

  @TempDir Path tmp;

  private ParleyConfig load(String yaml, Map<String, String> extraEnv, List<String> roles)
      throws Exception {
    Path file = tmp.resolve("parley.yaml");
    Files.writeString(file, yaml);
    Map<String, String> env = new HashMap<>(extraEnv);
    env.put("PARLEY_AUTH_HMAC_SECRET", ConfigLoaderTest.SECRET);
    env.put("PARLEY_ADMIN_API_KEY", ConfigLoaderTest.ADMIN_KEY);
    return new ConfigLoader(env)
        .load(new ConfigOverrides(file, null, null, tmp.resolve("data"), false, roles));
  }

  private List<String> problems(String yaml, Map<String, String> env, List<String> roles) {
    try {
      load(yaml, env, roles);
    } catch (ConfigException e) {
      return e.problems();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected a ConfigException");
  }

  @Test
  void defaultsRunEveryRoleWithoutKafka() throws Exception {
    ParleyConfig.Cluster c = load("", Map.of(), null).cluster();

    assertThat(c.roles()).isEqualTo(EnumSet.allOf(Role.class));
    assertThat(c.runsAllRoles()).isTrue();
    assertThat(c.kafkaBootstrapServers()).isNull();
    assertThat(c.topicPrefix()).isEqualTo("parley.");
    assertThat(c.commandPartitions()).isEqualTo(16);
    assertThat(c.replicationFactor()).isEqualTo(3);
    assertThat(c.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.nodeId()).isEqualTo(NodeIds.local()).matches("[A-Za-z0-9._-]{1,64}");
    assertThat(c).isEqualTo(ParleyConfig.Cluster.DEFAULTS);
  }

  @Test
  void nestedYamlKeysAndRolesAreRead() throws Exception {
    ParleyConfig config =
        load(
            "server:\n  roles: [gateway]\ncluster:\n  node_id: gw-7\n  request_timeout: 2s\n"
                + "  kafka:\n    bootstrap_servers: \"k1:9092,k2:9092\"\n    topic_prefix: prod.\n"
                + "    command_partitions: 32\n    replication_factor: 2\n",
            Map.of(),
            null);
    ParleyConfig.Cluster c = config.cluster();

    assertThat(c.roles()).containsExactly(Role.GATEWAY);
    assertThat(c.runs(Role.ENGINE)).isFalse();
    KafkaSettings kafka = KafkaSettings.from(c);
    assertThat(kafka.bootstrapServers()).isEqualTo("k1:9092,k2:9092");
    assertThat(kafka.topic("commands")).isEqualTo("prod.commands");
    assertThat(kafka.commandPartitions()).isEqualTo(32);
    assertThat(kafka.replicationFactor()).isEqualTo((short) 2);
    assertThat(kafka.nodeId()).isEqualTo("gw-7");
    assertThat(kafka.requestTimeout()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void environmentAndFlagOverrideTheFile() throws Exception {
    Map<String, String> env =
        Map.of(
            "PARLEY_SERVER_ROLES", "engine,notify",
            "PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS", "env-kafka:9092",
            "PARLEY_CLUSTER_KAFKA_TOPIC_PREFIX", "staging.");
    ParleyConfig fromEnv = load(CASSANDRA + "server:\n  roles: [gateway]\n", env, null);
    assertThat(fromEnv.cluster().roles()).containsExactlyInAnyOrder(Role.ENGINE, Role.NOTIFY);
    assertThat(fromEnv.cluster().kafkaBootstrapServers()).isEqualTo("env-kafka:9092");
    assertThat(fromEnv.cluster().topicPrefix()).isEqualTo("staging.");

    ParleyConfig fromFlag = load(CASSANDRA, env, List.of("gateway"));
    assertThat(fromFlag.cluster().roles()).containsExactly(Role.GATEWAY);
  }

  @Test
  void rolesMustBeANonEmptySubset() {
    assertThat(problems("server:\n  roles: []\n", Map.of(), null))
        .anyMatch(p -> p.startsWith("server.roles must name at least one"));
    assertThat(problems("server:\n  roles: [gateway, sequencer]\n", Map.of(), null))
        .anyMatch(p -> p.contains("unknown role 'sequencer'"));
  }

  @Test
  void aSplitProcessNeedsKafka() {
    assertThat(problems("", Map.of(), List.of("gateway")))
        .anyMatch(p -> p.contains("set cluster.kafka.bootstrap_servers"));
  }

  @Test
  void engineAndNotifyRolesOutsideOneProcessNeedCassandra() {
    Map<String, String> kafka = Map.of("PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS", "k:9092");
    for (List<String> roles : List.of(List.of("engine"), List.of("notify"), List.of("gateway", "engine"))) {
      assertThat(problems("", kafka, roles))
          .as("roles %s", roles)
          .anyMatch(p -> p.contains("set storage.engine: cassandra"));
    }
  }

  @Test
  void aGatewayAloneNeedsNoCassandra() throws Exception {
    ParleyConfig config =
        load("", Map.of("PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS", "k:9092"), List.of("gateway"));
    assertThat(config.cluster().roles()).containsExactly(Role.GATEWAY);
  }

  @Test
  void badClusterValuesAreNamed() {
    List<String> problems =
        problems(
            "cluster:\n  node_id: \"a/b\"\n  request_timeout: 1ms\n  kafka:\n"
                + "    bootstrap_servers: \"nohost\"\n    topic_prefix: \"bad prefix\"\n"
                + "    command_partitions: 0\n",
            Map.of(),
            null);
    assertThat(problems)
        .anyMatch(p -> p.startsWith("cluster.node_id must be"))
        .anyMatch(p -> p.startsWith("cluster.request_timeout"))
        .anyMatch(p -> p.startsWith("cluster.kafka.bootstrap_servers entry 1 must be host:port"))
        .anyMatch(p -> p.startsWith("cluster.kafka.topic_prefix may only use"))
        .anyMatch(p -> p.startsWith("cluster.kafka.command_partitions"));
  }

  @Test
  void unknownNestedKeysGetASuggestion() {
    assertThat(problems("cluster:\n  kafka:\n    bootstrap_server: \"k:9092\"\n", Map.of(), null))
        .anyMatch(p -> p.contains("unknown key 'cluster.kafka.bootstrap_server'")
            && p.contains("did you mean 'cluster.kafka.bootstrap_servers'"));
    assertThat(problems("cluster:\n  kafka: 5\n", Map.of(), null))
        .anyMatch(p -> p.contains("'cluster.kafka' must be a mapping"));
  }

  @Test
  void kafkaSettingsNeedABootstrapServer() {
    assertThatThrownBy(() -> KafkaSettings.from(ParleyConfig.Cluster.DEFAULTS))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cluster.kafka.bootstrap_servers");
  }
}
