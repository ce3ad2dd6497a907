package io.parley.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.server.config.ParleyConfig.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cluster file the repository ships ({@code deploy/cluster.yaml}, referenced by the operations
 * guide and the Kubernetes manifests) is a valid configuration for every role it is used with.
 */
class ShippedClusterConfigTest {
  private static final Path FILE = Path.of("..", "deploy", "cluster.yaml");

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"gateway", "engine", "notify", "engine,notify"})
  void everyRoleStartsFromTheSameFile(String roles) throws Exception {
    assertThat(FILE).isRegularFile();
    ParleyConfig config =
        new ConfigLoader(Map.of("PARLEY_ADMIN_API_KEY", ConfigLoaderTest.ADMIN_KEY))
            .load(
                new ConfigOverrides(
                    FILE, null, null, tmp.resolve("data"), false, List.of(roles.split(","))));
    EnumSet<Role> expected = EnumSet.noneOf(Role.class);
    for (String r : roles.split(",")) {
      expected.add(Role.valueOf(r.toUpperCase(java.util.Locale.ROOT)));
    }
    assertThat(config.cluster().roles()).isEqualTo(expected);
    assertThat(config.cluster().kafkaBootstrapServers()).contains("kafka-0.kafka:9092");
    assertThat(config.storage().engine()).isEqualTo(ParleyConfig.StorageEngine.CASSANDRA);
    assertThat(Files.readString(FILE)).doesNotContain("api_key:").doesNotContain("hmac_secret:");
  }
}
