package io.parley.server.gateway.session;

import static io.parley.server.gateway.session.SessionFixture.written;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SubscribePresence;
import io.parley.server.auth.VerifiedToken;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.live.InterestRegistry;
import io.parley.server.gateway.live.InterestRegistry.Interest;
import io.parley.server.gateway.live.InterestRegistry.Kind;
import io.parley.server.gateway.testing.TestConfigs;
import io.parley.server.gateway.ws.InboundFrame;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The session registry declares interest on the first session and withdraws it on the last, and
 * a session does not answer {@code Authenticated} (so its client cannot sync) before the engines
 * route its user and channels to this gateway.
 */
class SessionInterestTest {

  /** Records declarations; the test decides when each interest is in force. */
  private static final class ControlledInterests implements InterestRegistry {
    final List<String> log = new ArrayList<>();
    final Map<Interest, CompletableFuture<Void>> confirmations = new HashMap<>();

    @Override
    public synchronized void declare(Interest interest) {
      log.add("+" + interest.kind() + ":" + interest.id());
      confirmations.put(interest, new CompletableFuture<>());
    }

    @Override
    public synchronized void withdraw(Interest interest) {
      log.add("-" + interest.kind() + ":" + interest.id());
      confirmations.remove(interest);
    }

    @Override
    public synchronized CompletableFuture<Void> inForce(Collection<Interest> interests) {
      return CompletableFuture.allOf(
          interests.stream()
              .map(i -> confirmations.getOrDefault(i, CompletableFuture.completedFuture(null)))
              .toArray(CompletableFuture[]::new));
    }

    void confirm(Kind kind, String id) {
      confirmations.get(new Interest(kind, id)).complete(null);
    }
  }

  private final ControlledInterests interests = new ControlledInterests();
  private final SessionFixture fx =
      new SessionFixture(TestConfigs.builder().build(), interests);

  private Session open(EmbeddedChannel ch, String user) {
    Session s = fx.open(ch);
    s.authenticateWithHeader(new VerifiedToken(user, Long.MAX_VALUE), "", false);
    return s;
  }

  private static boolean authenticated(List<ServerFrame> frames) {
    return frames.stream().anyMatch(ServerFrame::hasAuthenticated);
  }

  @Test
  void firstSessionDeclaresAndLastSessionWithdrawsEachInterestOnce() {
    fx.channelLoads.put("alice", CompletableFuture.completedFuture(List.of("ch1")));
    EmbeddedChannel c1 = new EmbeddedChannel();
    EmbeddedChannel c2 = new EmbeddedChannel();
    Session a1 = open(c1, "alice");
    interests.confirm(Kind.USER, "alice");
    interests.confirm(Kind.CHANNEL, "ch1");
    Session a2 = open(c2, "alice");
    assertThat(interests.log).containsExactly("+USER:alice", "+CHANNEL:ch1");
    fx.registry.unregister(a1);
    assertThat(interests.log).hasSize(2);
    fx.registry.unregister(a2);
    assertThat(interests.log)
        .containsExactly("+USER:alice", "+CHANNEL:ch1", "-USER:alice", "-CHANNEL:ch1");
  }

  @Test
  void channelsLoadOnlyAfterTheUserIsRoutedHereAndAuthenticatedWaitsForTheChannels() {
    CompletableFuture<List<String>> load = new CompletableFuture<>();
    fx.channelLoads.put("alice", load);
    EmbeddedChannel ch = new EmbeddedChannel();
    open(ch, "alice");
    load.complete(List.of("ch1"));
    assertThat(fx.registry.channelSubscribers("ch1"))
        .as("the channel load's result is not applied before the user's routing is confirmed")
        .isEmpty();
    interests.confirm(Kind.USER, "alice");
    assertThat(fx.registry.channelSubscribers("ch1")).hasSize(1);
    assertThat(authenticated(written(ch))).isFalse();
    interests.confirm(Kind.CHANNEL, "ch1");
    assertThat(authenticated(written(ch))).isTrue();
  }

  @Test
  void unconfirmedRoutingFailsAuthenticationWithARetryableError() {
    EmbeddedChannel ch = new EmbeddedChannel();
    Session s = open(ch, "alice");
    interests
        .confirmations
        .get(new Interest(Kind.USER, "alice"))
        .completeExceptionally(new ParleyException(ErrorCode.UNAVAILABLE, "no engine"));
    List<ServerFrame> out = written(ch);
    assertThat(authenticated(out)).isFalse();
    assertThat(out).anyMatch(f -> f.hasError() && f.getError().getCode() == ErrorCode.UNAVAILABLE);
    assertThat(fx.registry.sessionsOf("alice")).doesNotContain(s);
  }

  @Test
  void presenceSubscriptionIsAnsweredOnceItsRoutingIsConfirmed() {
    EmbeddedChannel ch = new EmbeddedChannel();
    open(ch, "alice");
    interests.confirm(Kind.USER, "alice");
    written(ch);
    ch.writeInbound(
        new InboundFrame.Decoded(
            ClientFrame.newBuilder()
                .setRequestId(7)
                .setSubscribePresence(SubscribePresence.newBuilder().addUserIds("bob"))
                .build()));
    assertThat(written(ch)).noneMatch(f -> f.getRequestId() == 7);
    assertThat(interests.log).contains("+PRESENCE:bob");
    interests.confirm(Kind.PRESENCE, "bob");
    assertThat(written(ch)).anyMatch(f -> f.getRequestId() == 7 && f.hasAck());
    assertThat(fx.registry.presenceWatchers("bob")).hasSize(1);
    assertThat(Set.copyOf(interests.log)).doesNotContain("-PRESENCE:bob");
  }
}
