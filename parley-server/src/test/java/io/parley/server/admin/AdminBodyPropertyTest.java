package io.parley.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.parley.protocol.v1.Profile;
import io.parley.server.gateway.http.HttpReply;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Whatever a caller sends as the body of a route that reads one, the admin API answers with a JSON
 * reply below 500: garbage is a 4xx error with the error shape, never an escaping exception or an
 * internal error. Deep nesting, huge numbers and invalid UTF-8 are 400 {@code BAD_REQUEST}.
 */
class AdminBodyPropertyTest {
  private static final ObjectMapper PLAIN = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** Each route with a body, as "METHOD path", and the fields it accepts. */
  private static final Map<String, Set<String>> ROUTES =
      Map.of(
          "POST /v1/admin/users", Set.of("user_id", "display_name", "avatar_url"),
          "PATCH /v1/admin/users/alice", Set.of("display_name", "avatar_url"),
          "POST /v1/admin/users/alice/deactivate", Set.of(),
          "POST /v1/admin/users/alice/reactivate", Set.of(),
          "POST /v1/admin/users/alice/tokens", Set.of("ttl_seconds"),
          "POST /v1/admin/conversations",
              Set.of("kind", "creator", "members", "title", "description", "public"),
          "POST /v1/admin/conversations/grp_1/members", Set.of("user_ids", "as_user"),
          "POST /v1/admin/conversations/grp_1/messages",
              Set.of(
                  "as_user",
                  "client_msg_id",
                  "content_type",
                  "text",
                  "body_base64",
                  "reply_to_seq",
                  "mentions"));

  private HttpReply send(String route, byte[] body) {
    AdminHarness h = new AdminHarness();
    h.services.profiles.put("alice", Profile.newBuilder().setUserId("alice").build());
    int space = route.indexOf(' ');
    return h.call(
        route.substring(0, space), route.substring(space + 1), body, "Bearer " + AdminHarness.KEY);
  }

  private static void assertWellFormedReply(HttpReply reply) {
    assertThat(reply.status()).isBetween(200, 499);
    JsonNode json = AdminHarness.json(reply);
    if (reply.status() >= 400) {
      assertThat(json.get("code").isTextual()).isTrue();
      assertThat(json.get("message").isTextual()).isTrue();
    }
  }

  @Property(tries = 300)
  void arbitraryBytesGetAWellFormedReplyBelow500(
      @ForAll("routes") String route, @ForAll @Size(max = 300) byte[] body) {
    assertWellFormedReply(send(route, body));
  }

  @Property(tries = 300)
  void stringsThatAreNotJsonObjectsAreBadRequests(
      @ForAll("routes") String route, @ForAll("notObjects") String body) {
    Assume.that(!body.isBlank());
    Assume.that(!isJsonObject(body));
    HttpReply reply = send(route, body.getBytes(StandardCharsets.UTF_8));
    assertThat(reply.status()).isEqualTo(400);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("BAD_REQUEST");
  }

