package io.parley.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.DaemonThreads;
import io.parley.server.core.ParleyException;
import java.io.Closeable;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies client JWTs with Nimbus JOSE+JWT against the configured key sources: an HS256 shared
 * secret, PEM public keys (RS256, ES256, EdDSA/Ed25519) and OIDC JWKS endpoints.
 *
 * <p>Checks, in order: size (at most {@code maxTokenBytes}), form (a signed JWS: unsigned {@code
 * alg: none} and encrypted tokens are refused), algorithm (only HS256, RS256, ES256, EdDSA, Ed25519),
 * signature (the key type must fit the algorithm: an HMAC algorithm is verified only with the
 * configured HMAC secret, never with a public key, and is refused when no secret is configured),
 * {@code iss} and {@code aud} when configured, {@code exp} and {@code nbf} with the configured clock
 * skew, and {@code sub} (required, see {@link UserIdRules}).
 *
 * <p>Key selection: JWKS keys are selected by the token's {@code kid}, key type, curve and use; an
 * unknown {@code kid} triggers one refetch of the JWKS (rate limited), which is how key rotation is
 * picked up. PEM keys carry no issuer-assigned key id (their id is their RFC 7638 thumbprint): a
 * token whose {@code kid} equals a PEM key's thumbprint is checked against that key only, any other
 * token against every PEM key of the algorithm's type.
 *
 * <p>Threading: {@link #verify} never blocks its caller. Verification, including any JWKS fetch, runs
 * on a small executor owned by this verifier; JWKS documents are cached, refreshed ahead of expiry
 * on a background thread, rate limited, and the last good set keeps serving while the endpoint is
 * down (see {@link JwksOptions}). Thread-safe. {@link #close} stops the threads and fails pending
 * verifications with {@code UNAVAILABLE}.
 */
public final class JwtTokenVerifier implements TokenVerifier, AutoCloseable {
  /** Default largest accepted token: 8 KiB. */
  public static final int DEFAULT_MAX_TOKEN_BYTES = 8 * 1024;

  private static final Logger log = LoggerFactory.getLogger(JwtTokenVerifier.class);
  private static final Set<JWSAlgorithm> ACCEPTED_ALGORITHMS =
      Set.of(
          JWSAlgorithm.HS256,
          JWSAlgorithm.RS256,
          JWSAlgorithm.ES256,
          JWSAlgorithm.EdDSA,
          JWSAlgorithm.Ed25519);
  private static final int THREADS = 2;
  private static final int QUEUE_CAPACITY = 10_000;
  private static final long UNAVAILABLE_RETRY_MS = 1_000;

  private final MACVerifier hmacVerifier;
  private final List<JWK> staticKeys;
  private final JWKSet staticKeySet;
  private final List<RemoteKeys> remoteKeys;
  private final String issuer;
  private final String audience;
  private final Duration clockSkew;
  private final Clock clock;
  private final int maxTokenBytes;
  private final ThreadPoolExecutor executor;
  private final ExecutorService refreshExecutor;

  /**
   * A verifier for the configured key sources with the system clock, JWKS settings derived from
   * {@code auth.jwksCacheTtl()} and the default size limit.
   */
  public static JwtTokenVerifier create(ParleyConfig.Auth auth) {
    return new JwtTokenVerifier(
        auth,
        Clock.systemUTC(),
        JwksOptions.forCacheTtl(auth.jwksCacheTtl()),
        DEFAULT_MAX_TOKEN_BYTES);
  }

  /**
   * Builds a verifier. Fetches nothing: JWKS documents are fetched on first use.
   *
   * @throws IllegalArgumentException when no key source is configured, or a secret, PEM key or URL
   *     is invalid (the message names which)
   */
  public JwtTokenVerifier(
      ParleyConfig.Auth auth, Clock clock, JwksOptions jwksOptions, int maxTokenBytes) {
    Objects.requireNonNull(auth, "auth");
    this.clock = Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(jwksOptions, "jwksOptions");
    if (maxTokenBytes <= 0) {
      throw new IllegalArgumentException("maxTokenBytes must be positive");
    }
    this.maxTokenBytes = maxTokenBytes;
    this.issuer = auth.issuer();
    this.audience = auth.audience();
    this.clockSkew = Objects.requireNonNull(auth.clockSkew(), "auth.clockSkew");
    this.hmacVerifier = auth.hmacSecret() == null ? null : macVerifier(auth.hmacSecret());
    List<JWK> keys = new ArrayList<>();
    for (int i = 0; i < auth.publicKeysPem().size(); i++) {
      try {
        keys.addAll(PemPublicKeys.parse(auth.publicKeysPem().get(i)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "auth.public_keys_pem[" + i + "]: " + e.getMessage(), e);
      }
    }
    this.staticKeys = List.copyOf(keys);
    this.staticKeySet = new JWKSet(staticKeys);
    if (hmacVerifier == null && staticKeys.isEmpty() && auth.jwksUrls().isEmpty()) {
      throw new IllegalArgumentException(
          "no token key source configured: set an HMAC secret, PEM public keys or JWKS URLs");
    }
    this.refreshExecutor =
        auth.jwksUrls().isEmpty()
            ? null
            : Executors.newSingleThreadExecutor(DaemonThreads.numbered("parley-jwks-refresh-"));
    List<RemoteKeys> remotes = new ArrayList<>();
    for (String url : auth.jwksUrls()) {
      remotes.add(new RemoteKeys(url, jwkSource(parseUrl(url), jwksOptions, refreshExecutor)));
    }
    this.remoteKeys = List.copyOf(remotes);
    this.executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            0L,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUE_CAPACITY),
            DaemonThreads.numbered("parley-auth-"),
            new ThreadPoolExecutor.AbortPolicy());
  }

  @Override
  public CompletableFuture<VerifiedToken> verify(String token) {
    if (token == null || token.isBlank()) {
      return CompletableFuture.failedFuture(unauthenticated("missing token"));
    }
    if (token.length() > maxTokenBytes) {
      return CompletableFuture.failedFuture(
          unauthenticated("token too large (limit " + maxTokenBytes + " bytes)"));
    }
    VerifyTask task = new VerifyTask(token);
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      task.fail(
          executor.isShutdown()
              ? ParleyException.unavailable("the server is shutting down", UNAVAILABLE_RETRY_MS, e)
              : ParleyException.unavailable(
                  "too many authentications in progress", UNAVAILABLE_RETRY_MS, e));
    }
    return task.result;
  }

  /** Stops the verification and JWKS refresh threads; pending verifications fail. */
  @Override
  public void close() {
    for (Runnable pending : executor.shutdownNow()) {
      if (pending instanceof VerifyTask task) {
        task.fail(
            ParleyException.unavailable("the server is shutting down", UNAVAILABLE_RETRY_MS, null));
      }
    }
    for (RemoteKeys remote : remoteKeys) {
      remote.close();
    }
    if (refreshExecutor != null) {
      refreshExecutor.shutdownNow();
    }
  }

  /** Runs on the verifier's executor; throws {@link ParleyException} on every failure. */
  private VerifiedToken verifyNow(String token) {
    SignedJWT jwt = parse(token);
    JWSHeader header = jwt.getHeader();
    JWSAlgorithm alg = header.getAlgorithm();
    if (!ACCEPTED_ALGORITHMS.contains(alg)) {
      throw unauthenticated("signing algorithm " + printable(alg.getName()) + " is not accepted");
    }
    if (JWSAlgorithm.HS256.equals(alg)) {
      if (hmacVerifier == null) {
        throw unauthenticated("HS256 tokens are not accepted: no HMAC secret is configured");
      }
      if (!signatureValid(jwt, hmacVerifier)) {
        throw unauthenticated("invalid token signature");
      }
    } else {
      verifyWithPublicKeys(jwt, header);
    }
    return checkClaims(jwt);
  }

  private static SignedJWT parse(String token) {
    JWT parsed;
    try {
      parsed = JWTParser.parse(token.strip());
    } catch (ParseException e) {
      throw unauthenticated("malformed token: not a compact JWT");
    }
    if (parsed instanceof PlainJWT) {
      throw unauthenticated("unsigned tokens (alg none) are not accepted");
    }
    if (!(parsed instanceof SignedJWT signed)) {
      throw unauthenticated("encrypted tokens are not accepted");
    }
    return signed;
  }

  private void verifyWithPublicKeys(SignedJWT jwt, JWSHeader header) {
    JWKMatcher matcher = matcherFor(header, header.getKeyID());
    List<JWK> local = staticCandidates(header);
    if (anyKeyVerifies(jwt, local)) {
      return;
    }
    List<JWK> remote = new ArrayList<>();
    KeySourceException unavailable = null;
    String unavailableUrl = null;
    for (RemoteKeys source : remoteKeys) {
      try {
        remote.addAll(source.select(matcher));
      } catch (KeySourceException e) {
        unavailable = e;
        unavailableUrl = source.url;
      }
    }
    if (anyKeyVerifies(jwt, remote)) {
      return;
    }
    if (unavailable != null) {
      log.warn("cannot fetch signing keys from {}: {}", unavailableUrl, unavailable.getMessage());
      throw ParleyException.unavailable(
          "signing keys are temporarily unavailable", UNAVAILABLE_RETRY_MS, unavailable);
    }
    if (local.isEmpty() && remote.isEmpty()) {
      String kid = header.getKeyID();
      throw unauthenticated(
          kid != null
              ? "unknown signing key id '" + printable(kid) + "'"
              : "no configured key fits algorithm " + header.getAlgorithm().getName());
    }
    throw unauthenticated("invalid token signature");
  }

  /**
   * PEM keys of the algorithm's type; narrowed to one key when the token's {@code kid} is that key's
   * thumbprint.
   */
  private List<JWK> staticCandidates(JWSHeader header) {
    if (staticKeys.isEmpty()) {
      return List.of();
    }
    List<JWK> fitting = new JWKSelector(matcherFor(header, null)).select(staticKeySet);
    String kid = header.getKeyID();
    if (kid != null) {
      for (JWK key : fitting) {
        if (kid.equals(key.getKeyID())) {
          return List.of(key);
        }
      }
    }
    return fitting;
  }

  private static JWKMatcher matcherFor(JWSHeader header, String kid) {
    JWSAlgorithm alg = header.getAlgorithm();
    JWKMatcher.Builder b = new JWKMatcher.Builder().keyUses(KeyUse.SIGNATURE, null);
    if (kid != null) {
      b.keyID(kid);
    }
    if (JWSAlgorithm.RS256.equals(alg)) {
      b.keyType(KeyType.RSA).algorithms(JWSAlgorithm.RS256, null);
    } else if (JWSAlgorithm.ES256.equals(alg)) {
      b.keyType(KeyType.EC).curve(Curve.P_256).algorithms(JWSAlgorithm.ES256, null);
    } else {
      b.keyType(KeyType.OKP)
          .curve(Curve.Ed25519)
          .algorithms(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519, null);
    }
    return b.build();
  }

  private static boolean anyKeyVerifies(SignedJWT jwt, List<JWK> keys) {
    for (JWK key : keys) {
      JWSVerifier verifier = verifierFor(key, jwt.getHeader().getAlgorithm());
      if (verifier != null && signatureValid(jwt, verifier)) {
        return true;
      }
    }
    return false;
  }

  /** A verifier only for a key whose type fits the algorithm; null otherwise. */
  private static JWSVerifier verifierFor(JWK key, JWSAlgorithm alg) {
    try {
      if (JWSAlgorithm.RS256.equals(alg) && key instanceof RSAKey rsa) {
        if (rsa.size() < PemPublicKeys.MIN_RSA_BITS) {
          return null;
        }
        return new RSASSAVerifier(rsa);
      }
      if (JWSAlgorithm.ES256.equals(alg) && key instanceof ECKey ec) {
        return Curve.P_256.equals(ec.getCurve()) ? new ECDSAVerifier(ec) : null;
      }
      if ((JWSAlgorithm.EdDSA.equals(alg) || JWSAlgorithm.Ed25519.equals(alg))
          && key instanceof OctetKeyPair okp) {
        return Curve.Ed25519.equals(okp.getCurve()) ? new Ed25519Verifier(okp.toPublicJWK()) : null;
      }
    } catch (JOSEException e) {
      log.debug("unusable verification key {}: {}", key.getKeyID(), e.getMessage());
    }
    return null;
  }

  private static boolean signatureValid(SignedJWT jwt, JWSVerifier verifier) {
    try {
      return jwt.verify(verifier);
    } catch (JOSEException | IllegalStateException e) {
      return false;
    }
  }

  private VerifiedToken checkClaims(SignedJWT jwt) {
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw unauthenticated("malformed token claims");
    }
    if (issuer != null && !issuer.equals(claims.getIssuer())) {
      throw unauthenticated(
          "token issuer '" + printable(String.valueOf(claims.getIssuer())) + "' is not accepted");
    }
    if (audience != null
        && (claims.getAudience() == null || !claims.getAudience().contains(audience))) {
      throw unauthenticated("token audience does not include '" + printable(audience) + "'");
    }
    Instant now = clock.instant();
    Date exp = claims.getExpirationTime();
    if (exp != null && now.isAfter(exp.toInstant().plus(clockSkew))) {
      throw new ParleyException(ErrorCode.TOKEN_EXPIRED, "token expired at " + exp.toInstant());
    }
    Date nbf = claims.getNotBeforeTime();
    if (nbf != null && now.plus(clockSkew).isBefore(nbf.toInstant())) {
      throw unauthenticated("token is not valid before " + nbf.toInstant());
    }
    String subject = claims.getSubject();
    if (subject == null) {
      throw unauthenticated("token has no subject (sub)");
    }
    String problem = UserIdRules.problem(subject);
    if (problem != null) {
      throw unauthenticated("invalid token subject: " + problem);
    }
    return new VerifiedToken(subject, exp == null ? Long.MAX_VALUE : exp.getTime());
  }

  private static MACVerifier macVerifier(String base64Secret) {
    try {
      return new MACVerifier(HmacSecrets.decode(base64Secret));
    } catch (JOSEException | IllegalArgumentException e) {
      throw new IllegalArgumentException("auth.hmac_secret: " + e.getMessage(), e);
    }
  }

  private static URL parseUrl(String url) {
    try {
      URI uri = URI.create(url);
      if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) {
        throw new IllegalArgumentException("auth.jwks_urls: not an http(s) URL: " + url);
      }
      return uri.toURL();
    } catch (MalformedURLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("auth.jwks_urls: invalid URL: " + url, e);
    }
  }

  private static JWKSource<SecurityContext> jwkSource(
      URL url, JwksOptions options, ExecutorService refreshExecutor) {
    int timeoutMs = Math.toIntExact(options.httpTimeout().toMillis());
    return JWKSourceBuilder.<SecurityContext>create(
            url, new DefaultResourceRetriever(timeoutMs, timeoutMs, options.maxDocumentBytes()))
        .cache(options.cacheTtl().toMillis(), options.refreshTimeout().toMillis())
        .refreshAheadCache(
            options.refreshAhead().toMillis(), null, refreshExecutor, false, null, false)
        .rateLimited(options.minRefreshInterval().toMillis())
        .outageTolerant(options.outageTolerance().toMillis())
        .retrying(true)
        .build();
  }

  private static ParleyException unauthenticated(String message) {
    return new ParleyException(ErrorCode.UNAUTHENTICATED, message);
  }

  /** Attacker-controlled text made safe for error messages and logs. */
  private static String printable(String text) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < text.length() && sb.length() < 64; i++) {
      char c = text.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return text.length() > 64 ? sb + "..." : sb.toString();
  }


  /** One verification: completes its future with the result or the typed failure. */
  private final class VerifyTask implements Runnable {
    private final String token;
    private final CompletableFuture<VerifiedToken> result = new CompletableFuture<>();

    VerifyTask(String token) {
      this.token = token;
    }

    @Override
    public void run() {
      try {
        result.complete(verifyNow(token));
      } catch (RuntimeException e) {
        result.completeExceptionally(ParleyException.from(e));
      }
    }

    void fail(ParleyException e) {
      result.completeExceptionally(e);
    }
  }

  /** One JWKS endpoint with its cache. */
  private static final class RemoteKeys {
    private final String url;
    private final JWKSource<SecurityContext> source;
    private volatile boolean loadedOnce;

    RemoteKeys(String url, JWKSource<SecurityContext> source) {
      this.url = url;
      this.source = source;
    }

    /**
     * The matching keys; fetches the document when the cache is empty, expired, or has no key with
     * the token's {@code kid} (rate limited). A rate-limited refetch after a successful load means
     * "no such key"; before any successful load it means the endpoint is unavailable.
     */
    List<JWK> select(JWKMatcher matcher) throws KeySourceException {
      try {
        List<JWK> keys = source.get(new JWKSelector(matcher), null);
        loadedOnce = true;
        return keys;
      } catch (RateLimitReachedException e) {
        if (loadedOnce) {
          return List.of();
        }
        throw e;
      }
    }

    void close() {
      if (source instanceof Closeable closeable) {
        try {
          closeable.close();
        } catch (IOException e) {
          log.debug("closing JWKS source {}: {}", url, e.getMessage());
        }
      }
    }
  }
}
