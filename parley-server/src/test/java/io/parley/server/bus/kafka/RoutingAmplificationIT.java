package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MessagePosted;
import io.parley.server.bus.BusMessage;
import io.parley.server.gateway.live.InterestRegistry.Kind;
import io.parley.server.testing.KafkaExtension;
import io.parley.server.testing.KafkaTestBroker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Measures read amplification of interest routing with 1, 2 and 4 gateways on the real broker
 * (docs/benchmarks.md, "Cluster routing: read amplification"): users are spread round-robin over
 * the gateways, conversations (direct messages and groups) pick members at random across them,
 * and one engine publishes the same seeded workload for every gateway count. For each gateway it
 * reports the records read from its deliveries topic and the records its sessions needed (events
 * with at least one recipient there), and in total the reads against the events and against the
 * broadcast baseline in which every gateway reads every event.
 *
 * <p>It asserts only the routing property (a gateway reads exactly the events some of its users
 * need, nothing for conversations none of its users is in), never timings. The figures go to
 * standard output and {@code target/routing-amplification.txt}.
 */
@ExtendWith(KafkaExtension.class)
class RoutingAmplificationIT {
  private static final int USERS = 64;
  private static final int DIRECTS = 48;
  private static final int GROUPS = 16;
  private static final int GROUP_SIZE = 6;
  private static final int EVENTS = 2_000;
  private static final long SEED = 42;

  private final KafkaTestBroker kafka;

  RoutingAmplificationIT(KafkaTestBroker kafka) {
    this.kafka = kafka;
  }

  private record Conversation(String id, Set<String> members) {}

  private static List<Conversation> conversations(Random random) {
    List<Conversation> out = new ArrayList<>();
    for (int i = 0; i < DIRECTS; i++) {
      out.add(new Conversation("dm_" + i, members(random, 2)));
    }
    for (int i = 0; i < GROUPS; i++) {
      out.add(new Conversation("grp_" + i, members(random, GROUP_SIZE)));
    }
    return out;
  }

  private static Set<String> members(Random random, int n) {
    Set<String> m = new HashSet<>();
    while (m.size() < n) {
      m.add(user(random.nextInt(USERS)));
    }
    return m;
  }

  private static String user(int i) {
    return "u" + i;
  }

  @Test
  void gatewaysReadOnlyWhatTheirSessionsNeed() throws Exception {
    StringBuilder report = new StringBuilder();
    report.append(
        String.format(
            "workload: %d users round-robin over the gateways, %d direct + %d groups of %d (members"
                + " at random), %d events (seed %d)%n",
            USERS, DIRECTS, GROUPS, GROUP_SIZE, EVENTS, SEED));
    report.append(
        "gateways | per gateway: read / needed | total read | events | total/events | broadcast"
            + " total | routed vs broadcast | interest acks read (all gateways)\n");
    for (int gateways : new int[] {1, 2, 4}) {
      report.append(run(gateways)).append('\n');
    }
    System.out.print(report);
    Files.writeString(Path.of("target", "routing-amplification.txt"), report.toString());
  }

  private String run(int gatewayCount) throws Exception {
    RoutingCluster cluster =
        new RoutingCluster(kafka, RoutingSettings.DEFAULTS, Duration.ofSeconds(10));
    try (cluster) {
      KafkaRoutingBus engine = cluster.engine("engine");
      List<RoutingCluster.Gateway> gateways = new ArrayList<>();
      Map<String, Integer> gatewayOf = new HashMap<>();
      for (int g = 0; g < gatewayCount; g++) {
        gateways.add(cluster.gateway("gw" + g));
      }
      for (int u = 0; u < USERS; u++) {
        gatewayOf.put(user(u), u % gatewayCount);
        gateways.get(u % gatewayCount).interested(Kind.USER, user(u));
      }

      Random random = new Random(SEED);
      List<Conversation> conversations = conversations(random);
      long[] needed = new long[gatewayCount];
      Map<String, Long> seqs = new HashMap<>();
      for (int i = 0; i < EVENTS; i++) {
        Conversation c = conversations.get(random.nextInt(conversations.size()));
        long seq = seqs.merge(c.id(), 1L, Long::sum);
        Set<Integer> at = new HashSet<>();
        c.members().forEach(m -> at.add(gatewayOf.get(m)));
        at.forEach(g -> needed[g]++);
        engine.publish(
            new BusMessage.CommittedEvents(
                c.id(),
                ConversationKind.CONVERSATION_KIND_GROUP,
                List.of(
                    Event.newBuilder()
                        .setConversationId(c.id())
                        .setSeq(seq)
                        .setMessagePosted(MessagePosted.newBuilder().setMessageId(c.id() + seq))
                        .build()),
                c.members()));
      }
      // The end marker reaches every gateway; topics are ordered, so all else arrived before it.
      Set<String> everyone = new HashSet<>(gatewayOf.keySet());
      engine.publish(new BusMessage.Typing("end", "nobody", true, everyone));
      for (RoutingCluster.Gateway g : gateways) {
        await()
            .atMost(Duration.ofSeconds(120))
            .until(() -> g.received.stream().anyMatch(m -> m instanceof BusMessage.Typing));
      }

      StringBuilder perGateway = new StringBuilder();
      long totalRead = 0;
      long acks = 0;
      for (int g = 0; g < gatewayCount; g++) {
        RoutingCluster.Gateway gw = gateways.get(g);
        long read = gw.bus.messagesRead() - 1; // minus the end marker
        totalRead += read;
        acks += gw.bus.recordsRead() - gw.bus.messagesRead();
        perGateway.append(g == 0 ? "" : ", ").append(read).append(" / ").append(needed[g]);
        int self = g;
        assertThat(read).as("gateway %d reads exactly what its sessions need", g).isEqualTo(needed[g]);
        assertThat(gw.received)
            .filteredOn(m -> m instanceof BusMessage.CommittedEvents)
            .allSatisfy(
                m ->
                    assertThat(((BusMessage.CommittedEvents) m).recipients())
                        .anyMatch(u -> gatewayOf.get(u) == self));
      }
      long broadcast = (long) EVENTS * gatewayCount;
      return String.format(
          "%d | %s | %d | %d | %.2f | %d | %.0f%% | %d",
          gatewayCount,
          perGateway,
          totalRead,
          EVENTS,
          totalRead / (double) EVENTS,
          broadcast,
          100.0 * totalRead / broadcast,
          acks);
    }
  }
}
