package io.parley.client;

/**
 * The lifecycle of a {@link ParleyClient}'s connection, reported through {@link
 * ParleyListener#onConnectionStateChanged(ConnectionState)} and {@link ParleyClient#state()}.
 *
 * <pre>
 *   NEW ──connect()──▶ CONNECTING ──authenticated──▶ CONNECTED ──connection lost──▶ RECONNECTING
 *                                                       ▲                              │
 *                                                       └────────authenticated─────────┘
 *   any state ──close(), close code 4003 or USER_DEACTIVATED──▶ CLOSED (terminal)
 * </pre>
 */
public enum ConnectionState {
  /** Built; {@link ParleyClient#connect()} has not been called yet. */
  NEW,
  /** Opening the first connection (or retrying it with backoff) and authenticating. */
  CONNECTING,
  /** Authenticated: requests flow, sync runs, live events are delivered. */
  CONNECTED,
  /** The connection was lost after having been established; reconnecting with backoff. */
  RECONNECTING,
  /** Closed for good: by {@link ParleyClient#close()} or because the user was deactivated. */
  CLOSED
}
