package io.parley.client.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.parley.client.ConnectionState;
import io.parley.client.ParleyClient;
import io.parley.client.ParleyClientException;
import io.parley.client.Subprotocol;
import io.parley.protocol.v1.SendResult;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End-to-end chat scenarios of the SDK against a server, shared by the fake-server tests and the
 * integration tests against the real server. Each user connects through its own {@link TcpProxy},
 * so a test can cut one user's network without the server's cooperation.
 */
public abstract class ChatScenarios {
  protected static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir protected Path tmp;

  private final Map<String, TcpProxy> proxies = new HashMap<>();
  private final List<ParleyClient> clients = new ArrayList<>();

  /** The server's WebSocket endpoint. */
  protected abstract URI serverUri();

  /** A valid token for the user. */
  protected abstract String tokenFor(String userId);

  protected Subprotocol subprotocol() {
    return Subprotocol.PROTO;
  }

  @AfterEach
  void closeClientsAndProxies() throws IOException {
    for (ParleyClient c : clients) {
      c.closeAsync().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
    for (TcpProxy p : proxies.values()) {
      p.close();
    }
  }

  protected static String user(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Every proxy created so far (one per user). */
  protected java.util.Collection<TcpProxy> proxies() {
    return proxies.values();
  }

  protected TcpProxy proxy(String userId) {
    return proxies.computeIfAbsent(
        userId,
        u -> {
          try {
            return new TcpProxy(serverUri().getHost(), serverUri().getPort());
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /** A builder for the user's client: through its proxy, with fast backoff for tests. */
  protected ParleyClient.Builder clientBuilder(String userId, RecordingListener listener) {
    URI u = serverUri();
    URI viaProxy = URI.create("ws://127.0.0.1:" + proxy(userId).port() + u.getPath());
    return ParleyClient.builder()
        .uri(viaProxy)
        .subprotocol(subprotocol())
        .tokenProvider(reason -> CompletableFuture.completedFuture(tokenFor(userId)))
        .listener(listener)
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(300))
        .requestTimeout(Duration.ofSeconds(10));
  }

  protected ParleyClient start(ParleyClient.Builder builder) {
    ParleyClient c = builder.build();
    clients.add(c);
    return c;
  }

  protected ParleyClient connected(String userId, RecordingListener listener) {
    ParleyClient c = start(clientBuilder(userId, listener));
    c.connect().orTimeout(10, TimeUnit.SECONDS).join();
    await().atMost(WAIT).until(() -> listener.syncs.get() >= 1);
    return c;
  }

  protected static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  protected static <T> T done(CompletableFuture<T> f) {
    return f.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
  }

  private static List<String> numbered(String prefix, int n) {
    return IntStream.rangeClosed(1, n).mapToObj(i -> prefix + i).toList();
  }

  private static void assertGapless(List<Long> seqs) {
    for (int i = 1; i < seqs.size(); i++) {
      assertThat(seqs.get(i)).as("seq after %s", seqs.get(i - 1)).isEqualTo(seqs.get(i - 1) + 1);
    }
  }

  @Test
  void twoClientsChat() {
    String alice = user("alice");
    String bob = user("bob");
    RecordingListener aliceEvents = new RecordingListener();
    RecordingListener bobEvents = new RecordingListener();
    ParleyClient a = connected(alice, aliceEvents);
    ParleyClient b = connected(bob, bobEvents);

    String conv = done(a.openDirect(bob)).getConversation().getId();
    SendResult hi = done(a.send(conv, "text/plain", text("hi bob")));
    done(b.send(conv, "text/plain", text("hi alice")));

    await().atMost(WAIT).until(() -> bobEvents.messages(conv).size() == 2);
    await().atMost(WAIT).until(() -> aliceEvents.messages(conv).size() == 2);
    assertThat(bobEvents.messages(conv)).containsExactly("hi bob", "hi alice");
    assertThat(aliceEvents.messages(conv)).containsExactly("hi bob", "hi alice");
    assertThat(hi.getSeq()).isPositive();
    assertThat(hi.getDuplicate()).isFalse();
    assertThat(a.userId()).isEqualTo(alice);
    assertThat(b.state()).isEqualTo(ConnectionState.CONNECTED);
    assertThat(bobEvents.threads).allMatch(t -> t.startsWith("parley-client-callbacks-"));
  }

  @Test
  void aDisconnectedClientGetsEveryMissedMessageExactlyOnceInOrder() {
    String alice = user("alice");
    String bob = user("bob");
    RecordingListener bobEvents = new RecordingListener();
    ParleyClient a = connected(alice, new RecordingListener());
    ParleyClient b = connected(bob, bobEvents);
    String conv = done(a.openDirect(bob)).getConversation().getId();
    done(a.send(conv, "text/plain", text("before")));
    await().atMost(WAIT).until(() -> bobEvents.messages(conv).size() == 1);

    proxy(bob).refuse(true);
    await().atMost(WAIT).until(() -> b.state() == ConnectionState.RECONNECTING);
    List<CompletableFuture<SendResult>> sends = new ArrayList<>();
    for (String body : numbered("m", 20)) {
      sends.add(a.send(conv, "text/plain", text(body)));
    }
    sends.forEach(ChatScenarios::done);
    proxy(bob).refuse(false);

    List<String> expected = new ArrayList<>(List.of("before"));
    expected.addAll(numbered("m", 20));
    await().atMost(WAIT).until(() -> bobEvents.messages(conv).size() >= 21);
    await().atMost(WAIT).until(() -> bobEvents.syncs.get() >= 2);
    assertThat(bobEvents.messages(conv)).containsExactlyElementsOf(expected);
    assertGapless(bobEvents.seqs(conv));
    assertThat(b.state()).isEqualTo(ConnectionState.CONNECTED);
  }

  @Test
  void messagesSurviveRepeatedConnectionLossOnBothSides() {
    String alice = user("alice");
    String bob = user("bob");
    RecordingListener aliceEvents = new RecordingListener();
    RecordingListener bobEvents = new RecordingListener();
    ParleyClient a = connected(alice, aliceEvents);
    connected(bob, bobEvents);
    String conv = done(a.openDirect(bob)).getConversation().getId();

    List<CompletableFuture<SendResult>> sends = new ArrayList<>();
    List<String> bodies = numbered("n", 60);
    for (int i = 0; i < bodies.size(); i++) {
      sends.add(a.send(conv, "text/plain", text(bodies.get(i))));
      if (i % 10 == 5) {
        proxy(i % 20 == 5 ? alice : bob).severAll();
      }
    }
    List<Long> seqs = sends.stream().map(f -> done(f).getSeq()).toList();

    assertThat(seqs).isSorted().doesNotHaveDuplicates();
    await().atMost(WAIT).until(() -> bobEvents.messages(conv).size() >= 60);
    await().atMost(WAIT).until(() -> aliceEvents.messages(conv).size() >= 60);
    assertThat(bobEvents.messages(conv)).containsExactlyElementsOf(bodies);
    assertThat(aliceEvents.messages(conv)).containsExactlyElementsOf(bodies);
    assertGapless(bobEvents.seqs(conv));
    assertGapless(aliceEvents.seqs(conv));
    assertThat(aliceEvents.states).as("alice lost her connection").contains(ConnectionState.RECONNECTING);
    assertThat(bobEvents.states).as("bob lost his connection").contains(ConnectionState.RECONNECTING);
  }

  @Test
  void aMessageSentWhileOfflineIsDeliveredExactlyOnceAfterReconnect() {
    String alice = user("alice");
    String bob = user("bob");
    RecordingListener bobEvents = new RecordingListener();
    RecordingListener aliceEvents = new RecordingListener();
    ParleyClient a = connected(alice, aliceEvents);
    connected(bob, bobEvents);
    String conv = done(a.openDirect(bob)).getConversation().getId();

    proxy(alice).refuse(true);
    await().atMost(WAIT).until(() -> a.state() == ConnectionState.RECONNECTING);
    CompletableFuture<SendResult> offline = a.send(conv, "text/plain", text("sent offline"));
    await().atMost(WAIT).until(() -> a.pendingSendCount() == 1);
    assertThat(offline).isNotDone();
    proxy(alice).refuse(false);

    SendResult result = done(offline);
    await().atMost(WAIT).until(() -> bobEvents.messages(conv).size() == 1);
    await().atMost(WAIT).until(() -> aliceEvents.messages(conv).size() == 1);
    assertThat(bobEvents.messages(conv)).containsExactly("sent offline");
    assertThat(result.getConversationId()).isEqualTo(conv);
    assertThat(a.pendingSendCount()).isZero();
  }

  @Test
  void theOutboxSurvivesARestartWithAStateDirectory() {
    String alice = user("alice");
    String bob = user("bob");
    RecordingListener bobEvents = new RecordingListener();
    ParleyClient setup = connected(alice, new RecordingListener());
    connected(bob, bobEvents);
    String conv = done(setup.openDirect(bob)).getConversation().getId();
    done(setup.closeAsync());

    Path state = tmp.resolve("alice-state");
    proxy(alice).refuse(true);
    RecordingListener firstRun = new RecordingListener();
    ParleyClient offline = start(clientBuilder(alice, firstRun).stateDirectory(state));
    offline.connect();
    List<CompletableFuture<SendResult>> sends = new ArrayList<>();
    for (String body : numbered("queued", 3)) {
      sends.add(offline.send(conv, "text/plain", text(body)));
    }
    await().atMost(WAIT).until(() -> offline.pendingSendCount() == 3);
    done(offline.closeAsync());
    for (CompletableFuture<SendResult> f : sends) {
      assertThat(f).isCompletedExceptionally();
      assertThat(f.handle((r, e) -> e).join())
          .isInstanceOf(ParleyClientException.class)
          .hasMessageContaining("outbox");
    }
    assertThat(bobEvents.messages(conv)).isEmpty();

    proxy(alice).refuse(false);
    RecordingListener secondRun = new RecordingListener();
    ParleyClient restarted = start(clientBuilder(alice, secondRun).stateDirectory(state));
    restarted.connect();

    await().atMost(WAIT).until(() -> secondRun.sendsCompleted.size() == 3);
    await().atMost(WAIT).until(() -> bobEvents.messages(conv).size() == 3);
    assertThat(bobEvents.messages(conv)).containsExactlyElementsOf(numbered("queued", 3));
    assertThat(secondRun.sendResults).allSatisfy(r -> assertThat(r.getConversationId()).isEqualTo(conv));
    assertThat(restarted.pendingSendCount()).isZero();
  }

  @Test
  void aRestartedClientResumesFromItsStateWithoutRedeliveringEvents() {
    String alice = user("alice");
    String bob = user("bob");
    ParleyClient a = connected(alice, new RecordingListener());
    Path state = tmp.resolve("bob-state");
    RecordingListener firstRun = new RecordingListener();
    ParleyClient b = start(clientBuilder(bob, firstRun).stateDirectory(state));
    done(b.connect());
    String conv = done(a.openDirect(bob)).getConversation().getId();
    for (String body : numbered("a", 3)) {
      done(a.send(conv, "text/plain", text(body)));
    }
    await().atMost(WAIT).until(() -> firstRun.messages(conv).size() == 3);
    String deviceId = b.deviceId();
    done(b.closeAsync());

    for (String body : numbered("b", 3)) {
      done(a.send(conv, "text/plain", text(body)));
    }
    RecordingListener secondRun = new RecordingListener();
    ParleyClient again = start(clientBuilder(bob, secondRun).stateDirectory(state));
    done(again.connect());

    await().atMost(WAIT).until(() -> secondRun.syncs.get() >= 1);
    await().atMost(WAIT).until(() -> secondRun.messages(conv).size() >= 3);
    assertThat(secondRun.messages(conv)).containsExactlyElementsOf(numbered("b", 3));
    assertThat(again.deviceId()).isEqualTo(deviceId);
  }

  @Test
  void requestsMadeBeforeConnectingCompleteOnceConnected() {
    String alice = user("alice");
    String bob = user("bob");
    connected(bob, new RecordingListener());
    ParleyClient a = start(clientBuilder(alice, new RecordingListener()));

    CompletableFuture<String> conv =
        a.openDirect(bob).thenApply(r -> r.getConversation().getId());
    a.connect();

    assertThat(done(conv)).isNotEmpty();
  }

  /** Unwraps the typed error of a failed future. */
  protected static ParleyClientException failure(CompletableFuture<?> f) {
    try {
      f.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof ParleyClientException p) {
        return p;
      }
      throw e;
    }
    throw new AssertionError("expected the future to fail");
  }
}
