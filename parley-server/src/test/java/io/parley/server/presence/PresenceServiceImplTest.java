package io.parley.server.presence;

import static io.parley.server.messaging.EngineFixture.await;
import static io.parley.server.messaging.EngineFixture.code;
import static io.parley.server.messaging.EngineFixture.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.PresenceNotice;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.SendTyping;
import io.parley.server.bus.BusMessage;
import io.parley.server.bus.local.LocalEventBus;
import io.parley.server.messaging.EngineFixture;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PresenceServiceImplTest {
  @TempDir Path dir;
  EngineFixture fx;
  PresenceService presence;

  @BeforeEach
  void setUp() {
    fx = new EngineFixture(dir);
    fx.users("alice", "bob", "carol");
    presence = fx.engine().presence();
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  private List<BusMessage.Presence> presenceNotices() {
    return fx.published.stream()
        .filter(m -> m instanceof BusMessage.Presence)
        .map(m -> (BusMessage.Presence) m)
        .toList();
  }

  /** Connectivity as a cluster's routing declarations report it (set by the test). */
  private static final class Declarations implements ConnectedUsers {
    private final Set<String> connected = ConcurrentHashMap.newKeySet();
    private volatile BiConsumer<String, Boolean> listener;

    @Override
    public boolean isConnected(String userId) {
      return connected.contains(userId);
    }

    @Override
    public void setListener(BiConsumer<String, Boolean> listener) {
      this.listener = listener;
    }

    void set(String userId, boolean on) {
      if (on ? connected.add(userId) : connected.remove(userId)) {
        listener.accept(userId, on);
      }
    }
  }

  /**
   * In a cluster the engine's own connect counts mean nothing (a standby that took over counted
   * nothing; a crashed gateway never reports its disconnects): the status follows the gateways'
   * declarations, and a disconnect the engine never saw a connect for changes nothing.
   */
  @Test
  void inAClusterTheStatusFollowsTheGatewaysDeclarations() {
    Declarations declarations = new Declarations();
    List<BusMessage> published = new CopyOnWriteArrayList<>();
    LocalEventBus bus = new LocalEventBus();
    bus.subscribe(published::add);
    PresenceServiceImpl cluster =
        new PresenceServiceImpl(
            fx.store(), bus, Clock.systemUTC(), Runnable::run, 100, declarations, u -> true);
    cluster.follow();

    // Connected on some gateway although this engine never saw the connect (it took over later).
    declarations.set("alice", true);
    assertThat(cluster.current(List.of("alice")).join().get(0).getStatus())
        .isEqualTo(PresenceStatus.PRESENCE_STATUS_ONLINE);
    cluster.deviceDisconnected("alice", "phone");
    assertThat(cluster.current(List.of("alice")).join().get(0).getStatus())
        .isEqualTo(PresenceStatus.PRESENCE_STATUS_ONLINE);
    // A user declared before this engine started reads as online without any event.
    declarations.connected.add("bob");
    assertThat(cluster.current(List.of("bob")).join().get(0).getStatus())
        .isEqualTo(PresenceStatus.PRESENCE_STATUS_ONLINE);

    cluster.setStatus(user("alice"), PresenceStatus.PRESENCE_STATUS_AWAY).join();
    declarations.set("alice", false); // her gateway crashed and was evicted
    declarations.set("alice", true);

    assertThat(published)
        .filteredOn(m -> m instanceof BusMessage.Presence)
        .extracting(m -> ((BusMessage.Presence) m).status())
        .containsExactly(
            PresenceStatus.PRESENCE_STATUS_ONLINE,
            PresenceStatus.PRESENCE_STATUS_AWAY,
            PresenceStatus.PRESENCE_STATUS_OFFLINE,
            PresenceStatus.PRESENCE_STATUS_ONLINE);
  }

  @Test
  void inAClusterOnlyTheOwnerOfAUsersShardAnnouncesThem() {
    Declarations declarations = new Declarations();
    List<BusMessage> published = new CopyOnWriteArrayList<>();
    LocalEventBus bus = new LocalEventBus();
    bus.subscribe(published::add);
    // This engine owns alice's shard, not bob's.
    PresenceServiceImpl engine =
        new PresenceServiceImpl(
            fx.store(), bus, Clock.systemUTC(), Runnable::run, 100, declarations,
            u -> u.equals("alice"));
    engine.follow();

    declarations.set("alice", true);
    declarations.set("bob", true);
    declarations.set("bob", false);

    assertThat(published)
        .filteredOn(m -> m instanceof BusMessage.Presence)
        .extracting(m -> ((BusMessage.Presence) m).userId())
        .containsExactly("alice");
    // It still knows everyone's connectivity, should it be asked.
    assertThat(engine.current(List.of("bob")).join().get(0).getStatus())
        .isEqualTo(PresenceStatus.PRESENCE_STATUS_OFFLINE);
  }

  @Test
  void onlineWhileAnySessionIsConnected() {
    presence.deviceConnected("alice", "phone");
    presence.deviceConnected("alice", "laptop");
    presence.deviceConnected("alice", "laptop");
    presence.deviceDisconnected("alice", "laptop");
    presence.deviceDisconnected("alice", "phone");
    assertThat(presence.current(List.of("alice")).join().get(0).getStatus()).isEqualTo(PresenceStatus.PRESENCE_STATUS_ONLINE);
    presence.deviceDisconnected("alice", "laptop");
    presence.deviceDisconnected("alice", "laptop");

    PresenceNotice now = presence.current(List.of("alice", "bob")).join().get(0);
    assertThat(now.getStatus()).isEqualTo(PresenceStatus.PRESENCE_STATUS_OFFLINE);
    assertThat(now.getLastSeenMs()).isPositive();
    assertThat(presence.current(List.of("bob")).join().get(0).getStatus()).isEqualTo(PresenceStatus.PRESENCE_STATUS_OFFLINE);
    assertThat(presenceNotices()).extracting(BusMessage.Presence::status)
        .containsExactly(PresenceStatus.PRESENCE_STATUS_ONLINE, PresenceStatus.PRESENCE_STATUS_OFFLINE);
  }

  @Test
  void chosenStatusAppliesWhileConnectedAndResetsOnLastDisconnect() {
    presence.deviceConnected("alice", "phone");
    await(presence.setStatus(user("alice"), PresenceStatus.PRESENCE_STATUS_AWAY));
    assertThat(presence.current(List.of("alice")).join().get(0).getStatus()).isEqualTo(PresenceStatus.PRESENCE_STATUS_AWAY);
    presence.deviceDisconnected("alice", "phone");
    presence.deviceConnected("alice", "phone");
    assertThat(presence.current(List.of("alice")).join().get(0).getStatus()).isEqualTo(PresenceStatus.PRESENCE_STATUS_ONLINE);
    assertThat(presenceNotices()).extracting(BusMessage.Presence::status).containsExactly(
        PresenceStatus.PRESENCE_STATUS_ONLINE, PresenceStatus.PRESENCE_STATUS_AWAY,
        PresenceStatus.PRESENCE_STATUS_OFFLINE, PresenceStatus.PRESENCE_STATUS_ONLINE);
    assertThat(code(presence.setStatus(user("alice"), PresenceStatus.PRESENCE_STATUS_UNSPECIFIED)))
        .isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void typingGoesToOtherMembersAndNeverToTheLog() {
    String g = await(fx.engine().conversations().createGroup(user("alice"),
        CreateGroup.newBuilder().addMemberIds("bob").build())).getConversation().getId();
    long before = fx.store().conversation(g).orElseThrow().lastSeq();
    await(presence.typing(user("alice"), SendTyping.newBuilder().setConversationId(g).setTyping(true).build()));
    BusMessage.Typing t = (BusMessage.Typing) fx.published.get(fx.published.size() - 1);
    assertThat(t.userId()).isEqualTo("alice");
    assertThat(t.typing()).isTrue();
    assertThat(t.recipients()).containsExactly("bob");
    assertThat(fx.store().conversation(g).orElseThrow().lastSeq()).isEqualTo(before);

    var err = EngineFixture.failure(presence.typing(user("carol"), SendTyping.newBuilder().setConversationId(g).build()));
    var missing = EngineFixture.failure(presence.typing(user("carol"), SendTyping.newBuilder().setConversationId("g_none").build()));
    assertThat(err.code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(err.getMessage()).isEqualTo(missing.getMessage());

    String ch = await(fx.engine().conversations().createChannel(user("alice"), CreateChannel.getDefaultInstance()))
        .getConversation().getId();
    int published = fx.published.size();
    await(presence.typing(user("alice"), SendTyping.newBuilder().setConversationId(ch).setTyping(true).build()));
    assertThat(fx.published).hasSize(published);
  }
}
