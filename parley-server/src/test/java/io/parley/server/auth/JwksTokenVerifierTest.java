package io.parley.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.ParleyException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The verifier against a JWKS endpoint served on loopback. */
class JwksTokenVerifierTest {
  private static final RSAKey RSA_A = TestKeys.rsa("rsa-a");
  private static final RSAKey RSA_B = TestKeys.rsa("rsa-b");
  private static final ECKey EC = TestKeys.ec("ec-1");
  private static final OctetKeyPair ED = TestKeys.ed25519("ed-1");

  private final AtomicReference<String> document = new AtomicReference<>();
  private final AtomicInteger status = new AtomicInteger(200);
  private final AtomicInteger fetches = new AtomicInteger();
  private final AtomicInteger failedFetches = new AtomicInteger();
  private final AtomicReference<CountDownLatch> gate = new AtomicReference<>();
  private HttpServer server;
  private String url;
  private JwtTokenVerifier verifier;

  @BeforeEach
  void startJwksServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/jwks.json", this::serve);
    server.start();
    url = "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json";
    publish(RSA_A, EC, ED);
  }

  @AfterEach
  void stop() {
    CountDownLatch g = gate.get();
    if (g != null) {
      g.countDown();
    }
    if (verifier != null) {
      verifier.close();
    }
    server.stop(0);
  }

  private void serve(HttpExchange exchange) throws IOException {
    fetches.incrementAndGet();
    CountDownLatch g = gate.get();
    if (g != null) {
      try {
        g.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    int code = status.get();
    byte[] body =
        code == 200 ? document.get().getBytes(StandardCharsets.UTF_8) : "down".getBytes();
    if (code != 200) {
      failedFetches.incrementAndGet();
    }
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(code, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  private void publish(JWK... keys) {
    document.set(new JWKSet(List.of(keys)).toString());
  }

  private JwtTokenVerifier verifier(JwksOptions options) {
    verifier =
        new JwtTokenVerifier(
            TestKeys.auth(null, List.of(), List.of(url), null, null),
            Clock.systemUTC(),
            options,
            8 * 1024);
    return verifier;
  }

  /** Long cache, but refetch allowed at once: rotation is visible immediately. */
  private static JwksOptions fastRefetch() {
    return new JwksOptions(
        Duration.ofMinutes(5),
        Duration.ofSeconds(30),
        Duration.ofSeconds(5),
        Duration.ofMillis(1),
        Duration.ofHours(1),
        Duration.ofSeconds(2),
        64 * 1024);
  }

  private static JWTClaimsSet claims() {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .subject("alice")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(600)))
        .build();
  }

  private static String rs256(RSAKey key) throws Exception {
    return TestKeys.sign(new RSASSASigner(key), JWSAlgorithm.RS256, key.getKeyID(), claims());
  }

  @Test
  void acceptsTokensSignedByEveryKeyTypeInTheJwks() throws Exception {
    JwtTokenVerifier v = verifier(fastRefetch());
    String rs = rs256(RSA_A);
    String es = TestKeys.sign(new ECDSASigner(EC), JWSAlgorithm.ES256, "ec-1", claims());
    String ed = TestKeys.sign(new Ed25519Signer(ED), JWSAlgorithm.EdDSA, "ed-1", claims());
    for (String token : List.of(rs, es, ed)) {
      assertThat(v.verify(token).get(10, TimeUnit.SECONDS).userId()).isEqualTo("alice");
    }
    assertThat(fetches.get()).isEqualTo(1);
  }

  @Test
  void acceptsNewKeyAfterRotation() throws Exception {
    JwtTokenVerifier v = verifier(fastRefetch());
    assertThat(v.verify(rs256(RSA_A)).get(10, TimeUnit.SECONDS).userId()).isEqualTo("alice");

    publish(RSA_B);
    assertThat(v.verify(rs256(RSA_B)).get(10, TimeUnit.SECONDS).userId()).isEqualTo("alice");
    assertThat(fetches.get()).isEqualTo(2);
  }

  @Test
  void rejectsUnknownKeyIdAfterRefetching() throws Exception {
    JwtTokenVerifier v = verifier(fastRefetch());
    RSAKey stranger = TestKeys.rsa("ghost");
    ParleyException e = JwtTokenVerifierTest.failure(v, rs256(stranger));
    assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(e.getMessage()).contains("unknown signing key id 'ghost'");
  }

  @Test
  void rejectsKeyIdOfTheRightKeyButWrongSignature() throws Exception {
    JwtTokenVerifier v = verifier(fastRefetch());
    RSAKey impostor = new RSAKey.Builder(TestKeys.rsa("x")).keyID("rsa-a").build();
    ParleyException e = JwtTokenVerifierTest.failure(v, rs256(impostor));
    assertThat(e.getMessage()).isEqualTo("invalid token signature");
  }

  @Test
  void cachedKeysKeepWorkingWhileTheEndpointIsStopped() throws Exception {
    JwtTokenVerifier v = verifier(JwksOptions.forCacheTtl(Duration.ofMinutes(5)));
    String token = rs256(RSA_A);
    assertThat(v.verify(token).get(10, TimeUnit.SECONDS).userId()).isEqualTo("alice");
    server.stop(0);
    assertThat(v.verify(token).get(10, TimeUnit.SECONDS).userId()).isEqualTo("alice");
  }

  @Test
  void expiredCacheFallsBackToTheLastGoodKeysWhenTheEndpointFails() throws Exception {
    JwtTokenVerifier v =
        verifier(
            new JwksOptions(
                Duration.ofMillis(200),
                Duration.ZERO,
                Duration.ofMillis(100),
                Duration.ofMillis(1),
                Duration.ofHours(1),
                Duration.ofSeconds(2),
                64 * 1024));
    String token = rs256(RSA_A);
    assertThat(v.verify(token).get(10, TimeUnit.SECONDS).userId()).isEqualTo("alice");
    status.set(503);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(v.verify(token).get(10, TimeUnit.SECONDS).userId()).isEqualTo("alice");
              assertThat(failedFetches.get()).isPositive();
            });
  }

  @Test
  void endpointThatNeverAnsweredGivesUnavailable() throws Exception {
    server.stop(0);
    JwtTokenVerifier v = verifier(fastRefetch());
    ParleyException e = JwtTokenVerifierTest.failure(v, rs256(RSA_A));
    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(e.retryAfterMs()).isPositive();
  }

  @Test
  void jwksFetchDoesNotRunOnTheCallersThread() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    gate.set(release);
    JwtTokenVerifier v =
        verifier(
            new JwksOptions(
                Duration.ofMinutes(5),
                Duration.ofSeconds(30),
                Duration.ofSeconds(30),
                Duration.ofMillis(1),
                Duration.ofHours(1),
                Duration.ofSeconds(30),
                64 * 1024));
    CompletableFuture<VerifiedToken> pending = v.verify(rs256(RSA_A));
    // verify() returned while the JWKS endpoint is still holding the fetch
    await().atMost(Duration.ofSeconds(10)).until(() -> fetches.get() == 1);
    assertThat(pending).isNotDone();
    release.countDown();
    assertThat(pending.get(10, TimeUnit.SECONDS).userId()).isEqualTo("alice");
  }
}
