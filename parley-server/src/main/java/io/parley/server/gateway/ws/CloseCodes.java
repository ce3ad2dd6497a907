package io.parley.server.gateway.ws;

/**
 * WebSocket close status codes the gateway uses. Codes below 4000 are the RFC 6455 ones; the
 * 4000-range codes are Parley's own and tell the client why its session ended (and whether
 * reconnecting with the same token makes sense).
 */
public final class CloseCodes {
  /** The server is draining or shutting down: reconnect (possibly elsewhere). */
  public static final int GOING_AWAY = 1001;

  /** Too many malformed frames or protocol abuse. */
  public static final int POLICY_VIOLATION = 1008;

  /** A frame (or fragmented message) exceeded {@code limits.maxFrameBytes}. */
  public static final int MESSAGE_TOO_BIG = 1009;

  /** An unexpected server-side failure on this connection. */
  public static final int INTERNAL_ERROR = 1011;

  /** Nothing was received from the client for {@code timeouts.idle}. */
  public static final int IDLE_TIMEOUT = 4000;

  /** The session's token expired without a {@code RefreshToken}. */
  public static final int TOKEN_EXPIRED = 4001;

  /** Repeated requests without (or with failed) authentication. */
  public static final int AUTHENTICATION_REQUIRED = 4002;

  /** The user was deactivated. */
  public static final int USER_DEACTIVATED = 4003;

  /**
   * The user already has {@code limits.max_connections_per_user} connections on this node; close
   * another device's connection before reconnecting.
   */
  public static final int CONNECTION_LIMIT = 4029;

  /** No successful {@code Authenticate} within {@code timeouts.handshake}. */
  public static final int AUTHENTICATION_TIMEOUT = 4008;

  private CloseCodes() {}
}
