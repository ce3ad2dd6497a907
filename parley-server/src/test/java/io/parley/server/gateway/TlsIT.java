package io.parley.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.gateway.http.SecurityHeadersHandler;
import io.parley.server.gateway.tls.TestCertificates;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real server with TLS on, a certificate chain from a test CA: https and wss clients that trust
 * only that CA get through, plaintext does not.
 */
class TlsIT {
  private static TestCertificates certs;
  private static Path dir;
  private static TestServer server;
  private static HttpClient https;

  @BeforeAll
  static void start() throws IOException {
    certs = TestCertificates.generate();
    dir = Files.createTempDirectory("parley-tls-it");
    TestCertificates.Files files = certs.written(dir);
    server =
        TestServer.start(
            Map.of(
                "PARLEY_TLS_ENABLED", "true",
                "PARLEY_TLS_CERT_PEM", files.chain().toString(),
                "PARLEY_TLS_KEY_PEM", files.key().toString()));
    https =
        HttpClient.newBuilder()
            .sslContext(certs.clientContext())
            .connectTimeout(Duration.ofSeconds(10))
            .build();
  }

  @AfterAll
  static void stop() throws IOException {
    if (server != null) {
      server.close();
    }
    for (String f : new String[] {"chain.pem", "key.pem"}) {
      Files.deleteIfExists(dir.resolve(f));
    }
    Files.deleteIfExists(dir);
  }

  private static URI uri(String scheme, String path) {
    return URI.create(scheme + "://127.0.0.1:" + server.port() + path);
  }

  @Test
  void httpsReadinessAnswersOverModernTlsWithHsts() throws Exception {
    HttpResponse<String> res =
        https.send(
            HttpRequest.newBuilder(uri("https", "/readyz")).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).contains("\"status\":\"ready\"");
    assertThat(res.headers().firstValue("strict-transport-security"))
        .contains(SecurityHeadersHandler.HSTS);
    assertThat(res.headers().firstValue("x-content-type-options")).contains("nosniff");
    assertThat(res.sslSession()).isPresent();
    assertThat(res.sslSession().get().getProtocol()).isIn("TLSv1.3", "TLSv1.2");
    // the client offered h2 and http/1.1; the gateway speaks HTTP/1.1 only
    assertThat(res.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
  }

  @Test
  void alpnSelectsHttp11AndTls12IsAccepted() throws Exception {
    SSLContext ctx = certs.clientContext();
    try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
      socket.setSoTimeout(10_000);
      SSLParameters params = socket.getSSLParameters();
      params.setProtocols(new String[] {"TLSv1.2"});
      params.setApplicationProtocols(new String[] {"h2", "http/1.1"});
      params.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(params);
      socket.startHandshake();
      assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.2");
      assertThat(socket.getApplicationProtocol()).isEqualTo("http/1.1");
      assertThat(socket.getSession().getPeerCertificates()[0]).isEqualTo(certs.leaf());
    }
  }

  @Test
  void wssClientAuthenticatesAndSendsAMessage() {
    String alice = "alice-" + UUID.randomUUID().toString().substring(0, 8);
    String bob = "bob-" + UUID.randomUUID().toString().substring(0, 8);
    URI ws = uri("wss", "/v1/ws");
    try (WsTestClient b =
            WsTestClient.authenticate(
                WsTestClient.connect(https, ws, WsTestClient.PROTO, Map.of()), server.token(bob), "d1");
        WsTestClient a =
            WsTestClient.authenticate(
                WsTestClient.connect(https, ws, WsTestClient.PROTO, Map.of()),
                server.token(alice),
                "d1")) {
      ServerFrame opened = a.call(f -> f.setOpenDirect(OpenDirect.newBuilder().setUserId(bob)));
      assertThat(opened.hasConversation()).as("%s", opened).isTrue();
      ServerFrame ack =
          a.call(
              f ->
                  f.setSendMessage(
                      SendMessage.newBuilder()
                          .setConversationId(opened.getConversation().getConversation().getId())
                          .setClientMsgId("m1")
                          .setContentType("text/plain")
                          .setBody(ByteString.copyFromUtf8("over TLS"))));
      assertThat(ack.hasSendResult()).as("%s", ack).isTrue();
      assertThat(ack.getSendResult().getSeq()).isPositive();
    }
  }

  @Test
  void plaintextHttpOnTheTlsPortGetsNoHttpAnswer() throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] received = in.readNBytes(4096); // returns once the server closes the connection
      assertThat(new String(received, StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/1.1");
    }
  }

  @Test
  void plaintextClientsFailAgainstTheTlsPort() {
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    assertThatThrownBy(
            () ->
                plain.send(
                    HttpRequest.newBuilder(uri("http", "/healthz"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(
            () -> WsTestClient.connect(plain, uri("ws", "/v1/ws"), WsTestClient.PROTO, Map.of()))
        .hasRootCauseInstanceOf(IOException.class);
  }

  @Test
  void clientsThatDoNotTrustTheChainAreRefused() {
    HttpClient untrusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    assertThatThrownBy(
            () ->
                untrusting.send(
                    HttpRequest.newBuilder(uri("https", "/healthz"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
  }
}
