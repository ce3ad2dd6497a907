package io.parley.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.gateway.testing.RawWsClient;
import io.parley.server.gateway.ws.CloseCodes;
import io.parley.server.gateway.ws.FrameSeeds;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes a real running server through raw WebSocket connections: random bytes, truncated and
 * bit-mutated valid frames (both subprotocols) and hostile JSON, sent by an outsider ("mallory",
 * authenticated or not) whose seed frames all target a real group she is not a member of. For
 * every input: the connection answers with typed errors (never {@code INTERNAL} or unspecified)
 * and then a Pong, or is closed cleanly (never with 1011); a well-behaved member's connection keeps
 * working; and the group's log is unchanged (its last seq, read by the member, does not move).
 */
class WebSocketFuzzIT {
  private static final long PROBE_ID = 0x7eadbeefL;

  private static TestServer server;
  private static WsTestClient alice;
  private static String groupId;
  private static long lastSeq;
  private static List<ClientFrame> seeds;

  @BeforeContainer
  static void start() {
    server = TestServer.start();
    alice = WsTestClient.authenticated(server.port(), server.token("alice"), "a1");
    WsTestClient.authenticated(server.port(), server.token("bob"), "b1").close();
    ServerFrame created = alice.call(b -> b.setCreateGroup(CreateGroup.newBuilder().addMemberIds("bob")));
    groupId = created.getConversation().getConversation().getId();
    ServerFrame sent =
        alice.call(
            b ->
                b.setSendMessage(
                    SendMessage.newBuilder()
                        .setConversationId(groupId)
                        .setClientMsgId("m1")
                        .setContentType("text/plain")
                        .setBody(ByteString.copyFromUtf8("hi"))));
    assertThat(sent.hasSendResult()).as("%s", sent).isTrue();
    lastSeq = currentLastSeq();
    seeds = FrameSeeds.all(groupId, "alice");
  }

