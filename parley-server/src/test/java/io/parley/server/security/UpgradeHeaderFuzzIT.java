package io.parley.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.server.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
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
 * Sends mutated WebSocket upgrade requests over a raw socket to a real server: random or mutated
 * header names and values (control bytes included), giant headers, bad {@code Sec-WebSocket-Key},
 * {@code -Version} and {@code -Protocol}, odd request lines. The server answers every one with 101
 * (the mutation left a valid upgrade) or a 4xx, or closes the connection, within the socket
 * timeout (no hang: a request waiting for a promised body is closed after {@code
 * timeouts.handshake}); never a 5xx. After each, the node still answers its liveness probe.
 */
class UpgradeHeaderFuzzIT {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static TestServer server;

  @BeforeContainer
  static void start() {
    // A request that promises a body it never sends (Content-Length without one) is closed after
    // timeouts.handshake: short here, so such samples cost little and stay below the read timeout.
    server = TestServer.start(Map.of("PARLEY_TIMEOUTS_HANDSHAKE", "2s"));
  }

  @AfterContainer
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** One header line, name and value as raw bytes (ISO-8859-1 round trips any byte). */
  record Header(String name, String value) {}

  static List<Header> validHeaders() {
    List<Header> h = new ArrayList<>();
    h.add(new Header("Host", "127.0.0.1"));
    h.add(new Header("Upgrade", "websocket"));
    h.add(new Header("Connection", "Upgrade"));
    h.add(new Header("Sec-WebSocket-Key", Base64.getEncoder().encodeToString(new byte[16])));
    h.add(new Header("Sec-WebSocket-Version", "13"));
    h.add(new Header("Sec-WebSocket-Protocol", "parley.v1.proto"));
    return h;
  }

  @Property(tries = 150)
  void mutatedUpgradeRequestsGet101Or4xxOrAClose(
      @ForAll("requestLines") String requestLine, @ForAll("mutations") List<Mutation> mutations) throws Exception {
    List<Header> headers = validHeaders();
    for (Mutation m : mutations) {
      m.apply(headers);
    }
    StringBuilder req = new StringBuilder(requestLine).append("\r\n");
    for (Header h : headers) {
      req.append(h.name()).append(": ").append(h.value()).append("\r\n");
    }
    req.append("\r\n");
    assertAnsweredBelow500(req.toString().getBytes(StandardCharsets.ISO_8859_1));
    assertServerUp();
  }

  @Example
  void giantAndNumerousHeadersAreRefused() throws Exception {
    List<Header> giant = validHeaders();
    giant.add(new Header("X-Giant", "a".repeat(64 * 1024)));
    assertThat(send(giant)).isIn(431, 400, -1);
    List<Header> many = validHeaders();
    for (int i = 0; i < 5000; i++) {
      many.add(new Header("X-H" + i, "v"));
    }
    assertThat(send(many)).isIn(431, 400, -1);
    List<Header> bigProtocol = validHeaders();
    bigProtocol.set(5, new Header("Sec-WebSocket-Protocol", "x,".repeat(7000) + "parley.v1.proto"));
    assertThat(send(bigProtocol)).isIn(101, 431, 400, -1);
    assertServerUp();
  }

  @Example
  void badKeyVersionAndProtocolAreRefused() throws Exception {
    for (String version : List.of("", "0", "7", "8", "12", "14", "13, 8", "99999999999999999999", "-1", "\u00ff")) {
      List<Header> h = validHeaders();
      h.set(4, new Header("Sec-WebSocket-Version", version));
      assertThat(send(h)).as("version %s", version).isEqualTo(426);
    }
    List<Header> noVersion = validHeaders();
    noVersion.remove(4);
    assertThat(send(noVersion)).as("no version (hixie-76)").isEqualTo(426);
    for (String protocol : List.of("", ",", "parley.v2", "PARLEY.V1.PROTO", "parley.v1.proto\u0000")) {
      List<Header> h = validHeaders();
      h.set(5, new Header("Sec-WebSocket-Protocol", protocol));
      assertThat(send(h)).as("protocol %s", protocol).isBetween(400, 499);
    }
    List<Header> noKey = validHeaders();
    noKey.remove(3);
    assertThat(send(noKey)).isBetween(400, 499);
    for (String key : List.of("", "abc", "!!!!!!!!!!!!!!!!!!!!!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a".repeat(4000))) {
      List<Header> h = validHeaders();
      h.set(3, new Header("Sec-WebSocket-Key", key));
      assertThat(send(h)).as("key %s", key.length() > 30 ? key.substring(0, 30) : key).isEqualTo(400);
    }
    assertServerUp();
  }

  @Example
  void expectContinueGetsAnInterimAnswerThenTheRealOne() throws Exception {
    List<Header> h = validHeaders();
    h.add(new Header("Expect", "100-continue"));
    assertThat(send(h)).isEqualTo(101);
    assertServerUp();
  }

  @Example
  void aNonHttp1RequestLineIsRefusedInHttp11() throws Exception {
    for (String version : List.of("HTTP/2.0", "HTTP/9.9", "HTTP/0.9")) {
      try (Socket s = new Socket("127.0.0.1", server.port())) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("GET /healthz " + version + "\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        String statusLine = readLine(s.getInputStream());
        assertThat(statusLine).as(version).isIn("HTTP/1.1 400 Bad Request", null);
      }
    }
    assertServerUp();
  }

