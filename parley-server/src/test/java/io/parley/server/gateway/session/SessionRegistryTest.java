package io.parley.server.gateway.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.parley.server.auth.VerifiedToken;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class SessionRegistryTest {
  private final SessionFixture fx = new SessionFixture();
  private final SessionRegistry registry = fx.registry;

  private Session authenticated(String user) {
    Session s = fx.open(new EmbeddedChannel());
    s.authenticateWithHeader(new VerifiedToken(user, Long.MAX_VALUE), "", false);
    return s;
  }

  @Test
  void aSessionIsInTheUserIndexBeforeItsChannelsHaveLoaded() {
    CompletableFuture<List<String>> load = new CompletableFuture<>();
    fx.channelLoads.put("alice", load);
    Session s = authenticated("alice");
    assertThat(registry.sessionsOf("alice")).containsExactly(s);
    assertThat(registry.channelSubscribers("ch1")).isEmpty();
    load.complete(List.of("ch1"));
    assertThat(registry.channelSubscribers("ch1")).containsExactly(s);
  }

  @Test
  void aLeaveSeenWhileChannelsLoadIsNotUndoneByTheLoad() {
    CompletableFuture<List<String>> load = new CompletableFuture<>();
    fx.channelLoads.put("alice", load);
    Session s = authenticated("alice");
    registry.channelLeft("ch1", "alice");
    load.complete(List.of("ch1", "ch2"));
    assertThat(registry.channelSubscribers("ch1")).isEmpty();
    assertThat(registry.channelSubscribers("ch2")).containsExactly(s);
  }

  @Test
  void joinAndLeaveCoverEverySessionOfTheUser() {
    Session a1 = authenticated("alice");
    Session a2 = authenticated("alice");
    Session b = authenticated("bob");
    registry.channelJoined("ch", "alice");
    assertThat(registry.channelSubscribers("ch")).containsExactlyInAnyOrder(a1, a2);
    registry.channelJoined("ch", "bob");
    registry.channelLeft("ch", "alice");
    assertThat(registry.channelSubscribers("ch")).containsExactly(b);
  }

  @Test
  void unregisterRemovesTheSessionFromEveryIndex() {
    fx.channelLoads.put("alice", CompletableFuture.completedFuture(List.of("ch")));
    Session s = authenticated("alice");
    registry.watchPresence(s, Set.of("bob"));
    assertThat(registry.presenceWatchers("bob")).containsExactly(s);
    registry.unregister(s);
    assertThat(registry.sessionsOf("alice")).isEmpty();
    assertThat(registry.channelSubscribers("ch")).isEmpty();
    assertThat(registry.presenceWatchers("bob")).isEmpty();
    assertThat(registry.size()).isZero();
    registry.unregister(s);
  }

  @Test
  void watchingPresenceReplacesThePreviousSet() {
    Session s = authenticated("alice");
    registry.watchPresence(s, Set.of("bob", "carol"));
    registry.watchPresence(s, Set.of("dave"));
    assertThat(registry.presenceWatchers("bob")).isEmpty();
    assertThat(registry.presenceWatchers("dave")).containsExactly(s);
  }

  @Test
  void removedSessionsAreNotSubscribedByLateJoinsOrLoads() {
    CompletableFuture<List<String>> load = new CompletableFuture<>();
    fx.channelLoads.put("alice", load);
    Session s = authenticated("alice");
    registry.unregister(s);
    registry.channelJoined("ch", "alice");
    registry.subscribeChannels(s, List.of("ch2"));
    assertThat(registry.channelSubscribers("ch")).isEmpty();
    assertThat(registry.channelSubscribers("ch2")).isEmpty();
  }
}
