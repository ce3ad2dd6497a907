package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MemberJoined;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.bus.BusMessage;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.live.InterestRegistry.Interest;
import io.parley.server.gateway.live.InterestRegistry.Kind;
import io.parley.server.gateway.testing.WsClient;
import io.parley.server.gateway.ws.CloseCodes;
import io.parley.server.testing.KafkaExtension;
import io.parley.server.testing.KafkaTestBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Engines route bus messages over the real broker only to the gateways whose sessions registered
 * interest, in order; dead gateways stop being routed to; interest outlives engine restarts; and
 * a gateway's interest is confirmed only when every registered engine routes by it.
 */
@ExtendWith(KafkaExtension.class)
class KafkaRoutingBusIT {
  private final RoutingCluster cluster;

  KafkaRoutingBusIT(KafkaTestBroker kafka) {
    cluster =
        new RoutingCluster(
            kafka,
            new RoutingSettings(Duration.ofMillis(500), Duration.ofSeconds(4)),
            Duration.ofSeconds(2));
  }

  @AfterEach
  void closeCluster() {
    cluster.close();
  }

  private static BusMessage.CommittedEvents posted(String conv, long seq, String... recipients) {
    return new BusMessage.CommittedEvents(
        conv,
        ConversationKind.CONVERSATION_KIND_GROUP,
        List.of(
            Event.newBuilder()
                .setConversationId(conv)
                .setSeq(seq)
                .setMessagePosted(MessagePosted.newBuilder().setMessageId(conv + "-" + seq))
                .build()),
        Set.of(recipients));
  }

  private static List<Long> seqsOf(List<BusMessage> received, String conv) {
    List<Long> out = new ArrayList<>();
    for (BusMessage m : received) {
      if (m instanceof BusMessage.CommittedEvents c && c.conversationId().equals(conv)) {
        c.events().forEach(e -> out.add(e.getSeq()));
      }
    }
    return out;
  }

  private static List<Long> range(int n) {
    List<Long> out = new ArrayList<>();
    for (long i = 1; i <= n; i++) {
      out.add(i);
    }
    return out;
  }

