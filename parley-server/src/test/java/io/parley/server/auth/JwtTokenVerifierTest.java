package io.parley.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.ParleyException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class JwtTokenVerifierTest {
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final String ISS = "https://id.example";
  private static final String AUD = "parley";

  private static final RSAKey RSA = TestKeys.rsa("rsa-1");
  private static final ECKey EC = TestKeys.ec("ec-1");
  private static final OctetKeyPair ED = TestKeys.ed25519("ed-1");
  private static final byte[] SECRET = random(32);
  private static final String SECRET_B64 = Base64.getEncoder().encodeToString(SECRET);

  private JwtTokenVerifier verifier;

  @AfterEach
  void close() {
    if (verifier != null) {
      verifier.close();
    }
  }

  private JwtTokenVerifier verifier(ParleyConfig.Auth auth) {
    verifier =
        new JwtTokenVerifier(
            auth, CLOCK, JwksOptions.forCacheTtl(Duration.ofMinutes(5)), 8 * 1024);
    return verifier;
  }

  private JwtTokenVerifier allKeysVerifier() {
    return verifier(
        TestKeys.auth(
            SECRET_B64,
            List.of(
                TestKeys.pem(RSA), TestKeys.pem(EC) + TestKeys.pem(ED)),
            List.of(),
            ISS,
            AUD));
  }

  private static JWTClaimsSet.Builder claims() {
    return new JWTClaimsSet.Builder()
        .subject("alice")
        .issuer(ISS)
        .audience(AUD)
        .issueTime(Date.from(NOW))
        .expirationTime(Date.from(NOW.plusSeconds(600)));
  }

  private static VerifiedToken ok(JwtTokenVerifier v, String token) throws Exception {
    return v.verify(token).get(10, TimeUnit.SECONDS);
  }

  static ParleyException failure(JwtTokenVerifier v, String token) throws Exception {
    try {
      VerifiedToken t = v.verify(token).get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + t);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ParleyException.class);
      return (ParleyException) e.getCause();
    }
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new SecureRandom().nextBytes(b);
    return b;
  }

  @Test
  void acceptsHs256SignedWithTheConfiguredSecret() throws Exception {
    String token = TestKeys.sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null, claims().build());
    VerifiedToken v = ok(allKeysVerifier(), token);
    assertThat(v.userId()).isEqualTo("alice");
    assertThat(v.expiresAtMs()).isEqualTo(NOW.plusSeconds(600).toEpochMilli());
  }

  @Test
  void acceptsRs256FromPemKey() throws Exception {
    String token = TestKeys.sign(new RSASSASigner(RSA), JWSAlgorithm.RS256, "issuer-kid", claims().build());
    assertThat(ok(allKeysVerifier(), token).userId()).isEqualTo("alice");
  }

  @Test
  void acceptsEs256FromPemKey() throws Exception {
    String token = TestKeys.sign(new ECDSASigner(EC), JWSAlgorithm.ES256, null, claims().build());
    assertThat(ok(allKeysVerifier(), token).userId()).isEqualTo("alice");
  }

  @Test
  void acceptsEdDsaAndEd25519FromPemKey() throws Exception {
    JwtTokenVerifier v = allKeysVerifier();
    String eddsa = TestKeys.sign(new Ed25519Signer(ED), JWSAlgorithm.EdDSA, null, claims().build());
    String ed25519 = TestKeys.sign(new Ed25519Signer(ED), JWSAlgorithm.Ed25519, null, claims().build());
    assertThat(ok(v, eddsa).userId()).isEqualTo("alice");
    assertThat(ok(v, ed25519).userId()).isEqualTo("alice");
  }

  @Test
  void tokenWithoutExpiryExpiresNever() throws Exception {
    String token =
        TestKeys.sign(
            new MACSigner(SECRET), JWSAlgorithm.HS256, null, claims().expirationTime(null).build());
    assertThat(ok(allKeysVerifier(), token).expiresAtMs()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void rejectsAlgNone() throws Exception {
    String header = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}");
    String payload = b64(claims().build().toString());
    ParleyException e = failure(allKeysVerifier(), header + "." + payload + ".");
    assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(e.getMessage()).contains("alg none");
  }

  @Test
  void rejectsAlgNoneSpelledDifferentlyWithASignatureSegment() throws Exception {
    String header = b64("{\"alg\":\"NONE\"}");
    String payload = b64(claims().build().toString());
    ParleyException e = failure(allKeysVerifier(), header + "." + payload + "." + b64("x"));
    assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(e.getMessage()).contains("not accepted");
  }

  @Test
  void rejectsHs256SignedWithTheRsaPublicKeyWhenNoSecretIsConfigured() throws Exception {
    String pem = TestKeys.pem(RSA);
    JwtTokenVerifier v = verifier(TestKeys.auth(null, List.of(pem), List.of(), null, null));
    String forged =
        TestKeys.sign(
            new MACSigner(pem.getBytes(StandardCharsets.US_ASCII)),
            JWSAlgorithm.HS256,
            null,
            claims().build());
    ParleyException e = failure(v, forged);
    assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(e.getMessage()).contains("HS256 tokens are not accepted");
  }

  @Test
  void rejectsHs256SignedWithTheRsaPublicKeyEvenWhenASecretIsConfigured() throws Exception {
    String pem = TestKeys.pem(RSA);
    JwtTokenVerifier v = allKeysVerifier();
    for (byte[] keyBytes :
        List.of(pem.getBytes(StandardCharsets.US_ASCII), RSA.toRSAPublicKey().getEncoded())) {
      String forged =
          TestKeys.sign(new MACSigner(keyBytes), JWSAlgorithm.HS256, null, claims().build());
      ParleyException e = failure(v, forged);
      assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
      assertThat(e.getMessage()).isEqualTo("invalid token signature");
    }
  }

  @Test
  void rejectsSignatureFromAnotherKey() throws Exception {
    String token =
        TestKeys.sign(new RSASSASigner(TestKeys.rsa("other")), JWSAlgorithm.RS256, null, claims().build());
    ParleyException e = failure(allKeysVerifier(), token);
    assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(e.getMessage()).isEqualTo("invalid token signature");
  }

  @Test
  void rejectsTamperedPayload() throws Exception {
    String token = TestKeys.sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null, claims().build());
    String[] parts = token.split("\\.");
    String tampered =
        parts[0] + "." + b64(claims().subject("mallory").build().toString()) + "." + parts[2];
    assertThat(failure(allKeysVerifier(), tampered).getMessage()).isEqualTo("invalid token signature");
  }

  @Test
  void rejectsAlgorithmsOutsideTheAcceptedSet() throws Exception {
    String ps256 = TestKeys.sign(new RSASSASigner(RSA), JWSAlgorithm.PS256, null, claims().build());
    String hs512 =
        TestKeys.sign(new MACSigner(random(64)), JWSAlgorithm.HS512, null, claims().build());
    assertThat(failure(allKeysVerifier(), ps256).getMessage()).contains("PS256 is not accepted");
    assertThat(failure(allKeysVerifier(), hs512).getMessage()).contains("HS512 is not accepted");
  }

  @Test
  void rejectsAlgorithmWhoseKeyTypeIsNotConfigured() throws Exception {
    JwtTokenVerifier v =
        verifier(TestKeys.auth(null, List.of(TestKeys.pem(RSA)), List.of(), null, null));
    String token = TestKeys.sign(new ECDSASigner(EC), JWSAlgorithm.ES256, null, claims().build());
    assertThat(failure(v, token).getMessage()).contains("no configured key fits algorithm ES256");
  }

  @Test
  void rejectsWrongIssuer() throws Exception {
    String token =
        TestKeys.sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null, claims().issuer("https://evil").build());
    ParleyException e = failure(allKeysVerifier(), token);
    assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(e.getMessage()).contains("issuer");
  }

  @Test
  void rejectsWrongOrMissingAudience() throws Exception {
    String wrong =
        TestKeys.sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null, claims().audience("other").build());
    String missing =
        TestKeys.sign(
            new MACSigner(SECRET), JWSAlgorithm.HS256, null, claims().audience((String) null).build());
    assertThat(failure(allKeysVerifier(), wrong).getMessage()).contains("audience");
    assertThat(failure(allKeysVerifier(), missing).getMessage()).contains("audience");
  }

  @Test
  void acceptsAnyIssuerAndAudienceWhenNoneIsConfigured() throws Exception {
    JwtTokenVerifier v = verifier(TestKeys.auth(SECRET_B64, List.of(), List.of(), null, null));
    String token =
        TestKeys.sign(
            new MACSigner(SECRET),
            JWSAlgorithm.HS256,
            null,
            claims().issuer("anyone").audience("anything").build());
    assertThat(ok(v, token).userId()).isEqualTo("alice");
  }

  @Test
  void expiredTokenFailsWithTokenExpired() throws Exception {
    String token =
        TestKeys.sign(
            new MACSigner(SECRET),
            JWSAlgorithm.HS256,
            null,
            claims().expirationTime(Date.from(NOW.minusSeconds(61))).build());
    ParleyException e = failure(allKeysVerifier(), token);
    assertThat(e.code()).isEqualTo(ErrorCode.TOKEN_EXPIRED);
  }

  @Test
  void expiryWithinClockSkewIsAccepted() throws Exception {
    String token =
        TestKeys.sign(
            new MACSigner(SECRET),
            JWSAlgorithm.HS256,
            null,
            claims().expirationTime(Date.from(NOW.minusSeconds(59))).build());
    assertThat(ok(allKeysVerifier(), token).userId()).isEqualTo("alice");
  }

  @Test
  void notBeforeInTheFutureIsRejectedBeyondTheClockSkew() throws Exception {
    String future =
        TestKeys.sign(
            new MACSigner(SECRET),
            JWSAlgorithm.HS256,
            null,
            claims().notBeforeTime(Date.from(NOW.plusSeconds(120))).build());
    String withinSkew =
        TestKeys.sign(
            new MACSigner(SECRET),
            JWSAlgorithm.HS256,
            null,
            claims().notBeforeTime(Date.from(NOW.plusSeconds(30))).build());
    ParleyException e = failure(allKeysVerifier(), future);
    assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(e.getMessage()).contains("not valid before");
    assertThat(ok(allKeysVerifier(), withinSkew).userId()).isEqualTo("alice");
  }

  @Test
  void oversizedTokenIsRejectedBeforeParsing() throws Exception {
    String token =
        TestKeys.sign(
            new MACSigner(SECRET),
            JWSAlgorithm.HS256,
            null,
            claims().claim("padding", "x".repeat(9000)).build());
    ParleyException e = failure(allKeysVerifier(), token);
    assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    assertThat(e.getMessage()).contains("token too large");
  }

  @Test
  void missingSubjectIsRejected() throws Exception {
    String token =
        TestKeys.sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null, claims().subject(null).build());
    assertThat(failure(allKeysVerifier(), token).getMessage()).contains("no subject");
  }

  @Test
  void subjectWithWhitespaceOrTooLongIsRejected() throws Exception {
    for (String sub : List.of("al ice", "bob\n", "x".repeat(129), "")) {
      String token =
          TestKeys.sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null, claims().subject(sub).build());
      ParleyException e = failure(allKeysVerifier(), token);
      assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
      assertThat(e.getMessage()).contains("subject");
    }
  }

  @Test
  void garbageAndEmptyTokensAreUnauthenticated() throws Exception {
    for (String token : List.of("", "abc", "a.b.c", "Bearer xyz")) {
      assertThat(failure(allKeysVerifier(), token).code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
    }
  }

  @Test
  void mintedTokensVerifyWithTheSameConfiguration() throws Exception {
    TokenMinter minter = new TokenMinter(SECRET, ISS, AUD, CLOCK);
    MintedToken minted = minter.mint("bob", Duration.ofHours(1));
    VerifiedToken v = ok(allKeysVerifier(), minted.token());
    assertThat(v.userId()).isEqualTo("bob");
    assertThat(v.expiresAtMs()).isEqualTo(minted.expiresAtMs()).isEqualTo(NOW.plusSeconds(3600).toEpochMilli());
    JWTClaimsSet claims = com.nimbusds.jwt.SignedJWT.parse(minted.token()).getJWTClaimsSet();
    assertThat(claims.getIssuer()).isEqualTo(ISS);
    assertThat(claims.getAudience()).containsExactly(AUD);
    assertThat(claims.getIssueTime().toInstant()).isEqualTo(NOW);
    assertThat(claims.getJWTID()).isNotBlank();
    assertThat(minter.mint("bob", Duration.ofHours(1)).token()).isNotEqualTo(minted.token());
  }

  @Test
  void minterRejectsInvalidUserIdsAndShortSecrets() {
    TokenMinter minter = new TokenMinter(SECRET, null, null, CLOCK);
    assertThatThrownBy(() -> minter.mint("a b", Duration.ofHours(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("whitespace");
    assertThatThrownBy(() -> minter.mint("a", Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new TokenMinter(random(16), null, null, CLOCK))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void constructionFailsWithoutAnyKeySourceOrWithABadKey() {
    assertThatThrownBy(
            () -> verifier(TestKeys.auth(null, List.of(), List.of(), null, null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no token key source");
    assertThatThrownBy(
            () ->
                verifier(
                    TestKeys.auth(
                        Base64.getEncoder().encodeToString(random(16)), List.of(), List.of(), null, null)))
        .hasMessageContaining("auth.hmac_secret")
        .hasMessageContaining("32 bytes");
    assertThatThrownBy(
            () -> verifier(TestKeys.auth(null, List.of("not a pem"), List.of(), null, null)))
        .hasMessageContaining("auth.public_keys_pem[0]");
  }

  private static String b64(String json) {
    return Base64URL.encode(json.getBytes(StandardCharsets.UTF_8)).toString();
  }
}