  private int send(List<Header> headers) throws IOException {
    StringBuilder req = new StringBuilder("GET /v1/ws HTTP/1.1\r\n");
    for (Header h : headers) {
      req.append(h.name()).append(": ").append(h.value()).append("\r\n");
    }
    req.append("\r\n");
    return assertAnsweredBelow500(req.toString().getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Sends the request; returns the status, or -1 when the server closed without answering. */
  private static int assertAnsweredBelow500(byte[] request) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
      // A hang shows up as a SocketTimeoutException, which fails the property.
      s.setSoTimeout(10_000);
      try {
        s.getOutputStream().write(request);
        s.getOutputStream().flush();
      } catch (SocketException e) {
        return -1; // closed while we were still sending (e.g. headers too large)
      }
      String statusLine;
      try {
        statusLine = readLine(s.getInputStream());
      } catch (SocketException e) {
        return -1;
      }
      if (statusLine != null && statusLine.startsWith("HTTP/1.1 100 ")) {
        // "Expect: 100-continue": an interim answer, then the server waits for the promised body
        // until the final answer, or until timeouts.handshake closes the connection.
        String header;
        do {
          header = readLine(s.getInputStream());
        } while (header != null && !header.isEmpty());
        try {
          statusLine = readLine(s.getInputStream());
        } catch (SocketException e) {
          return -1;
        }
      }
      if (statusLine == null) {
        return -1;
      }
      // (HTTP/1.0 requests are answered in HTTP/1.0.)
      assertThat(statusLine).matches("HTTP/1\\.[01] \\d\\d\\d.*");
      int status = Integer.parseInt(statusLine.substring(9, 12));
      assertThat(status).as(statusLine).isLessThan(500);
      assertThat(status == 101 || (status >= 400 && status < 500)).as(statusLine).isTrue();
      return status;
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  private static void assertServerUp() throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/healthz"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  /** A change to the header list, described for jqwik's report of a failing sample. */
  record Mutation(String description, java.util.function.Consumer<List<Header>> change) {
    void apply(List<Header> headers) {
      change.accept(headers);
    }

    @Override
    public String toString() {
      return description.length() > 120 ? description.substring(0, 120) + "..." : description;
    }
  }

  @Provide
  Arbitrary<String> requestLines() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.just("GET /v1/ws HTTP/1.1")),
        net.jqwik.api.Tuple.of(
            1,
            Arbitraries.of("GET", "POST", "PUT", "get", "CONNECT", "OPTIONS", "G\u0000T", "")
                .map(m -> m + " /v1/ws HTTP/1.1")),
        net.jqwik.api.Tuple.of(
            1,
            Arbitraries.of("/v1/ws?device_id=" + "x".repeat(100), "/v1/ws?device_id=%00", "/v1/ws?sync_first=%zz",
                    "/v1/ws/../ws", "//v1/ws", "/v1/ws#frag", "*", "/" + "a".repeat(5000), "/v1/ws?%%%")
                .map(p -> "GET " + p + " HTTP/1.1")),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTTP/1.1x", "").map(v -> "GET /v1/ws " + v)));
  }

  @Provide
  Arbitrary<List<Mutation>> mutations() {
    Arbitrary<String> anyText = Arbitraries.strings().withCharRange('\u0000', '\u00ff').ofMaxLength(40);
    Arbitrary<String> token = Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(30);
    Arbitrary<Integer> index = Arbitraries.integers().between(0, 5);
    Arbitrary<String> interestingValue =
        Arbitraries.of(
            "", " ", "websocket", "Upgrade", "13", "8", "0", "-1", "99999999999999999999",
            "parley.v1.proto", "parley.v1.json", "parley.v1.proto, parley.v1.json", ",,,",
            "Bearer ", "Bearer x.y.z", "Bearer " + "A".repeat(3000), "dGhlIHNhbXBsZSBub25jZQ==", "====",
            "a".repeat(9000));
    Arbitrary<Mutation> replaceValue =
        Combinators.combine(index, Arbitraries.oneOf(anyText, interestingValue))
            .as((i, v) -> new Mutation("value[" + i + "]=" + v, h -> { if (i < h.size()) h.set(i, new Header(h.get(i).name(), v)); }));
    Arbitrary<Mutation> replaceName =
        Combinators.combine(index, Arbitraries.oneOf(token, anyText))
            .as((i, n) -> new Mutation("name[" + i + "]=" + n, h -> { if (i < h.size()) h.set(i, new Header(n, h.get(i).value())); }));
    Arbitrary<Mutation> drop = index.map(i -> new Mutation("drop[" + i + "]", h -> { if (i < h.size()) h.remove((int) i); }));
    Arbitrary<Mutation> duplicate =
        Combinators.combine(index, interestingValue)
            .as((i, v) -> new Mutation("duplicate[" + i + "]=" + v, h -> { if (i < h.size()) h.add(new Header(h.get(i).name(), v)); }));
    Arbitrary<Mutation> add =
        Combinators.combine(
                Arbitraries.oneOf(token, Arbitraries.of("Authorization", "Origin", "Sec-WebSocket-Extensions",
                    "Content-Length", "Transfer-Encoding", "Expect", "Cookie")),
                Arbitraries.oneOf(anyText, interestingValue, Arbitraries.of("chunked", "100-continue",
                    "permessage-deflate; client_max_window_bits", "5", "-5")))
            .as((n, v) -> new Mutation("add " + n + ": " + v, h -> h.add(new Header(n, v))));
    return Arbitraries.oneOf(replaceValue, replaceName, drop, duplicate, add).list().ofMinSize(0).ofMaxSize(3);
  }
}
