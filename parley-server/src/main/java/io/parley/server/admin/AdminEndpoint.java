package io.parley.server.admin;

import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.ParleyException;
import io.parley.server.delivery.DeliveryService;
import io.parley.server.gateway.http.HttpCall;
import io.parley.server.gateway.http.HttpEndpoint;
import io.parley.server.gateway.http.HttpReply;
import io.parley.server.limits.ClientAddresses;
import io.parley.server.limits.LimitedAction;
import io.parley.server.limits.RateLimiter;
import io.parley.server.messaging.ConversationService;
import io.parley.server.messaging.MessageService;
import io.parley.server.notify.NotificationAdmin;
import io.parley.server.user.UserService;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The admin REST API under {@code /v1/admin/}: checks the admin API key, bounds the body, routes
 * the call to its handler and turns every failure (validation, service, unexpected) into the JSON
 * error shape of {@link HttpErrors}. The returned future never completes exceptionally.
 *
 * <p>Rate limits ({@code rate_limits.admin_per_ip}, then {@code rate_limits.admin_per_key}): every
 * request takes a token from its client address's bucket before the key is even checked (so key
 * guessing is throttled too), and an authorized request one from the key's bucket; an empty
 * bucket is answered with 429, {@code Retry-After} and the {@code RATE_LIMITED} error body carrying
 * {@code retry_after_ms}. Request
 * bodies are parsed on the calling thread (they are small and bounded); everything else is the
 * services' asynchronous work. Immutable after construction and thread-safe.
 */
final class AdminEndpoint implements HttpEndpoint {
  /** Same text for a missing and a wrong key, so a caller learns nothing about the key. */
  static final String UNAUTHENTICATED_MESSAGE =
      "a valid admin API key is required: Authorization: Bearer <admin api key>";

  private static final String BEARER = "bearer ";
  /** The bucket name of the (single) admin key; never the key itself. */
  static final String ADMIN_KEY_BUCKET = "admin-api-key";

  private final byte[] keyDigest;
  private final RateLimiter rateLimiter;
  private final PathRouter<AdminHandler> router = new PathRouter<>();

  AdminEndpoint(
      String adminApiKey,
      UserService users,
      ConversationService conversations,
      MessageService messages,
      DeliveryService delivery,
      NotificationAdmin notifications,
      UserTokenMinter minter) {
    this(
        adminApiKey,
        users,
        conversations,
        messages,
        delivery,
        notifications,
        minter,
        RateLimiter.unlimited());
  }

  AdminEndpoint(
      String adminApiKey,
      UserService users,
      ConversationService conversations,
      MessageService messages,
      DeliveryService delivery,
      NotificationAdmin notifications,
      UserTokenMinter minter,
      RateLimiter rateLimiter) {
    Objects.requireNonNull(adminApiKey, "adminApiKey");
    this.rateLimiter = Objects.requireNonNull(rateLimiter, "rateLimiter");
    if (adminApiKey.isBlank()) {
      throw new IllegalArgumentException("the admin API key must not be blank");
    }
    this.keyDigest = sha256(adminApiKey);
    AdminJson json = new AdminJson();
    new UserRoutes(users, minter, json).register(router);
    new ConversationRoutes(conversations, json).register(router);
    new MessageRoutes(messages, delivery, json).register(router);
    new NotificationRoutes(notifications, json).register(router);
  }

  @Override
  public CompletableFuture<HttpReply> handle(HttpCall call) {
    try {
      String address = ClientAddresses.keyOfLiteral(call.remoteAddress());
      Optional<ParleyException> refused =
          rateLimiter.tryAcquireAddress(LimitedAction.ADMIN, address);
      if (refused.isEmpty() && authorized(call.header("authorization"))) {
        refused = rateLimiter.tryAcquireUser(LimitedAction.ADMIN, ADMIN_KEY_BUCKET);
      } else if (refused.isEmpty()) {
        return CompletableFuture.completedFuture(
            HttpErrors.reply(ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE));
      }
      if (refused.isPresent()) {
        return CompletableFuture.completedFuture(HttpErrors.reply(refused.get()));
      }
      if (call.body().length > AdminJson.MAX_BODY_BYTES) {
        return CompletableFuture.completedFuture(
            HttpErrors.reply(
                ErrorCode.TOO_LARGE,
                "request body is "
                    + call.body().length
                    + " bytes; the limit is "
                    + AdminJson.MAX_BODY_BYTES));
      }
      PathRouter.Match<AdminHandler> match = router.match(call.method(), call.path());
      if (match instanceof PathRouter.Found<AdminHandler> found) {
        return found
            .route()
            .handler()
            .handle(new AdminRequest(call, found.params()))
            .handle((reply, error) -> error == null ? reply : HttpErrors.reply(error));
      }
      if (match instanceof PathRouter.MethodNotAllowed<AdminHandler> notAllowed) {
        return CompletableFuture.completedFuture(
            HttpErrors.methodNotAllowed(call.method(), notAllowed.allowed()));
      }
      return CompletableFuture.completedFuture(
          HttpErrors.reply(ErrorCode.NOT_FOUND, "no admin route " + call.path()));
    } catch (RuntimeException e) {
      // Validation errors thrown by handlers before any service call, and defensive cover for
      // anything unexpected: the gateway always gets a reply.
      return CompletableFuture.completedFuture(HttpErrors.reply(e));
    }
  }

  /** The route table (method and path template of every route), for documentation checks. */
  List<PathRouter.Route<AdminHandler>> routes() {
    return router.routes();
  }

  private boolean authorized(String header) {
    if (header == null
        || header.length() <= BEARER.length()
        || !header.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
      return false;
    }
    String presented = header.substring(BEARER.length()).trim();
    // Comparing fixed-length digests in constant time reveals neither content nor length.
    return MessageDigest.isEqual(keyDigest, sha256(presented));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }
}
