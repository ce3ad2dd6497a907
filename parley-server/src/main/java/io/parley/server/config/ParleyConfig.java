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
    Notify notifications) {

  public ParleyConfig {
    Objects.requireNonNull(server, "server");
    Objects.requireNonNull(storage, "storage");
    Objects.requireNonNull(auth, "auth");
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(timeouts, "timeouts");
    Objects.requireNonNull(notifications, "notifications");
  }

  /** A configuration with the default notification settings. */
  public ParleyConfig(
      boolean devMode,
      Server server,
      Storage storage,
      Auth auth,
      Admin admin,
      Limits limits,
      Timeouts timeouts) {
    this(devMode, server, storage, auth, admin, limits, timeouts, Notify.DEFAULTS);
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

  /** Admin API: requests must carry {@code Authorization: Bearer <apiKey>}. */
  public record Admin(String apiKey) {}

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

  /**
   * Notification outbox, webhooks and push (see docs/notifications.md).
   *
   * @param pushWebhookUrl the generic push provider's gateway URL, or null when it is off
   * @param pushWebhookSecret HMAC key for requests to that gateway, or null
   * @param fcmServiceAccountFile the Firebase service-account key file, or null when FCM is off
   * @param webpushVapidPublicKey VAPID public key (base64url), or null when Web Push is off
   * @param apnsKeyFile the APNs .p8 key, or null when APNs is off
   */
  public record Notify(
      int maxAttempts,
      Duration backoffBase,
      Duration backoffMax,
      Duration pollInterval,
      Duration pushDelay,
      Duration httpTimeout,
      Duration breakerOpenDuration,
      String pushWebhookUrl,
      String pushWebhookSecret,
      boolean pushPreview,
      String fcmServiceAccountFile,
      String fcmBaseUrl,
      String webpushVapidPublicKey,
      String webpushVapidPrivateKey,
      String webpushSubject,
      String apnsKeyFile,
      String apnsKeyId,
      String apnsTeamId,
      String apnsTopic,
      String apnsBaseUrl) {
    /** The defaults of {@link ConfigSchema}. */
    public static final Notify DEFAULTS =
        new Notify(
            12,
            Duration.ofSeconds(1),
            Duration.ofMinutes(10),
            Duration.ofMillis(200),
            Duration.ofSeconds(3),
            Duration.ofSeconds(10),
            Duration.ofSeconds(30),
            null,
            null,
            false,
            null,
            "https://fcm.googleapis.com",
            null,
            null,
            "mailto:admin@localhost",
            null,
            null,
            null,
            null,
            "https://api.push.apple.com");
  }
}