  @Test
  void eventsReachExactlyTheInterestedGatewaysInOrder() throws Exception {
    KafkaRoutingBus engine = cluster.engine("e1");
    RoutingCluster.Gateway g1 = cluster.gateway("g1");
    RoutingCluster.Gateway g2 = cluster.gateway("g2");
    RoutingCluster.Gateway g3 = cluster.gateway("g3");
    g1.interested(Kind.USER, "alice");
    g2.interested(Kind.USER, "bob");
    g3.interested(Kind.USER, "carol");
    g3.interested(Kind.CHANNEL, "ch");

    for (int i = 1; i <= 60; i++) {
      engine.publish(posted("grp_ab", i, "alice", "bob"));
      if (i % 3 == 0) {
        engine.publish(posted("dm_c", i / 3, "carol", "nobody-here"));
      }
    }
    engine.publish(posted("dm_x", 1, "xavier"));
    engine.publish(
        new BusMessage.CommittedEvents(
            "ch",
            ConversationKind.CONVERSATION_KIND_CHANNEL,
            List.of(
                Event.newBuilder()
                    .setConversationId("ch")
                    .setSeq(1)
                    .setMemberJoined(MemberJoined.newBuilder().setUserId("alice"))
                    .build()),
            Set.of()));
    // A last message to everyone: each gateway's topic is ordered, so once it arrived nothing
    // routed before it is still on the way.
    engine.publish(new BusMessage.Typing("end", "zed", true, Set.of("alice", "bob", "carol")));
    for (RoutingCluster.Gateway g : List.of(g1, g2, g3)) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> g.received.stream().anyMatch(m -> m instanceof BusMessage.Typing));
    }

    assertThat(seqsOf(g1.received, "grp_ab")).isEqualTo(range(60));
    assertThat(seqsOf(g2.received, "grp_ab")).isEqualTo(range(60));
    assertThat(seqsOf(g3.received, "dm_c")).isEqualTo(range(20));
    assertThat(seqsOf(g1.received, "dm_c")).isEmpty();
    assertThat(seqsOf(g2.received, "dm_c")).isEmpty();
    assertThat(seqsOf(g3.received, "grp_ab")).isEmpty();
    assertThat(g1.received).noneMatch(m -> m.toString().contains("dm_x"));
    assertThat(seqsOf(g3.received, "ch")).as("channel subscriber").containsExactly(1L);
    assertThat(seqsOf(g1.received, "ch")).as("the joining user's gateway").containsExactly(1L);
    assertThat(seqsOf(g2.received, "ch")).isEmpty();
    assertThat(g1.received).hasSize(62);
    assertThat(g2.received).hasSize(61);
    assertThat(g3.received).hasSize(22);
  }

  @Test
  void presenceReachesOnlyTheFollowersGateways() throws Exception {
    KafkaRoutingBus engine = cluster.engine("e1");
    RoutingCluster.Gateway g1 = cluster.gateway("g1");
    RoutingCluster.Gateway g2 = cluster.gateway("g2");
    g1.interested(Kind.PRESENCE, "bob");
    g2.interested(Kind.USER, "bob");
    engine.publish(new BusMessage.Presence("bob", PresenceStatus.PRESENCE_STATUS_ONLINE, 1));
    engine.publish(new BusMessage.UserDeactivated("bob"));
    await().atMost(Duration.ofSeconds(60)).until(() -> g2.received.size() == 1);
    await().atMost(Duration.ofSeconds(60)).until(() -> g1.received.size() == 1);
    assertThat(g1.received.get(0)).isInstanceOf(BusMessage.Presence.class);
    assertThat(g2.received.get(0)).isInstanceOf(BusMessage.UserDeactivated.class);
  }

  @Test
  void aGatewayThatDiesStopsBeingRoutedToAfterTheTimeout() throws Exception {
    KafkaRoutingBus engine = cluster.engine("e1");
    RoutingCluster.Gateway g1 = cluster.gateway("g1");
    RoutingCluster.Gateway g2 = cluster.gateway("g2");
    g1.interested(Kind.USER, "alice");
    g2.interested(Kind.USER, "bob");
    assertThat(engine.knownGateways()).containsExactly("g1", "g2");

    g2.crash();
    await().atMost(Duration.ofSeconds(60)).until(() -> !engine.knownGateways().contains("g2"));
    long routed = engine.routedRecords();
    engine.publish(posted("dm_b", 1, "bob"));
    assertThat(engine.routedRecords()).as("nothing is written for the dead gateway").isEqualTo(routed);
    assertThat(engine.knownGateways()).containsExactly("g1");

    // The eviction was written to the interest topic: a new engine never routes to g2 either.
    KafkaRoutingBus later = cluster.engine("e2");
    assertThat(later.knownGateways()).containsExactly("g1");
  }

  @Test
  void interestSurvivesAnEngineRestart() throws Exception {
    KafkaRoutingBus first = cluster.engine("e1");
    RoutingCluster.Gateway g1 = cluster.gateway("g1");
    g1.interested(Kind.USER, "alice");
    g1.interested(Kind.CHANNEL, "ch");
    first.close();

    KafkaRoutingBus restarted = cluster.engine("e1");
    restarted.publish(posted("grp", 1, "alice"));
    restarted.publish(
        new BusMessage.CommittedEvents(
            "ch",
            ConversationKind.CONVERSATION_KIND_CHANNEL,
            List.of(posted("ch", 1).events().get(0)),
            Set.of()));
    await().atMost(Duration.ofSeconds(60)).until(() -> g1.received.size() == 2);
    assertThat(seqsOf(g1.received, "grp")).containsExactly(1L);
    assertThat(seqsOf(g1.received, "ch")).containsExactly(1L);
  }

  @Test
  void interestIsInForceOnlyOnceEveryRegisteredEngineRoutesByIt() throws Exception {
    KafkaRoutingBus e1 = cluster.engine("e1");
    KafkaRoutingBus e2 = cluster.engine("e2");
    RoutingCluster.Gateway g1 = cluster.gateway("g1");
    g1.interested(Kind.USER, "alice");
    // Whichever engine acknowledged first, both route by the interest now.
    e1.publish(posted("grp1", 1, "alice"));
    e2.publish(posted("grp2", 1, "alice"));
    await().atMost(Duration.ofSeconds(60)).until(() -> g1.received.size() == 2);
    assertThat(e1.knownEngines()).containsExactly("e1", "e2");

    // A crashed engine cannot acknowledge: sessions are refused with a retryable error (never
    // admitted with a seam that could lose events) until the survivors deregister it.
    e2.crash();
    Interest bob = new Interest(Kind.USER, "bob");
    g1.interests.declare(bob);
    assertThatThrownBy(() -> g1.interests.inForce(List.of(bob)).get(60, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(
            ParleyException.class, pe -> assertThat(pe.code()).isEqualTo(ErrorCode.UNAVAILABLE));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              try {
                g1.interests.inForce(List.of(bob)).get(60, TimeUnit.SECONDS);
                return true;
              } catch (ExecutionException e) {
                return false;
              }
            });
    assertThat(e1.knownEngines()).containsExactly("e1");
    e1.publish(posted("dm_b", 1, "bob"));
    await().atMost(Duration.ofSeconds(60)).until(() -> seqsOf(g1.received, "dm_b").size() == 1);
  }

  @Test
  void webSocketSessionsOnTwoGatewaysReceiveExactlyTheirEvents() throws Exception {
    KafkaRoutingBus engine = cluster.engine("e1");
    RoutingCluster.WsGateway gw1 = cluster.wsGateway("g1", Map.of());
    RoutingCluster.WsGateway gw2 = cluster.wsGateway("g2", Map.of("carol", List.of("ch")));
    // Authenticated means the engines route the user (and carol's channel) here: nothing the
    // engine publishes from now on can miss these sessions.
    WsClient alice = gw1.authenticated("alice");
    WsClient bob = gw2.authenticated("bob");
    WsClient carol = gw2.authenticated("carol");

    for (int i = 1; i <= 20; i++) {
      engine.publish(posted("grp_ab", i, "alice", "bob"));
    }
    engine.publish(posted("dm_cd", 1, "carol", "dave"));
    engine.publish(
        new BusMessage.CommittedEvents(
            "ch",
            ConversationKind.CONVERSATION_KIND_CHANNEL,
            List.of(posted("ch", 1).events().get(0)),
            Set.of()));
    engine.publish(new BusMessage.Typing("end", "zed", true, Set.of("alice", "bob", "carol")));

    assertThat(framesBefore(alice)).isEqualTo(range(20));
    assertThat(framesBefore(bob)).isEqualTo(range(20));
    assertThat(framesBefore(carol)).containsExactly(1L, 1L);
    assertThat(seqsOf(gw1.node.received, "dm_cd")).as("g1 holds neither carol nor dave").isEmpty();
    assertThat(seqsOf(gw1.node.received, "ch")).as("nobody on g1 is in the channel").isEmpty();
    assertThat(gw1.node.received).hasSize(21);
  }

  @Test
  void aGatewayEvictedWhileAliveClosesItsSessionsAndIsRoutedToAgain() throws Exception {
    KafkaRoutingBus engine = cluster.engine("e1");
    RoutingCluster.WsGateway gw1 = cluster.wsGateway("g1", Map.of());
    WsClient first = gw1.authenticated("alice");
    // A pause longer than the liveness timeout: the engine evicts g1, whose sessions may have
    // missed events meanwhile, so the gateway closes them once it learns of the eviction.
    gw1.node.interests.pauseHeartbeats();
    // (Not "g1 is unknown": the gateway declares itself again right after the notice.)
    await().atMost(Duration.ofSeconds(60)).until(() -> engine.evictions() > 0);
    gw1.node.interests.resumeHeartbeats();
    assertThat(first.awaitClose().code()).isEqualTo(CloseCodes.GOING_AWAY);

    WsClient again = gw1.authenticated("alice");
    engine.publish(posted("dm_a", 1, "alice"));
    engine.publish(new BusMessage.Typing("end", "zed", true, Set.of("alice")));
    assertThat(framesBefore(again)).containsExactly(1L);
    assertThat(engine.knownGateways()).containsExactly("g1");
  }

  /** Seqs of the events a client received before the end marker, in order. */
  private static List<Long> framesBefore(WsClient client) {
    List<Long> out = new ArrayList<>();
    for (ServerFrame f :
        client.framesBefore(f -> f.getTyping().getConversationId().equals("end"))) {
      if (f.hasEvent()) {
        out.add(f.getEvent().getSeq());
      }
      f.getEventBatch().getEventsList().forEach(e -> out.add(e.getSeq()));
    }
    return out;
  }
}
