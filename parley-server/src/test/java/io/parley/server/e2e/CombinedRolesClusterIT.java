package io.parley.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.testing.CassandraExtension;
import io.parley.server.testing.CassandraTestCluster;
import io.parley.server.testing.KafkaExtension;
import io.parley.server.testing.KafkaTestBroker;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * "Any mix of roles per process": two processes that each run every role (gateway, engine,
 * notify) on one Kafka broker and one Cassandra keyspace. Their engines split the conversation
 * shards, so a client on one process chats in conversations that the other process's engine
 * sequences: each must receive the other's messages, whichever engine owns the conversation.
 */
@ExtendWith({KafkaExtension.class, CassandraExtension.class})
class CombinedRolesClusterIT {
  private static final int SHARDS = 4;

  @Test
  void clientsOfTwoAllRoleProcessesChatWhicheverEngineOwnsTheConversation(
      KafkaTestBroker kafka, CassandraTestCluster cassandra) throws Exception {
    String prefix = "combined" + UUID.randomUUID().toString().substring(0, 8) + ".";
    String alice = "alice-" + prefix.substring(8, 16);
    String bob = "bob-" + prefix.substring(8, 16);
    try (TestServer one = TestServer.start(env(kafka, cassandra, prefix, "one"));
        TestServer two = TestServer.start(env(kafka, cassandra, prefix, "two"))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> shardsOwned(one) == SHARDS / 2 && shardsOwned(two) == SHARDS / 2);

      try (WsTestClient a = WsTestClient.authenticated(one.port(), one.token(alice), "phone");
          WsTestClient b = WsTestClient.authenticated(two.port(), two.token(bob), "laptop")) {
        List<String> conversations = new ArrayList<>();
        ServerFrame direct = a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)));
        assertThat(direct.hasConversation()).as("%s", direct).isTrue();
        conversations.add(direct.getConversation().getConversation().getId());
        // Enough groups that both engines sequence some of them.
        for (int g = 0; g < 6; g++) {
          ServerFrame group =
              a.call(f -> f.setCreateGroup(CreateGroup.newBuilder().addMemberIds(bob)));
          assertThat(group.hasConversation()).as("%s", group).isTrue();
          conversations.add(group.getConversation().getConversation().getId());
        }

        for (String conv : conversations) {
          assertThat(ChatScenariosIT.sendText(a, conv, "from alice in " + conv).hasSendResult())
              .isTrue();
          assertThat(ChatScenariosIT.sendText(b, conv, "from bob in " + conv).hasSendResult())
              .isTrue();
        }
        for (String conv : conversations) {
          assertThat(messages(b, conv)).contains("from alice in " + conv);
          assertThat(messages(a, conv)).contains("from bob in " + conv);
        }
      }
    }
  }

  private final Map<WsTestClient, Map<String, List<String>>> received = new HashMap<>();

  /** The message texts a client received live in a conversation, waiting up to 20 s for two. */
  private List<String> messages(WsTestClient c, String conv) throws InterruptedException {
    Map<String, List<String>> byConv = received.computeIfAbsent(c, k -> new HashMap<>());
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (byConv.getOrDefault(conv, List.of()).size() < 2 && System.nanoTime() < deadline) {
      for (Event e : c.awaitEvents(1, Duration.ofMillis(200), null)) {
        if (e.hasMessagePosted()) {
          byConv.computeIfAbsent(e.getConversationId(), k -> new ArrayList<>())
              .add(ChatScenariosIT.text(e));
        }
      }
    }
    return byConv.getOrDefault(conv, List.of());
  }

  private static Map<String, String> env(
      KafkaTestBroker kafka, CassandraTestCluster cassandra, String prefix, String node) {
    Map<String, String> env = new HashMap<>(cassandra.serverEnv("combined_roles"));
    env.put("PARLEY_CLUSTER_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    env.put("PARLEY_CLUSTER_KAFKA_TOPIC_PREFIX", prefix);
    env.put("PARLEY_CLUSTER_KAFKA_COMMAND_PARTITIONS", String.valueOf(SHARDS));
    env.put("PARLEY_CLUSTER_KAFKA_REPLICATION_FACTOR", "1");
    env.put("PARLEY_CLUSTER_NODE_ID", node + "-" + prefix.substring(8, 16));
    return env;
  }

  private static double shardsOwned(TestServer server) throws Exception {
    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    Matcher m =
        Pattern.compile("(?m)^parley_cluster_engine_shards_owned (\\S+)$").matcher(metrics.body());
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }
}
