package io.parley.server.gateway.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.util.concurrent.ScheduledFuture;
import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.Authenticated;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GoAway;
import io.parley.protocol.v1.Pong;
import io.parley.protocol.v1.PresenceNotice;
import io.parley.protocol.v1.RefreshToken;
import io.parley.protocol.v1.ResyncRequired;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SessionExpiring;
import io.parley.protocol.v1.SubscribePresence;
import io.parley.protocol.v1.TokenRefreshed;
import io.parley.server.auth.VerifiedToken;
import io.parley.server.core.Caller;
import io.parley.server.core.Ids;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.ws.CloseCodes;
import io.parley.server.gateway.ws.InboundFrame;
import io.parley.server.gateway.ws.OutboundFrame;
import io.parley.server.gateway.ws.Subprotocol;
import io.parley.server.gateway.proxy.ClientAddress;
import io.parley.server.limits.ClientAddresses;
import io.parley.server.limits.LimitedAction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's WebSocket connection after the upgrade: its protocol state machine, its requests
 * and its live delivery.
 *
 * <h2>States</h2>
 *
 * {@link State#AWAITING_AUTH} → {@link State#AUTHENTICATING} → {@link State#AUTHENTICATED} →
 * {@link State#CLOSING}. Before authentication only {@code Authenticate} is accepted; other
 * requests get {@code UNAUTHENTICATED} and after {@value #MAX_UNAUTHENTICATED_REQUESTS} of them (or
 * {@value #MAX_FAILED_AUTHENTICATIONS} failed authentications) the connection is closed with
 * {@link CloseCodes#AUTHENTICATION_REQUIRED}. A connection not authenticated within {@code
 * timeouts.handshake} is closed with {@link CloseCodes#AUTHENTICATION_TIMEOUT}. While an
 * authentication is running, reading pauses and frames already received wait, so no request is
 * served before it finishes. Authentication is: verify the token, ensure the user is active,
 * validate or generate the device id, register in the {@link SessionRegistry} (user index first),
 * load the user's channels into the channel index, announce the device to presence, answer {@code
 * Authenticated}. A user who already has {@code limits.maxConnectionsPerUser} sessions on this node
 * is answered with {@code LIMIT_EXCEEDED} and the connection is closed with {@link
 * CloseCodes#CONNECTION_LIMIT}.
 *
 * <h2>Requests</h2>
 *
 * Every request needs a non-zero {@code request_id}. A frame that cannot be decoded, or has
 * request id 0, is answered with {@code BAD_REQUEST} on request id 0 and the connection stays open;
 * after {@value #MAX_CONSECUTIVE_MALFORMED} such frames in a row it is closed with {@link
 * CloseCodes#POLICY_VIOLATION}. At most {@code limits.maxInflightPerConnection} requests are
 * dispatched at once; beyond that requests are answered with {@code RATE_LIMITED}. Sends, typing,
 * presence and joins also take a token from the user's and the client address's buckets ({@code
 * rate_limits.*}, see {@link io.parley.server.limits.RateLimiter}) and are answered with {@code
 * RATE_LIMITED} and the bucket's {@code retry_after_ms} when one is empty. Failures are
 * mapped with {@link ParleyException#from}; an {@code INTERNAL} error is logged once with a
 * reference id that the client receives instead of details. After the gateway starts draining,
 * new requests are answered with {@code SHUTTING_DOWN}.
 *
 * <h2>Token expiry and keep-alive</h2>
 *
 * {@code SessionExpiring} is pushed {@code timeouts.tokenExpiryWarning} before the token expires;
 * at expiry the connection is closed with {@link CloseCodes#TOKEN_EXPIRED} unless a {@code
 * RefreshToken} for the same user moved the expiry. A WebSocket ping is sent every {@code
 * timeouts.pingInterval}; the idle handler closes the connection when nothing was received for
 * {@code timeouts.idle}.
 *
 * <h2>Live delivery</h2>
 *
 * See {@link LiveStream} for deduplication, the sync seam and back-pressure. The bus delivers from
 * its own threads through {@link #deliverEvents} and {@link #deliverEphemeral}: items are queued
 * and drained on the event loop in one task, written without flushing, then flushed once. The
 * queue holds at most {@value #MAX_QUEUED_DELIVERIES} items; committed events that find it full
 * are dropped and the stream treats them as lost ({@link LiveStream#eventsLost}: resync), so a
 * lagging event loop cannot make publishers pile up memory.
 *
 * <p>Thread-safety: the state is confined to the channel's event loop; the public delivery and
 * control methods ({@link #deliverEvents}, {@link #deliverEphemeral}, {@link #close}, {@link
 * #goAway}, {@link #snapshot}) may be called from any thread.
 */
public final class Session {
  private static final Logger log = LoggerFactory.getLogger(Session.class);

  static final int MAX_CONSECUTIVE_MALFORMED = 10;
  static final int MAX_UNAUTHENTICATED_REQUESTS = 3;
  static final int MAX_FAILED_AUTHENTICATIONS = 3;
  static final int MAX_PRESENCE_SUBSCRIPTIONS = 1000;
  static final int MAX_BUFFERED_LIVE_EVENTS = 10_000;
  static final int MAX_QUEUED_DELIVERIES = 4096;
  static final long RATE_LIMIT_RETRY_MS = 100;
  static final long CLOSE_HANDSHAKE_TIMEOUT_MS = 1000;
  private static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** The protocol state of the connection. */
  public enum State {
    AWAITING_AUTH,
    AUTHENTICATING,
    AUTHENTICATED,
    CLOSING
  }

  /**
   * A consistent view of a session's state, taken on its event loop (diagnostics and tests).
   *
   * @param pendingOutboundBytes bytes written to the channel and not yet sent to the socket
   */
  public record Snapshot(
      State state, LiveStream.Mode mode, long pendingOutboundBytes, int inFlight, boolean writable) {}

  private record LiveEvents(String conversationId, List<Event> events, OutboundFrame frame) {}

  private final SessionContext ctx;
  private final Channel channel;
  private final Subprotocol subprotocol;
  private final String sessionId = Ids.timeOrdered("s_");
  private final String clientAddress;
  private final Sink sink = new Sink();
  private final LiveStream live = new LiveStream(sink, MAX_BUFFERED_LIVE_EVENTS);
  private final Queue<Object> inbox = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inboxSize = new AtomicInteger();
  private final AtomicBoolean inboxOverflowed = new AtomicBoolean();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final Runnable drainTask = this::drainInbox;
  private final ArrayDeque<ClientFrame> heldDuringAuth = new ArrayDeque<>();

  private volatile State state = State.AWAITING_AUTH;
  private volatile String userId = "";
  private volatile String deviceId = "";
  private Caller caller;
  private long expiresAtMs;
  private ScheduledFuture<?> authDeadline;
  private ScheduledFuture<?> expiryWarning;
  private ScheduledFuture<?> expiry;
  private ScheduledFuture<?> keepAlive;
  private int consecutiveMalformed;
  private int unauthenticatedRequests;
  private int failedAuthentications;
  private int inFlight;
  private boolean presenceAnnounced;
  private boolean resyncPending;
  private String resyncReason = "";
  private boolean needsFlush;
  private boolean closed;

  Session(SessionContext ctx, Channel channel, Subprotocol subprotocol) {
    this.ctx = Objects.requireNonNull(ctx, "ctx");
    this.channel = Objects.requireNonNull(channel, "channel");
    this.subprotocol = Objects.requireNonNull(subprotocol, "subprotocol");
    this.clientAddress = ClientAddresses.keyOf(ClientAddress.of(channel));
  }

  /** True when the id is 1 to 64 characters of {@code [A-Za-z0-9._-]}. */
  public static boolean validDeviceId(String id) {
    return DEVICE_ID.matcher(id).matches();
  }

  public String sessionId() {
    return sessionId;
  }

  /** The authenticated user's id ("" before authentication). */
  public String userId() {
    return userId;
  }

  /** The device id ("" before authentication). */
  public String deviceId() {
    return deviceId;
  }

  public State state() {
    return state;
  }

  public Subprotocol subprotocol() {
    return subprotocol;
  }

  // ------------------------------------------------------------------------------------------
  // Thread-safe entry points
  // ------------------------------------------------------------------------------------------

  /** Queues committed events of one conversation for live delivery (any thread). */
  public void deliverEvents(String conversationId, List<Event> events, OutboundFrame frame) {
    if (inboxOverflowed.get()) {
      return; // lost; the next drain turns the loss into a resync
    }
    if (inboxSize.incrementAndGet() > MAX_QUEUED_DELIVERIES) {
      inboxSize.decrementAndGet();
      inboxOverflowed.set(true);
    } else {
      inbox.add(new LiveEvents(conversationId, events, frame));
    }
    scheduleDrain();
  }

  /** Queues an ephemeral push (typing, presence, receipt) for delivery (any thread). */
  public void deliverEphemeral(OutboundFrame frame) {
    if (inboxSize.incrementAndGet() > MAX_QUEUED_DELIVERIES) {
      inboxSize.decrementAndGet(); // ephemeral: dropping it is harmless
      return;
    }
    inbox.add(frame);
    scheduleDrain();
  }

  /** Closes the connection with a WebSocket close code (any thread). */
  public void close(int closeCode, String reason) {
    onLoop(() -> closeWith(closeCode, reason));
  }

  /** Tells the client that this node is going away (any thread). */
  public void goAway(String reason, long reconnectAfterMs) {
    onLoop(
        () -> {
          if (state != State.CLOSING) {
            respond(
                ServerFrame.newBuilder()
                    .setGoAway(
                        GoAway.newBuilder().setReason(reason).setReconnectAfterMs(reconnectAfterMs))
                    .build());
          }
        });
  }

  /** Reads the session's state on its event loop. */
  public CompletableFuture<Snapshot> snapshot() {
    CompletableFuture<Snapshot> f = new CompletableFuture<>();
    onLoop(
        () -> {
          ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
          f.complete(
              new Snapshot(
                  state,
                  live.mode(),
                  out == null ? 0 : out.totalPendingWriteBytes(),
                  inFlight,
                  channel.isWritable()));
        });
    return f;
  }

  // ------------------------------------------------------------------------------------------
  // Channel events (event loop)
  // ------------------------------------------------------------------------------------------

  /** The upgrade finished: start timers. */
  void start() {
    ctx.metrics().connectionOpened();
    ctx.registry().connected(this);
    long handshake = ctx.timeouts().handshake().toMillis();
    if (handshake > 0) {
      authDeadline =
          schedule(
              () -> {
                if (state == State.AWAITING_AUTH || state == State.AUTHENTICATING) {
                  closeWith(CloseCodes.AUTHENTICATION_TIMEOUT, "authentication timeout");
                }
              },
              handshake);
    }
    long ping = ctx.timeouts().pingInterval().toMillis();
    if (ping > 0) {
      keepAlive =
          channel
              .eventLoop()
              .scheduleAtFixedRate(
                  () -> {
                    if (state != State.CLOSING && channel.isActive() && channel.isWritable()) {
                      channel.writeAndFlush(new PingWebSocketFrame());
                    }
                  },
                  ping,
                  ping,
                  TimeUnit.MILLISECONDS);
    }
  }

  /** The upgrade request carried a verified bearer token: finish authentication without a frame. */
  void authenticateWithHeader(VerifiedToken token, String requestedDeviceId, boolean syncFirst) {
    state = State.AUTHENTICATING;
    channel.config().setAutoRead(false);
    completeAuthentication(0, token, requestedDeviceId, syncFirst);
  }

  void onInbound(InboundFrame in) {
    if (state == State.CLOSING) {
      return;
    }
    ctx.metrics().frameIn();
    if (in instanceof InboundFrame.Malformed m) {
      malformed("malformed frame: " + m.reason());
      return;
    }
    ClientFrame f = ((InboundFrame.Decoded) in).frame();
    if (f.getRequestId() == 0) {
      malformed("request_id must be non-zero");
      return;
    }
    consecutiveMalformed = 0;
    switch (state) {
      case AWAITING_AUTH -> handleUnauthenticated(f);
      case AUTHENTICATING -> hold(f);
      case AUTHENTICATED -> handleAuthenticated(f);
      case CLOSING -> {}
    }
  }

  void onCloseFrame(int statusCode) {
    if (state == State.CLOSING) {
      channel.close();
      return;
    }
    beginClosing();
    CloseWebSocketFrame reply =
        statusCode > 0 ? new CloseWebSocketFrame(statusCode, "") : new CloseWebSocketFrame();
    channel.writeAndFlush(reply).addListener(f -> channel.close());
  }

  void onWritabilityChanged() {
    if (channel.isWritable() && resyncPending && live.mode() == LiveStream.Mode.STALLED) {
      resyncPending = false;
      writeResyncRequired(resyncReason);
      channel.flush();
    }
  }

  void onIdle() {
    closeWith(CloseCodes.IDLE_TIMEOUT, "idle timeout");
  }

  void onException(Throwable cause) {
    if (cause instanceof CorruptedWebSocketFrameException c) {
      int code = c.closeStatus().code();
      if (code == CloseCodes.MESSAGE_TOO_BIG) {
        frameTooLarge();
      } else {
        closeWith(code, String.valueOf(c.getMessage()));
      }
    } else if (cause instanceof TooLongFrameException) {
      frameTooLarge();
    } else if (cause instanceof IOException) {
      channel.close();
    } else {
      log.warn("unexpected failure on session {}", sessionId, cause);
      closeWith(CloseCodes.INTERNAL_ERROR, "internal error");
    }
  }

  void onChannelInactive() {
    if (closed) {
      return;
    }
    closed = true;
    beginClosing();
    ctx.registry().disconnected(this);
    inbox.clear();
    if (presenceAnnounced) {
      presenceAnnounced = false;
      try {
        ctx.presence().deviceDisconnected(userId, deviceId);
      } catch (RuntimeException e) {
        log.warn("presence update failed for session {}", sessionId, e);
      }
    }
    ctx.metrics().connectionClosed();
  }

  // ------------------------------------------------------------------------------------------
  // Authentication
  // ------------------------------------------------------------------------------------------

  private void handleUnauthenticated(ClientFrame f) {
    if (f.hasAuthenticate()) {
      startAuthentication(f.getRequestId(), f.getAuthenticate());
      return;
    }
    unauthenticatedRequests++;
    sendError(f.getRequestId(), ErrorCode.UNAUTHENTICATED, "authenticate first", 0);
    if (unauthenticatedRequests >= MAX_UNAUTHENTICATED_REQUESTS) {
      closeWith(CloseCodes.AUTHENTICATION_REQUIRED, "authentication required");
    }
  }

  private void hold(ClientFrame f) {
    if (heldDuringAuth.size() >= ctx.limits().maxInflightPerConnection()) {
      sendError(
          f.getRequestId(),
          ErrorCode.RATE_LIMITED,
          "too many requests while authenticating",
          RATE_LIMIT_RETRY_MS);
      return;
    }
    heldDuringAuth.add(f);
  }

  private void startAuthentication(long requestId, Authenticate a) {
    String requestedDevice = a.getDeviceId();
    if (!requestedDevice.isEmpty() && !validDeviceId(requestedDevice)) {
      sendError(
          requestId,
          ErrorCode.BAD_REQUEST,
          "device_id must be 1 to 64 characters of [A-Za-z0-9._-]",
          0);
      return;
    }
    if (a.getToken().isEmpty()) {
      authenticationFailed(requestId, new ParleyException(ErrorCode.UNAUTHENTICATED, "token is required"));
      return;
    }
    state = State.AUTHENTICATING;
    channel.config().setAutoRead(false);
    ctx.authenticate(a.getToken())
        .whenComplete(
            (vt, err) ->
                onLoop(
                    () -> {
                      if (err != null) {
                        authenticationFailed(requestId, err);
                      } else {
                        completeAuthentication(requestId, vt, requestedDevice, a.getSyncFirst());
                      }
                    }));
  }

  private void authenticationFailed(long requestId, Throwable err) {
    if (state == State.CLOSING) {
      return;
    }
    state = State.AWAITING_AUTH;
    ParleyException pe = ParleyException.from(err);
    sendError(requestId, pe, "authenticate");
    if (pe.code() == ErrorCode.USER_DEACTIVATED) {
      closeWith(CloseCodes.USER_DEACTIVATED, "user deactivated");
      return;
    }
    failedAuthentications++;
    if (failedAuthentications >= MAX_FAILED_AUTHENTICATIONS) {
      closeWith(CloseCodes.AUTHENTICATION_REQUIRED, "too many failed authentications");
      return;
    }
    channel.config().setAutoRead(true);
    processHeld();
  }

  private void completeAuthentication(
      long requestId, VerifiedToken vt, String requestedDevice, boolean syncFirst) {
    if (state == State.CLOSING) {
      return;
    }
    userId = vt.userId();
    deviceId = requestedDevice.isEmpty() ? Ids.timeOrdered("d_") : requestedDevice;
    expiresAtMs = vt.expiresAtMs();
    caller = Caller.user(userId, deviceId);
    if (!ctx.registry().tryRegister(this, ctx.limits().maxConnectionsPerUser())) {
      int max = ctx.limits().maxConnectionsPerUser();
      userId = "";
      deviceId = "";
      caller = null;
      sendError(
          requestId,
          ErrorCode.LIMIT_EXCEEDED,
          "this user already has " + max + " connections (limits.max_connections_per_user)",
          0);
      closeWith(CloseCodes.CONNECTION_LIMIT, "too many connections for this user");
      return;
    }
    // User index first: events for this user published from now on reach the session (buffered
    // until the answer below), so the channel load and any later sync cannot leave a gap. In a
    // cluster "from now on" starts when the engines route the user to this gateway (inForce).
    String user = userId;
    ctx.registry()
        .inForce(this)
        .thenCompose(v -> ctx.loadChannels(user))
        .whenComplete((ids, err) -> onLoop(() -> channelsLoaded(requestId, syncFirst, ids, err)));
  }

  private void channelsLoaded(
      long requestId, boolean syncFirst, List<String> channelIds, Throwable err) {
    if (state == State.CLOSING) {
      return;
    }
    if (err != null) {
      abandonAuthentication(requestId, err);
      return;
    }
    ctx.registry().subscribeChannels(this, channelIds);
    // The channels' events must be routed here before the client can sync them (a cluster
    // confirms asynchronously; a single process at once, which keeps this step synchronous).
    CompletableFuture<Void> routed = ctx.registry().inForce(this);
    if (routed.isDone() && !routed.isCompletedExceptionally()) {
      interestInForce(requestId, syncFirst, null);
    } else {
      routed.whenComplete(
          (v, e) -> onLoop(() -> interestInForce(requestId, syncFirst, e)));
    }
  }

  /** Undoes the registration of an authentication that failed after it, then answers the error. */
  private void abandonAuthentication(long requestId, Throwable err) {
    ctx.registry().unregister(this);
    live.close();
    userId = "";
    deviceId = "";
    caller = null;
    authenticationFailed(requestId, err);
  }

  private void interestInForce(long requestId, boolean syncFirst, Throwable err) {
    if (state == State.CLOSING) {
      return;
    }
    if (err != null) {
      abandonAuthentication(requestId, err);
      return;
    }
    state = State.AUTHENTICATED;
    cancel(authDeadline);
    try {
      ctx.presence().deviceConnected(userId, deviceId);
      presenceAnnounced = true;
    } catch (RuntimeException e) {
      log.warn("presence update failed for session {}", sessionId, e);
    }
    scheduleExpiry();
    sink.writeResponse(
        ServerFrame.newBuilder()
            .setRequestId(requestId)
            .setAuthenticated(
                Authenticated.newBuilder()
                    .setUserId(userId)
                    .setDeviceId(deviceId)
                    .setSessionId(sessionId)
                    .setExpiresAtMs(expiresAtMs)
                    .setServerTimeMs(System.currentTimeMillis())
                    .setMaxMessageBytes(ctx.limits().maxMessageBytes()))
            .build());
    live.authenticated(syncFirst);
    flushIfNeeded();
    channel.config().setAutoRead(true);
    processHeld();
  }

  private void processHeld() {
    ClientFrame f;
    while ((state == State.AWAITING_AUTH || state == State.AUTHENTICATED)
        && (f = heldDuringAuth.poll()) != null) {
      if (state == State.AUTHENTICATED) {
        handleAuthenticated(f);
      } else {
        handleUnauthenticated(f);
      }
    }
  }

  private void scheduleExpiry() {
    cancel(expiryWarning);
    cancel(expiry);
    if (expiresAtMs == Long.MAX_VALUE) {
      return;
    }
    long untilExpiry = expiresAtMs - System.currentTimeMillis();
    long untilWarning = untilExpiry - ctx.timeouts().tokenExpiryWarning().toMillis();
    long expiresAt = expiresAtMs;
    expiryWarning =
        schedule(
            () -> {
              if (state == State.AUTHENTICATED) {
                respond(
                    ServerFrame.newBuilder()
                        .setSessionExpiring(SessionExpiring.newBuilder().setExpiresAtMs(expiresAt))
                        .build());
              }
            },
            Math.max(0, untilWarning));
    expiry = schedule(() -> closeWith(CloseCodes.TOKEN_EXPIRED, "token expired"), Math.max(0, untilExpiry));
  }

  // ------------------------------------------------------------------------------------------
  // Requests
  // ------------------------------------------------------------------------------------------

  private void handleAuthenticated(ClientFrame f) {
    long id = f.getRequestId();
    ClientFrame.RequestCase kind = f.getRequestCase();
    switch (kind) {
      case AUTHENTICATE -> {
        sendError(id, ErrorCode.ALREADY_AUTHENTICATED, "the session is already authenticated", 0);
        return;
      }
      case PING -> {
        respond(
            ServerFrame.newBuilder()
                .setRequestId(id)
                .setPong(
                    Pong.newBuilder()
                        .setClientTimeMs(f.getPing().getClientTimeMs())
                        .setServerTimeMs(System.currentTimeMillis()))
                .build());
        return;
      }
      case REQUEST_NOT_SET -> {
        sendError(id, ErrorCode.UNSUPPORTED, "unknown or missing request kind", 0);
        return;
      }
      default -> {}
    }
    if (ctx.state().isDraining()) {
      sendError(id, ErrorCode.SHUTTING_DOWN, "the server is shutting down; reconnect", 0);
      return;
    }
    LimitedAction action = limitedAction(kind);
    if (action != null) {
      Optional<ParleyException> refused =
          ctx.rateLimiter().tryAcquire(action, userId, clientAddress);
      if (refused.isPresent()) {
        sendError(id, refused.get(), GatewayMetrics.kindName(kind));
        return;
      }
    }
    if (inFlight >= ctx.limits().maxInflightPerConnection()) {
      sendError(id, ErrorCode.RATE_LIMITED, "too many requests in flight", RATE_LIMIT_RETRY_MS);
      return;
    }
    inFlight++;
    ctx.state().requestStarted();
    long started = System.nanoTime();
    CompletableFuture<ServerFrame.Builder> result;
    switch (kind) {
      case REFRESH_TOKEN -> result = refreshToken(f.getRefreshToken());
      case SUBSCRIBE_PRESENCE -> result = subscribePresence(f.getSubscribePresence());
      case SYNC -> {
        live.beginSync();
        result = ctx.dispatcher().dispatch(caller, f);
      }
      default -> result = ctx.dispatcher().dispatch(caller, f);
    }
    result.whenComplete(
        (b, err) -> {
          ctx.state().requestFinished();
          ctx.metrics().requestTimer(kind).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
          onLoop(() -> finish(id, kind, b, err));
        });
  }

  /** The rate limit a request kind counts against, or null for unlimited kinds (reads, receipts). */
  static LimitedAction limitedAction(ClientFrame.RequestCase kind) {
    return switch (kind) {
      case SEND_MESSAGE, EDIT_MESSAGE, DELETE_MESSAGE, ADD_REACTION, REMOVE_REACTION ->
          LimitedAction.SEND;
      case SEND_TYPING -> LimitedAction.TYPING;
      case SET_PRESENCE, SUBSCRIBE_PRESENCE -> LimitedAction.PRESENCE;
      case OPEN_DIRECT, CREATE_GROUP, CREATE_CHANNEL, JOIN_CHANNEL, ADD_MEMBERS -> LimitedAction.JOIN;
      default -> null;
    };
  }

  private void finish(long id, ClientFrame.RequestCase kind, ServerFrame.Builder b, Throwable err) {
    inFlight--;
    if (state == State.CLOSING) {
      return;
    }
    if (kind == ClientFrame.RequestCase.SYNC) {
      if (err == null) {
        live.completeSync(id, b.getSyncResult());
        flushIfNeeded();
      } else {
        live.failSync();
        sendError(id, err, "sync");
      }
      return;
    }
    if (err != null) {
      sendError(id, err, GatewayMetrics.kindName(kind));
      return;
    }
    if (kind == ClientFrame.RequestCase.REFRESH_TOKEN) {
      expiresAtMs = b.getTokenRefreshed().getExpiresAtMs();
      scheduleExpiry();
    }
    respond(b.setRequestId(id).build());
  }

  private CompletableFuture<ServerFrame.Builder> refreshToken(RefreshToken r) {
    String expectedUser = userId;
    return ctx.authenticate(r.getToken())
        .thenApply(
            vt -> {
              if (!vt.userId().equals(expectedUser)) {
                throw new ParleyException(
                    ErrorCode.UNAUTHENTICATED, "the token identifies a different user");
              }
              return ServerFrame.newBuilder()
                  .setTokenRefreshed(TokenRefreshed.newBuilder().setExpiresAtMs(vt.expiresAtMs()));
            });
  }

  private CompletableFuture<ServerFrame.Builder> subscribePresence(SubscribePresence r) {
    Set<String> ids = new LinkedHashSet<>(r.getUserIdsList());
    if (ids.size() > MAX_PRESENCE_SUBSCRIPTIONS) {
      return CompletableFuture.failedFuture(
          new ParleyException(
              ErrorCode.LIMIT_EXCEEDED,
              "at most " + MAX_PRESENCE_SUBSCRIPTIONS + " users per presence subscription"));
    }
    ctx.registry().watchPresence(this, ids);
    // Read the current presence only once changes are routed here, or one could fall between.
    CompletableFuture<Void> routed = ctx.registry().presenceInForce(ids);
    if (routed.isDone() && !routed.isCompletedExceptionally()) {
      return presenceSnapshot(ids);
    }
    CompletableFuture<ServerFrame.Builder> result = new CompletableFuture<>();
    routed.whenComplete(
        (v, err) ->
            onLoop(
                () -> {
                  if (err != null) {
                    result.completeExceptionally(err);
                  } else if (state == State.CLOSING) {
                    result.complete(ServerFrame.newBuilder().setAck(Ack.getDefaultInstance()));
                  } else {
                    presenceSnapshot(ids)
                        .whenComplete(
                            (b, e) -> {
                              if (e != null) {
                                result.completeExceptionally(e);
                              } else {
                                result.complete(b);
                              }
                            });
                  }
                }));
    return result;
  }

  private CompletableFuture<ServerFrame.Builder> presenceSnapshot(Set<String> ids) {
    if (ids.isEmpty()) {
      return CompletableFuture.completedFuture(
          ServerFrame.newBuilder().setAck(Ack.getDefaultInstance()));
    }
    CompletableFuture<List<PresenceNotice>> current;
    try {
      current = ctx.presence().current(List.copyOf(ids));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    // The notices go out on the event loop (the sink is confined to it) and before the Ack, which
    // the caller writes when the returned future completes.
    CompletableFuture<ServerFrame.Builder> done = new CompletableFuture<>();
    current.whenComplete(
        (notices, err) ->
            onLoop(
                () -> {
                  if (err != null) {
                    done.completeExceptionally(err);
                    return;
                  }
                  if (state != State.CLOSING) {
                    for (PresenceNotice n : notices) {
                      sink.writePush(
                          OutboundFrame.of(ServerFrame.newBuilder().setPresence(n).build()), 0);
                    }
                  }
                  done.complete(ServerFrame.newBuilder().setAck(Ack.getDefaultInstance()));
                }));
    return done;
  }

  private void malformed(String message) {
    consecutiveMalformed++;
    sendError(0, ErrorCode.BAD_REQUEST, message, 0);
    if (consecutiveMalformed >= MAX_CONSECUTIVE_MALFORMED) {
      closeWith(CloseCodes.POLICY_VIOLATION, "too many malformed frames");
    }
  }

  private void frameTooLarge() {
    if (state == State.CLOSING) {
      return;
    }
    sendError(
        0,
        ErrorCode.TOO_LARGE,
        "frame exceeds the limit of " + ctx.limits().maxFrameBytes() + " bytes",
        0);
    closeWith(CloseCodes.MESSAGE_TOO_BIG, "frame too large");
  }

  // ------------------------------------------------------------------------------------------
  // Writing
  // ------------------------------------------------------------------------------------------

  private void sendError(long requestId, Throwable err, String what) {
    ParleyException pe = ParleyException.from(err);
    String message = pe.getMessage();
    if (pe.code() == ErrorCode.INTERNAL) {
      String ref = Ids.timeOrdered("ref_");
      log.error("{} request failed; reference {}", what, ref, pe.getCause() == null ? pe : pe.getCause());
      message = "internal error (reference " + ref + ")";
    }
    sendError(requestId, pe.code(), message, pe.retryAfterMs());
  }

  private void sendError(long requestId, ErrorCode code, String message, long retryAfterMs) {
    ctx.metrics().error(code);
    respond(
        ServerFrame.newBuilder()
            .setRequestId(requestId)
            .setError(
                io.parley.protocol.v1.Error.newBuilder()
                    .setCode(code)
                    .setMessage(message)
                    .setRetryAfterMs(retryAfterMs))
            .build());
  }

  /** Writes and flushes an answer or control push (not subject to back-pressure). */
  private void respond(ServerFrame frame) {
    sink.writeResponse(frame);
    flushIfNeeded();
  }

  private void writeResyncRequired(String reason) {
    sink.writePush(
        OutboundFrame.of(
            ServerFrame.newBuilder()
                .setResyncRequired(ResyncRequired.newBuilder().setReason(reason))
                .build()),
        0);
  }

  private void flushIfNeeded() {
    if (needsFlush) {
      needsFlush = false;
      channel.flush();
    }
  }

  private void scheduleDrain() {
    if (drainScheduled.compareAndSet(false, true)) {
      try {
        channel.eventLoop().execute(drainTask);
      } catch (RejectedExecutionException e) {
        inbox.clear();
      }
    }
  }

  private void drainInbox() {
    drainScheduled.set(false);
    Object item;
    while ((item = inbox.poll()) != null) {
      inboxSize.decrementAndGet();
      if (state == State.CLOSING) {
        continue;
      }
      if (item instanceof LiveEvents e) {
        live.offerEvents(e.conversationId(), e.events(), e.frame());
      } else {
        live.offerEphemeral((OutboundFrame) item);
      }
    }
    // Events lost to a full queue are newer than everything queued before them.
    if (inboxOverflowed.get()) {
      if (state != State.CLOSING) {
        live.eventsLost("slow consumer: delivery queue full");
      }
      inboxOverflowed.set(false);
    }
    flushIfNeeded();
  }

  // ------------------------------------------------------------------------------------------
  // Closing and scheduling
  // ------------------------------------------------------------------------------------------

  private void closeWith(int code, String reason) {
    if (state == State.CLOSING) {
      return;
    }
    beginClosing();
    if (!channel.isActive()) {
      return;
    }
    channel
        .writeAndFlush(new CloseWebSocketFrame(code, truncateReason(reason)))
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                channel.close();
              }
            });
    // The client should answer with its own close frame; do not wait for it forever.
    schedule(channel::close, CLOSE_HANDSHAKE_TIMEOUT_MS);
  }

  private void beginClosing() {
    state = State.CLOSING;
    cancel(authDeadline);
    cancel(expiryWarning);
    cancel(expiry);
    cancel(keepAlive);
    ctx.registry().unregister(this);
    live.close();
    heldDuringAuth.clear();
  }

  private static String truncateReason(String reason) {
    // A close frame's reason is at most 123 bytes of UTF-8.
    byte[] b = reason.getBytes(StandardCharsets.UTF_8);
    if (b.length <= 123) {
      return reason;
    }
    String s = reason;
    while (s.getBytes(StandardCharsets.UTF_8).length > 120) {
      s = s.substring(0, s.length() - 1);
    }
    return s;
  }

  private ScheduledFuture<?> schedule(Runnable r, long delayMs) {
    return channel.eventLoop().schedule(r, delayMs, TimeUnit.MILLISECONDS);
  }

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }

  private void onLoop(Runnable r) {
    if (channel.eventLoop().inEventLoop()) {
      r.run();
    } else {
      try {
        channel.eventLoop().execute(r);
      } catch (RejectedExecutionException e) {
        // The event loop is shutting down; the connection is going away with it.
      }
    }
  }

  /** Writes on behalf of the {@link LiveStream} and the request path; event loop only. */
  private final class Sink implements LiveStream.Sink {
    /**
     * Writes of one drain are flushed together at its end, so a burst can cross the high water
     * mark before anything reached the socket: flush first, and only a channel that is still
     * unwritable afterwards has a slow consumer behind it.
     */
    @Override
    public boolean isWritable() {
      if (!channel.isWritable() && needsFlush) {
        needsFlush = false;
        channel.flush();
      }
      return channel.isWritable();
    }

    @Override
    public void writePush(OutboundFrame frame, int eventCount) {
      channel.write(frame, channel.voidPromise());
      ctx.metrics().frameOut();
      if (eventCount > 0) {
        ctx.metrics().eventsOut(eventCount);
      }
      needsFlush = true;
    }

    @Override
    public void writeResponse(ServerFrame frame) {
      channel.write(OutboundFrame.of(frame), channel.voidPromise());
      ctx.metrics().frameOut();
      needsFlush = true;
    }

    @Override
    public void resyncRequired(String reason) {
      if (isWritable()) {
        writeResyncRequired(reason);
      } else {
        resyncPending = true;
        resyncReason = reason;
      }
    }
  }
}