  @Property(tries = 400)
  void randomJsonObjectsGetAWellFormedReplyAndUnknownFieldsAreRejected(
      @ForAll("routes") String route, @ForAll("objects") ObjectNode body) {
    HttpReply reply = send(route, body.toString().getBytes(StandardCharsets.UTF_8));
    assertWellFormedReply(reply);
    boolean hasUnknownField = false;
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      hasUnknownField |= !ROUTES.get(route).contains(it.next());
    }
    if (hasUnknownField) {
      // The first problem found is reported; it may be another field's type.
      assertThat(reply.status()).isEqualTo(400);
      assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("BAD_REQUEST");
    }
  }

  @Property(tries = 60)
  void deeplyNestedBodiesAreBadRequests(
      @ForAll("routes") String route,
      @ForAll @IntRange(min = 1_001, max = 100_000) int depth,
      @ForAll("openers") String opener) {
    String body = "{\"user_id\":" + opener.repeat(depth);
    HttpReply reply = send(route, body.getBytes(StandardCharsets.UTF_8));
    assertThat(reply.status()).isEqualTo(400);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("BAD_REQUEST");
  }

  @Property(tries = 100)
  void hugeNumbersAreBadRequests(
      @ForAll("routes") String route,
      @ForAll("numberFields") String field,
      @ForAll("hugeNumbers") String number) {
    HttpReply reply = send(route, ("{\"" + field + "\":" + number + "}").getBytes(StandardCharsets.UTF_8));
    assertThat(reply.status()).isEqualTo(400);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("BAD_REQUEST");
  }

  @Property(tries = 100)
  void invalidUtf8InStringsIsABadRequest(
      @ForAll("routes") String route, @ForAll("invalidUtf8") byte[] bad) {
    byte[] prefix = "{\"display_name\":\"".getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[prefix.length + bad.length + 2];
    System.arraycopy(prefix, 0, body, 0, prefix.length);
    System.arraycopy(bad, 0, body, prefix.length, bad.length);
    body[body.length - 2] = '"';
    body[body.length - 1] = '}';
    HttpReply reply = send(route, body);
    assertThat(reply.status()).isEqualTo(400);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("BAD_REQUEST");
  }

  @Provide
  Arbitrary<String> openers() {
    return Arbitraries.of("[", "{\"a\":", "[{\"b\":");
  }

  @Provide
  Arbitrary<String> numberFields() {
    return Arbitraries.of("ttl_seconds", "reply_to_seq");
  }

  @Provide
  Arbitrary<String> hugeNumbers() {
    return Arbitraries.oneOf(
        Arbitraries.integers().between(20, 5_000).map(n -> "9".repeat(n)),
        Arbitraries.integers().between(309, 100_000).map(e -> "1e" + e),
        Arbitraries.integers().between(1_001, 20_000).map(n -> "1." + "1".repeat(n)),
        Arbitraries.of("-9223372036854775809", "18446744073709551616", "1e400", "-1e400", "NaN", "Infinity"));
  }

  @Provide
  Arbitrary<byte[]> invalidUtf8() {
    // Lone continuation bytes, truncated sequences, overlong encodings, surrogates, 0xFE/0xFF.
    return Arbitraries.of(
        new byte[] {(byte) 0x80},
        new byte[] {(byte) 0xc3},
        new byte[] {(byte) 0xe2, (byte) 0x82},
        new byte[] {(byte) 0xc0, (byte) 0xaf},
        new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
        new byte[] {(byte) 0xfe},
        new byte[] {(byte) 0xff, (byte) 0xff},
        new byte[] {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80});
  }

  @Provide
  Arbitrary<String> routes() {
    return Arbitraries.of(ROUTES.keySet().stream().sorted().toList());
  }

  @Provide
  Arbitrary<String> notObjects() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(60),
        Arbitraries.strings().withChars("{}[]\":,0123456789.-eEtrufalsn \\").ofMaxLength(40),
        scalars().map(JsonNode::toString),
        Arbitraries.strings().ofMaxLength(20).map(s -> "{\"" + s),
        Arbitraries.strings().ofMaxLength(20).map(s -> "[" + s + "]"));
  }

  @Provide
  Arbitrary<ObjectNode> objects() {
    Set<String> known =
        ROUTES.values().stream().flatMap(Set::stream).collect(java.util.stream.Collectors.toSet());
    Arbitrary<String> keys =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(6, Arbitraries.of(known.stream().sorted().toList())),
            net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(10)));
    Arbitrary<JsonNode> values =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(5, scalars()),
            net.jqwik.api.Tuple.of(
                2,
                scalars()
                    .list()
                    .ofMaxSize(4)
                    .map(
                        l -> {
                          ArrayNode a = NODES.arrayNode();
                          l.forEach(a::add);
                          return a;
                        })),
            net.jqwik.api.Tuple.of(
                1,
                Arbitraries.maps(Arbitraries.strings().ofMaxLength(5), scalars())
                    .ofMaxSize(3)
                    .map(m -> (JsonNode) object(m))));
    return Arbitraries.maps(keys, values).ofMaxSize(5).map(AdminBodyPropertyTest::object);
  }

  private static Arbitrary<JsonNode> scalars() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(20).map(NODES::textNode),
        Arbitraries.of("alice", "bob", "group", "direct", "channel", "AAH/", "")
            .map(NODES::textNode),
        Arbitraries.longs().map(NODES::numberNode),
        Arbitraries.longs().between(-2, 100).map(NODES::numberNode),
        Arbitraries.doubles().map(NODES::numberNode),
        Arbitraries.bigIntegers()
            .between(java.math.BigInteger.valueOf(Long.MAX_VALUE), java.math.BigInteger.TWO.pow(80))
            .map(NODES::numberNode),
        Arbitraries.of(true, false).map(NODES::booleanNode),
        Arbitraries.just(NODES.nullNode()));
  }

  private static ObjectNode object(Map<String, JsonNode> fields) {
    ObjectNode o = NODES.objectNode();
    fields.forEach(o::set);
    return o;
  }

  private static boolean isJsonObject(String s) {
    try {
      return PLAIN.readTree(s) instanceof ObjectNode;
    } catch (Exception e) {
      return false;
    }
  }
}
