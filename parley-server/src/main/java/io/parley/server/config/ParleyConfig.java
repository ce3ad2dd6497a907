package io.parley.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The server's whole configuration, validated at start by {@link ConfigLoader}. Immutable; passed
 * into the composition root and from there into each module's constructor (no static state).
 *
 * @param devMode true when started without a config file: data under ./parley-data, generated
 *     signing and admin keys, the dev token endpoint enabled
 */
public record ParleyConfig(
    boolean devMode,
    Server server,
    Storage storage,
    Auth auth,
    Admin admin,
    Limits limits,
    Timeouts timeouts,
    Tls tls,
    StoreBreaker storeBreaker) {

  public ParleyConfig {
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(storeBreaker, "storeBreaker");
    Objects.requireNonNull(server, "server");
    Objects.requireNonNull(storage, "storage");
    Objects.requireNonNull(auth, "auth");
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(timeouts, "timeouts");
  }

  /** A configuration with TLS off and the default store circuit breaker (tests, tools). */
  public ParleyConfig(
      boolean devMode,
      Server server,
      Storage storage,
      Auth auth,
      Admin admin,
      Limits limits,
      Timeouts timeouts) {
    this(devMode, server, storage, auth, admin, limits, timeouts, Tls.disabled(), StoreBreaker.defaults());
  }

  /** Network listener. Port 0 picks a free port (tests). */
  public record Server(String host, int port, Duration shutdownGrace) {}

  /**
   * Embedded storage.
   *
   * @param fsync whether a commit waits for fsync before acknowledging (true in production)
   * @param maxBatchWrites most writes grouped into one commit
   */
  public record Storage(Path dataDir, boolean fsync, int maxBatchWrites) {}

  /**
   * JWT verification. At least one key source must be configured.
   *
   * @param hmacSecret base64 HS256 secret, or null
   * @param publicKeysPem PEM public keys (RSA, EC or Ed25519), each accepted
   * @param jwksUrls OIDC JWKS endpoints, cached for {@code jwksCacheTtl}
   * @param issuer required {@code iss}, or null to accept any
   * @param audience required {@code aud}, or null to accept any
   * @param devSigningKeyFile dev mode only: where the generated HS256 key is kept
   */
  public record Auth(
      String hmacSecret,
      List<String> publicKeysPem,
      List<String> jwksUrls,
      Duration jwksCacheTtl,
      String issuer,
      String audience,
      Duration clockSkew,
      Duration devTokenTtl) {
    public Auth {
      publicKeysPem = List.copyOf(publicKeysPem);
      jwksUrls = List.copyOf(jwksUrls);
    }
  }

  /**
   * Admin API: requests must carry {@code Authorization: Bearer <apiKey>}.
   *
   * @param host address of the separate admin listener (only used when {@code port >= 0})
   * @param port port of the separate admin listener serving the admin API, the OpenAPI document
   *     and {@code /metrics}; {@value #SHARED_LISTENER} serves them on the main port, 0 picks a free
   *     port
   */
  public record Admin(String apiKey, String host, int port) {
    /** {@link #port} value meaning: no separate listener, admin routes on the main port. */
    public static final int SHARED_LISTENER = -1;

    /** Admin routes on the main listener. */
    public Admin(String apiKey) {
      this(apiKey, "127.0.0.1", SHARED_LISTENER);
    }

    /** True when the admin routes are served only by their own listener. */
    public boolean separateListener() {
      return port != SHARED_LISTENER;
    }
  }

  /**
   * TLS for every listener (WebSocket, HTTP and the admin listener).
   *
   * @param enabled whether the listeners speak TLS ({@code wss://}, {@code https://})
   * @param certChainPem PEM file with the certificate chain, leaf first (null when disabled)
   * @param privateKeyPem PEM file with the leaf's private key (null when disabled)
   * @param selfSigned the chain and key were generated for development ({@code tls.self_signed})
   */
  public record Tls(boolean enabled, Path certChainPem, Path privateKeyPem, boolean selfSigned) {
    public Tls {
      if (enabled) {
        Objects.requireNonNull(certChainPem, "certChainPem");
        Objects.requireNonNull(privateKeyPem, "privateKeyPem");
      }
    }

    public static Tls disabled() {
      return new Tls(false, null, null, false);
    }
  }

  /**
   * The circuit breakers around store reads and writes.
   *
   * @param failureRatePercent failure rate over the window at which a breaker opens
   * @param windowCalls how many recent calls the failure rate is computed over (also the minimum
   *     number of calls before a breaker can open)
   * @param openDuration how long an open breaker refuses calls before it lets probes through
   */
  public record StoreBreaker(int failureRatePercent, int windowCalls, Duration openDuration) {
    public static StoreBreaker defaults() {
      return new StoreBreaker(50, 20, Duration.ofSeconds(5));
    }
  }

  /** Size and count limits; each violation is answered with a typed error. */
  public record Limits(
      int maxFrameBytes,
      int maxMessageBytes,
      int maxGroupMembers,
      int maxHistoryPage,
      int maxSyncPage,
      int maxInflightPerConnection,
      int outboundBufferBytes,
      int maxConversationsPerUser) {}

  /** Connection timing. */
  public record Timeouts(
      Duration handshake, Duration idle, Duration pingInterval, Duration tokenExpiryWarning) {}
}