  @AfterContainer
  static void stop() {
    if (alice != null) {
      alice.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private static long currentLastSeq() {
    ServerFrame r = alice.call(b -> b.setGetConversation(GetConversation.newBuilder().setConversationId(groupId)));
    assertThat(r.hasConversation()).as("member still served: %s", r).isTrue();
    return r.getConversation().getConversation().getLastSeq();
  }

  @Property(tries = 70)
  void mutatedBinaryFramesNeitherCrashNorWrite(@ForAll("protoPayloads") byte[] payload, @ForAll boolean authenticated)
      throws Exception {
    probe(false, payload, authenticated);
  }

  @Property(tries = 50)
  void hostileTextFramesNeitherCrashNorWrite(@ForAll("jsonPayloads") byte[] payload, @ForAll boolean authenticated)
      throws Exception {
    probe(true, payload, authenticated);
  }

  @Example
  void deeplyNestedJsonAndInvalidUtf8AreAnsweredOrClosedCleanly() throws Exception {
    probe(true, "[".repeat(100_000).getBytes(StandardCharsets.UTF_8), true);
    probe(true, "{\"requestId\":1,\"ping\":".repeat(20_000).getBytes(StandardCharsets.UTF_8), true);
    Outcome invalidUtf8 = probe(true, new byte[] {'{', '"', (byte) 0xc3, (byte) 0x28, '"', ':', '1', '}'}, true);
    assertThat(invalidUtf8.closeCode()).as("invalid UTF-8 in a text frame").isEqualTo(1007);
    probe(true, ("{\"requestId\":1" + "0".repeat(60_000) + "}").getBytes(StandardCharsets.UTF_8), true);
  }

  /** What became of one probe connection: the Ping after the input answered, or a close code. */
  private record Outcome(boolean answeredPing, int closeCode, List<ServerFrame> frames) {}

  private Outcome probe(boolean json, byte[] payload, boolean authenticated) throws Exception {
    Map<String, String> headers =
        authenticated ? Map.of("Authorization", "Bearer " + server.token("mallory")) : Map.of();
    Outcome o;
    try (RawWsClient c =
        RawWsClient.open(server.port(), List.of(json ? WsTestClient.JSON : WsTestClient.PROTO), 0, headers)) {
      assertThat(c.status).isEqualTo(101);
      c.sendFrame(json ? 0x1 : 0x2, payload);
      ClientFrame ping = ClientFrame.newBuilder().setRequestId(PROBE_ID).setPing(Ping.newBuilder().setClientTimeMs(7)).build();
      c.sendFrame(json ? 0x1 : 0x2, json ? FrameSeeds.json(ping) : ping.toByteArray());
      o = readUntilPongOrClose(c, json);
    }
    for (ServerFrame f : o.frames()) {
      if (f.hasError()) {
        assertThat(f.getError().getCode())
            .as("typed error for %s", f)
            .isNotIn(ErrorCode.ERROR_CODE_UNSPECIFIED, ErrorCode.INTERNAL, ErrorCode.UNRECOGNIZED);
        assertThat(f.getError().getMessage()).isNotBlank();
      }
    }
    if (o.answeredPing()) {
      ServerFrame answer = o.frames().get(o.frames().size() - 1);
      if (authenticated) {
        assertThat(answer.hasPong()).as("the connection still serves: %s", answer).isTrue();
      } else {
        assertThat(answer.getError().getCode()).as("%s", answer).isEqualTo(ErrorCode.UNAUTHENTICATED);
      }
    }
    assertThat(o.closeCode()).isNotEqualTo(CloseCodes.INTERNAL_ERROR);
    assertThat(currentLastSeq()).as("the group's log is unchanged").isEqualTo(lastSeq);
    return o;
  }

  private static Outcome readUntilPongOrClose(RawWsClient c, boolean json) throws IOException {
    List<ServerFrame> frames = new ArrayList<>();
    try {
      while (true) {
        RawWsClient.Frame f = c.readFrame();
        switch (f.opcode()) {
          case 0x1, 0x2 -> {
            ServerFrame sf = parse(f, json);
            frames.add(sf);
            if (sf.getRequestId() == PROBE_ID) {
              return new Outcome(true, 0, frames);
            }
          }
          case 0x8 -> {
            int code = f.payload().length >= 2 ? ((f.payload()[0] & 0xff) << 8) | (f.payload()[1] & 0xff) : 1005;
            return new Outcome(false, code, frames);
          }
          default -> {} // ping/pong control frames
        }
      }
    } catch (EOFException | SocketException e) {
      return new Outcome(false, 1006, frames);
    }
  }

  private static ServerFrame parse(RawWsClient.Frame f, boolean json) throws InvalidProtocolBufferException {
    assertThat(f.opcode()).as("frame type matches the subprotocol").isEqualTo(json ? 0x1 : 0x2);
    if (!json) {
      return ServerFrame.parseFrom(f.payload());
    }
    ServerFrame.Builder b = ServerFrame.newBuilder();
    JsonFormat.parser().merge(new String(f.payload(), StandardCharsets.UTF_8), b);
    return b.build();
  }

  @Provide
  Arbitrary<byte[]> protoPayloads() {
    Arbitrary<byte[]> seed = Arbitraries.integers().between(0, 29).map(i -> seeds.get(i).toByteArray());
    return mutations(seed);
  }

  @Provide
  Arbitrary<byte[]> jsonPayloads() {
    Arbitrary<byte[]> seed = Arbitraries.integers().between(0, 29).map(i -> FrameSeeds.json(seeds.get(i)));
    Arbitrary<byte[]> nested =
        Arbitraries.integers()
            .between(1, 3000)
            .flatMap(n -> Arbitraries.of("[", "{\"a\":", "{\"requestId\":1,\"sendMessage\":").map(s -> s.repeat(n)))
            .map(s -> s.getBytes(StandardCharsets.UTF_8));
    return Arbitraries.oneOf(mutations(seed), nested);
  }

  private static Arbitrary<byte[]> mutations(Arbitrary<byte[]> seed) {
    Arbitrary<byte[]> truncated =
        Combinators.combine(seed, Arbitraries.integers().between(0, 300)).as(FrameSeeds::truncate);
    Arbitrary<byte[]> flipped =
        Combinators.combine(seed, Arbitraries.integers().between(0, 100_000).list().ofMinSize(1).ofMaxSize(6))
            .as(FrameSeeds::flipBits);
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(1, seed),
        net.jqwik.api.Tuple.of(3, truncated),
        net.jqwik.api.Tuple.of(4, flipped),
        net.jqwik.api.Tuple.of(2, random));
  }
}
