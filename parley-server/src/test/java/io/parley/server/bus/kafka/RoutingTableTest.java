package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.cluster.v1.InterestKey;
import io.parley.protocol.cluster.v1.InterestKind;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MemberJoined;
import io.parley.protocol.v1.MemberLeft;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.ReceiptKind;
import io.parley.server.bus.BusMessage;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoutingTableTest {
  private final RoutingTable table = new RoutingTable();

  private void put(String node, InterestKind kind, String id, long now) {
    table.apply(key(node, kind, id), true, now);
  }

  private static InterestKey key(String node, InterestKind kind, String id) {
    return InterestKey.newBuilder().setNodeId(node).setKind(kind).setId(id).build();
  }

  private static BusMessage group(String conv, String... recipients) {
    return new BusMessage.CommittedEvents(
        conv,
        ConversationKind.CONVERSATION_KIND_GROUP,
        List.of(posted(conv)),
        Set.of(recipients));
  }

  private static Event posted(String conv) {
    return Event.newBuilder()
        .setConversationId(conv)
        .setSeq(1)
        .setMessagePosted(MessagePosted.newBuilder().setMessageId("m1"))
        .build();
  }

  private static BusMessage channel(String conv, Event... events) {
    return new BusMessage.CommittedEvents(
        conv, ConversationKind.CONVERSATION_KIND_CHANNEL, List.of(events), Set.of());
  }

  /**
   * Presence in a cluster follows these declarations: a user is connected from the first gateway
   * holding a session until the last one withdraws it or is evicted.
   */
  @Test
  void aUserIsConnectedFromTheFirstGatewayToTheLast() {
    put("gw1", InterestKind.INTEREST_KIND_USER, "alice", 0);
    put("gw2", InterestKind.INTEREST_KIND_USER, "alice", 0);
    put("gw2", InterestKind.INTEREST_KIND_USER, "bob", 0);
    put("gw2", InterestKind.INTEREST_KIND_PRESENCE, "carol", 0);
    assertThat(table.drainUserChanges())
        .containsExactly(Map.entry("alice", true), Map.entry("bob", true));
    assertThat(table.hasUser("alice")).isTrue();
    assertThat(table.hasUser("carol")).as("following someone's presence is not a session").isFalse();

    table.apply(key("gw1", InterestKind.INTEREST_KIND_USER, "alice"), false, 1);
    assertThat(table.drainUserChanges()).as("alice still has a session on gw2").isEmpty();
    assertThat(table.hasUser("alice")).isTrue();

    table.evictGateway("gw2");
    assertThat(table.drainUserChanges())
        .containsExactlyInAnyOrder(Map.entry("alice", false), Map.entry("bob", false));
    assertThat(table.hasUser("alice")).isFalse();
    assertThat(table.drainUserChanges()).isEmpty();

    put("gw3", InterestKind.INTEREST_KIND_USER, "alice", 2);
    table.apply(key("gw3", InterestKind.INTEREST_KIND_GATEWAY_ALIVE, ""), false, 3);
    assertThat(table.drainUserChanges())
        .containsExactly(Map.entry("alice", true), Map.entry("alice", false));
  }

  @Test
  void userMessagesGoOnlyToGatewaysHoldingARecipient() {
    put("gw1", InterestKind.INTEREST_KIND_USER, "alice", 0);
    put("gw2", InterestKind.INTEREST_KIND_USER, "bob", 0);
    put("gw2", InterestKind.INTEREST_KIND_USER, "carol", 0);
    put("gw3", InterestKind.INTEREST_KIND_USER, "dave", 0);
    assertThat(table.gatewaysFor(group("g", "alice", "bob", "carol"))).containsExactly("gw1", "gw2");
    assertThat(table.gatewaysFor(group("g", "erin"))).isEmpty();
    assertThat(
            table.gatewaysFor(
                new BusMessage.Typing("g", "alice", true, Set.of("alice", "dave"))))
        .containsExactly("gw1", "gw3");
    assertThat(
            table.gatewaysFor(
                new BusMessage.Receipt("g", "bob", ReceiptKind.RECEIPT_KIND_READ, 3, Set.of("bob"))))
        .containsExactly("gw2");
    assertThat(table.gatewaysFor(new BusMessage.UserDeactivated("dave"))).containsExactly("gw3");
  }

  @Test
  void presenceGoesToFollowersGatewaysOnly() {
    put("gw1", InterestKind.INTEREST_KIND_USER, "alice", 0);
    put("gw2", InterestKind.INTEREST_KIND_PRESENCE, "alice", 0);
    assertThat(
            table.gatewaysFor(new BusMessage.Presence("alice", PresenceStatus.PRESENCE_STATUS_ONLINE, 0)))
        .containsExactly("gw2");
  }

  @Test
  void channelEventsReachSubscribedGatewaysAndTheGatewaysOfJoiningUsersUntilTheyRegister() {
    put("gw1", InterestKind.INTEREST_KIND_CHANNEL, "ch", 0);
    put("gw2", InterestKind.INTEREST_KIND_USER, "bob", 0);
    Event join =
        Event.newBuilder().setConversationId("ch").setSeq(2)
            .setMemberJoined(MemberJoined.newBuilder().setUserId("bob")).build();
    assertThat(table.gatewaysFor(channel("ch", join))).containsExactly("gw1", "gw2");
    assertThat(table.gatewaysFor(channel("ch", posted("ch"))))
        .as("routed to bob's gateway before its channel record arrives")
        .containsExactly("gw1", "gw2");
    put("gw2", InterestKind.INTEREST_KIND_CHANNEL, "ch", 1);
    table.apply(key("gw2", InterestKind.INTEREST_KIND_CHANNEL, "ch"), false, 2);
    assertThat(table.gatewaysFor(channel("ch", posted("ch"))))
        .as("once the gateway's own record took over, its withdrawal ends the routing")
        .containsExactly("gw1");
    Event leave =
        Event.newBuilder().setConversationId("ch").setSeq(3)
            .setMemberLeft(MemberLeft.newBuilder().setUserId("bob")).build();
    assertThat(table.gatewaysFor(channel("ch", leave))).containsExactly("gw1", "gw2");
  }

  @Test
  void silentGatewaysAreFoundAndEvictionForgetsAllTheirInterest() {
    put("gw1", InterestKind.INTEREST_KIND_GATEWAY_ALIVE, "", 0);
    put("gw1", InterestKind.INTEREST_KIND_USER, "alice", 0);
    put("gw1", InterestKind.INTEREST_KIND_CHANNEL, "ch", 0);
    put("gw2", InterestKind.INTEREST_KIND_GATEWAY_ALIVE, "", 0);
    put("gw2", InterestKind.INTEREST_KIND_GATEWAY_ALIVE, "", 5_000);
    assertThat(table.silentGateways(1_000)).containsExactly("gw1");
    assertThat(table.evictGateway("gw1"))
        .containsExactlyInAnyOrder(
            key("gw1", InterestKind.INTEREST_KIND_USER, "alice"),
            key("gw1", InterestKind.INTEREST_KIND_CHANNEL, "ch"));
    assertThat(table.gatewaysFor(group("g", "alice"))).isEmpty();
    assertThat(table.gateways()).containsExactly("gw2");
  }

  @Test
  void enginesAreTheRegisteredOnesUntilTheirTombstone() {
    put("e2", InterestKind.INTEREST_KIND_ENGINE_ALIVE, "", 0);
    put("e1", InterestKind.INTEREST_KIND_ENGINE_ALIVE, "", 0);
    assertThat(table.engines()).containsExactly("e1", "e2");
    table.apply(key("e2", InterestKind.INTEREST_KIND_ENGINE_ALIVE, ""), false, 1);
    assertThat(table.engines()).containsExactly("e1");
    assertThat(table.silentEngines(10)).containsExactly("e1");
  }

  @Test
  void aGatewayTombstoneOfItsRegistrationRemovesEverything() {
    put("gw1", InterestKind.INTEREST_KIND_USER, "alice", 0);
    table.apply(key("gw1", InterestKind.INTEREST_KIND_GATEWAY_ALIVE, ""), false, 1);
    assertThat(table.gatewaysFor(group("g", "alice"))).isEmpty();
  }
}
