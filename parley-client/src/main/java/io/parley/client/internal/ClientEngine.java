package io.parley.client.internal;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.parley.client.ConnectionState;
import io.parley.client.ParleyClientException;
import io.parley.client.ParleyListener;
import io.parley.client.TokenProvider;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.Authenticated;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationCursor;
import io.parley.protocol.v1.ConversationDelta;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.RefreshToken;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machinery behind {@link io.parley.client.ParleyClient}: connection lifecycle (token,
 * connect, authenticate, reconnect with backoff), request/response matching with timeouts, sync and
 * gap filling through an {@link EventOrderer}, the {@link Outbox}, token refresh and persistence.
 *
 * <p><b>Threading.</b> All mutable state is confined to one Netty event loop (the one the client's
 * connections are registered on), so none of it needs locks. Public entry points hop onto that
 * loop and return at once. Application code (listener, token provider, continuations of returned
 * futures) runs on the {@link CallbackExecutor}, file writes on a separate I/O thread; neither ever
 * runs on the loop.
 */
public final class ClientEngine {
  private static final Logger log = LoggerFactory.getLogger(ClientEngine.class);

  /** Close code with which the server ends a session whose token expired. */
  static final int CLOSE_TOKEN_EXPIRED = 4001;
  /** Close code with which the server ends the sessions of a deactivated user. */
  static final int CLOSE_DEACTIVATED = 4003;

  private static final long STATE_PERSIST_DELAY_MS = 250;
  private static final int MAX_GAP_PAGE = 500;
  private static final int MAX_BUFFERED_PER_CONVERSATION = 10_000;

  /** How a request ended without an answer. */
  private enum Failure {
    SERVER,
    TIMEOUT,
    CONNECTION_LOST,
    CLOSED
  }

  private interface ResponseHandler {
    void onFrame(ServerFrame frame);

    void onFailure(ParleyClientException error, Failure kind);
  }

  private static final class Pending {
    final ClientFrame.Builder frame;
    final ResponseHandler handler;
    final boolean needsAuth;
    final boolean retryOnReconnect;
    long requestId;
    ScheduledFuture<?> timer;

    Pending(
        ClientFrame.Builder frame,
        ResponseHandler handler,
        boolean needsAuth,
        boolean retryOnReconnect) {
      this.frame = frame;
      this.handler = handler;
      this.needsAuth = needsAuth;
      this.retryOnReconnect = retryOnReconnect;
    }
  }

  private final ClientConfig cfg;
  private final ParleyListener listener;
  private final EventLoopGroup group;
  private final boolean ownsGroup;
  private final EventLoop loop;
  private final CallbackExecutor callbacks;
  private final ExecutorService io;
  private final StateStore store;
  private final SslContext sslContext;
  private final FullJitterBackoff backoff;
  private final EventOrderer orderer = new EventOrderer(MAX_BUFFERED_PER_CONVERSATION);
  private final Outbox outbox = new Outbox();
  private final Set<String> channels = new HashSet<>();
  private final Map<Long, Pending> inFlight = new HashMap<>();
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  private final List<SendMessage> earlySends = new ArrayList<>();
  private final List<CompletableFuture<SendResult>> earlySendFutures = new ArrayList<>();
  private final List<CompletableFuture<Void>> refreshWaiters = new ArrayList<>();
  private final Map<String, ClientFrame> sessionRequests = new LinkedHashMap<>();
  private final CompletableFuture<Void> connectFuture = new CompletableFuture<>();
  private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();

  private volatile ConnectionState state = ConnectionState.NEW;
  private volatile String userId;
  private volatile String deviceId;
  private volatile int pendingSends;

  // Everything below is confined to the loop.
  private long nextRequestId = 1;
  private boolean started;
  private boolean ready;
  private boolean closing;
  private boolean everConnected;
  private Connection conn;
  private String token;
  private boolean authenticated;
  private int generation;
  private int failedAttempts;
  private long goAwayDelayMs = -1;
  private long retryHintMs;
  private TokenProvider.Reason tokenReason = TokenProvider.Reason.CONNECT;
  private long clockOffsetMs;
  private boolean refreshing;
  private long refreshedExpiresAtMs;
  private ScheduledFuture<?> reconnectTimer;
  private ScheduledFuture<?> refreshTimer;
  private ScheduledFuture<?> outboxTimer;
  private long outboxTimerAtMs = Long.MAX_VALUE;
  private ScheduledFuture<?> stateTimer;
  private ScheduledFuture<?> resyncTimer;
  private boolean outboxWriteInFlight;
  private boolean outboxDirty;
  private String syncCursor = "";
  private boolean syncing;
  private boolean resyncRequested;
  private boolean cursorResetTried;

  public ClientEngine(ClientConfig cfg) {
    this.cfg = cfg;
    this.listener = cfg.listener();
    String id = Integer.toHexString(System.identityHashCode(this));
    if (cfg.eventLoopGroup() != null) {
      this.group = cfg.eventLoopGroup();
      this.ownsGroup = false;
    } else {
      this.group =
          new MultiThreadIoEventLoopGroup(
              1, new DefaultThreadFactory("parley-client-net-" + id, true), NioIoHandler.newFactory());
      this.ownsGroup = true;
    }
    this.loop = group.next();
    this.callbacks = new CallbackExecutor("parley-client-callbacks-" + id);
    this.backoff = new FullJitterBackoff(cfg.backoffBaseMs(), cfg.backoffCapMs(), new SecureRandom());
    this.sslContext = sslContext(cfg);
    this.deviceId = cfg.deviceId();
    if (cfg.stateDirectory() != null) {
      this.store = new StateStore(cfg.stateDirectory());
      this.io =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "parley-client-io-" + id);
                t.setDaemon(true);
                return t;
              });
      io.execute(this::loadState);
    } else {
      this.store = null;
      this.io = null;
      ready = true;
    }
  }

  private static SslContext sslContext(ClientConfig cfg) {
    if (!"wss".equalsIgnoreCase(cfg.uri().getScheme())) {
      return null;
    }
    if (cfg.sslContext() != null) {
      return cfg.sslContext();
    }
    try {
      return SslContextBuilder.forClient().build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot create the default TLS context", e);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Public entry points (any thread)
  // ------------------------------------------------------------------------------------------

  public ConnectionState state() {
    return state;
  }

  public String userId() {
    return userId;
  }

  public String deviceId() {
    return deviceId;
  }

  public int pendingSendCount() {
    return pendingSends;
  }

  public CompletableFuture<Void> connect() {
    onLoop(
        () -> {
          if (closing || started) {
            return;
          }
          started = true;
          setState(ConnectionState.CONNECTING);
          startAttempt();
        },
        connectFuture);
    return connectFuture;
  }

  public CompletableFuture<Void> closeAsync() {
    onLoop(() -> beginClose(null), closeFuture);
    return closeFuture;
  }

  /**
   * Sends a request and completes the returned future, on the callback thread, with {@code
   * extract} applied to the answer. Requests made while disconnected wait for the connection
   * (within the request timeout).
   *
   * @param idempotent whether the request may be sent again after the connection was lost
   */
  public <T> CompletableFuture<T> call(
      ClientFrame.Builder frame, boolean idempotent, Function<ServerFrame, T> extract) {
    CompletableFuture<T> out = new CompletableFuture<>();
    onLoop(
        () ->
            request(
                frame,
                true,
                idempotent,
                new ResponseHandler() {
                  @Override
                  public void onFrame(ServerFrame f) {
                    callbacks.execute(
                        () -> {
                          T value;
                          try {
                            value = extract.apply(f);
                          } catch (RuntimeException e) {
                            out.completeExceptionally(e);
                            return;
                          }
                          out.complete(value);
                        });
                  }

                  @Override
                  public void onFailure(ParleyClientException error, Failure kind) {
                    callbacks.fail(out, error);
                  }
                }),
        out);
    return out;
  }

  /**
   * Like {@link #call}, for a request whose effect belongs to the session (presence status,
   * presence subscription): the client remembers the latest request of each {@code key} and sends
   * it again after every reconnect, so the new session has the same state.
   */
  public <T> CompletableFuture<T> callSessionScoped(
      String key, ClientFrame.Builder frame, Function<ServerFrame, T> extract) {
    ClientFrame remembered = frame.clone().build();
    onLoop(() -> sessionRequests.put(key, remembered));
    return call(frame, true, extract);
  }

  /**
   * Notes the kind of conversations the application fetched (so channels get their sync cursor
   * even before a sync reported them). Any thread.
   */
  public void observe(List<Conversation> conversations) {
    List<String> found = new ArrayList<>();
    for (Conversation c : conversations) {
      if (c.getKind() == ConversationKind.CONVERSATION_KIND_CHANNEL && !c.getId().isEmpty()) {
        found.add(c.getId());
      }
    }
    if (!found.isEmpty()) {
      onLoop(() -> channels.addAll(found));
    }
  }

  /** Queues a message in the outbox; the future completes when the server acknowledged it. */
  public CompletableFuture<SendResult> send(SendMessage message) {
    CompletableFuture<SendResult> out = new CompletableFuture<>();
    onLoop(() -> enqueueSend(message, out), out);
    return out;
  }

  /** Asks the token provider for a fresh token now and sends it to the server. */
  public CompletableFuture<Void> refreshToken() {
    CompletableFuture<Void> out = new CompletableFuture<>();
    onLoop(
        () -> {
          if (!authenticated) {
            callbacks.fail(out, new ParleyClientException(ErrorCode.UNAVAILABLE, "not connected", 0));
            return;
          }
          refreshWaiters.add(out);
          refresh();
        },
        out);
    return out;
  }

  private void onLoop(Runnable task, CompletableFuture<?> failOnReject) {
    try {
      loop.execute(task);
    } catch (RejectedExecutionException e) {
      failOnReject.completeExceptionally(closedError());
    }
  }

  private void onLoop(Runnable task) {
    try {
      loop.execute(task);
    } catch (RejectedExecutionException e) {
      log.debug("task dropped: the client is closed");
    }
  }

  private static ParleyClientException closedError() {
    return new ParleyClientException(ErrorCode.UNAVAILABLE, "the client is closed", 0);
  }

  // ------------------------------------------------------------------------------------------
  // State directory
  // ------------------------------------------------------------------------------------------

  private void loadState() {
    StateStore.Loaded loaded;
    try {
      loaded = store.open();
    } catch (IOException e) {
      ParleyClientException error =
          new ParleyClientException(
              ErrorCode.INTERNAL, "cannot use the state directory: " + e.getMessage(), 0, e);
      onLoop(() -> beginClose(error));
      return;
    }
    onLoop(() -> applyLoaded(loaded));
  }

  private void applyLoaded(StateStore.Loaded loaded) {
    for (String problem : loaded.problems()) {
      reportError(new ParleyClientException(ErrorCode.INTERNAL, problem, 0));
    }
    if (closing) {
      return;
    }
    PersistedState s = loaded.state();
    if (deviceId == null && !s.deviceId().isEmpty()) {
      deviceId = s.deviceId();
    }
    syncCursor = s.syncCursor();
    s.positions().forEach(orderer::track);
    orderer.takeChanged();
    channels.addAll(s.channels());
    // Restored messages are older than anything sent while loading, so they go first.
    for (SendMessage m : loaded.outbox()) {
      outbox.add(m, null, true);
    }
    for (int i = 0; i < earlySends.size(); i++) {
      outbox.add(earlySends.get(i), earlySendFutures.get(i), false);
    }
    boolean hadEarly = !earlySends.isEmpty();
    earlySends.clear();
    earlySendFutures.clear();
    pendingSends = outbox.size();
    ready = true;
    if (hadEarly) {
      persistOutbox();
    }
    if (started) {
      startAttempt();
    }
  }

  private void markStateDirty() {
    if (store == null || !ready || closing || stateTimer != null) {
      return;
    }
    stateTimer = loop.schedule(this::persistState, STATE_PERSIST_DELAY_MS, TimeUnit.MILLISECONDS);
  }

  private void persistState() {
    stateTimer = null;
    if (closing) {
      return; // the close writes the final state itself
    }
    PersistedState snapshot = snapshotState();
    onIo(
        () -> {
          try {
            store.saveState(snapshot);
          } catch (IOException e) {
            reportError(persistError("state", e));
          }
        });
  }

  private PersistedState snapshotState() {
    orderer.takeChanged();
    Map<String, Long> positions = orderer.snapshot();
    Set<String> knownChannels = new HashSet<>(channels);
    knownChannels.retainAll(positions.keySet());
    return new PersistedState(
        deviceId == null ? "" : deviceId, syncCursor, positions, knownChannels);
  }

  /** Writes the outbox; messages become sendable once written (at most one write in flight). */
  private void persistOutbox() {
    pendingSends = outbox.size();
    if (store == null || !ready || closing) {
      return;
    }
    if (outboxWriteInFlight) {
      outboxDirty = true;
      return;
    }
    outboxWriteInFlight = true;
    List<SendMessage> snapshot = outbox.messages();
    onIo(
        () -> {
          try {
            store.saveOutbox(snapshot);
          } catch (IOException e) {
            // Sending anyway is better than holding messages back because the disk is full.
            reportError(persistError("outbox", e));
          }
          onLoop(
              () -> {
                outboxWriteInFlight = false;
                List<String> ids = new ArrayList<>(snapshot.size());
                for (SendMessage m : snapshot) {
                  ids.add(m.getClientMsgId());
                }
                outbox.markDurable(ids);
                if (outboxDirty && !closing) {
                  outboxDirty = false;
                  persistOutbox();
                }
                pumpOutbox();
              });
        });
  }

  private void onIo(Runnable task) {
    try {
      io.execute(task);
    } catch (RejectedExecutionException e) {
      log.debug("state write dropped: the client is closed");
    }
  }

  private static ParleyClientException persistError(String what, IOException e) {
    return new ParleyClientException(
        ErrorCode.INTERNAL, "could not persist the " + what + ": " + e.getMessage(), 0, e);
  }

  // ------------------------------------------------------------------------------------------
  // Connection lifecycle
  // ------------------------------------------------------------------------------------------

  private void setState(ConnectionState next) {
    if (state == next) {
      return;
    }
    state = next;
    callbacks.execute(() -> listener.onConnectionStateChanged(next));
  }

  private void startAttempt() {
    reconnectTimer = null;
    if (closing || !ready || !started || conn != null) {
      return;
    }
    int gen = ++generation;
    TokenProvider.Reason reason = tokenReason;
    askTokenProvider(reason, (t, e) -> onToken(gen, t, e));
  }

  private void onToken(int gen, String newToken, Throwable error) {
    if (closing || gen != generation || conn != null) {
      return;
    }
    if (error != null || newToken == null || newToken.isEmpty()) {
      reportError(
          new ParleyClientException(
              ErrorCode.UNAUTHENTICATED,
              "the token provider failed: " + (error == null ? "empty token" : error),
              0,
              error));
      scheduleReconnect();
      return;
    }
    token = newToken;
    conn =
        Connection.open(
            loop,
            new Connection.Settings(
                cfg.uri(),
                cfg.subprotocol(),
                sslContext,
                cfg.maxFrameBytes(),
                cfg.connectTimeoutMs(),
                cfg.requestTimeoutMs(),
                cfg.pingIntervalMs()),
            connectionHandler);
  }

  private final Connection.Handler connectionHandler =
      new Connection.Handler() {
        @Override
        public void onOpen(Connection c) {
          if (c == conn) {
            authenticate(c);
          }
        }

        @Override
        public void onFrame(Connection c, ServerFrame frame) {
          if (c == conn) {
            handleFrame(frame);
          }
        }

        @Override
        public void onIdle(Connection c) {
          if (c == conn && authenticated) {
            keepAlive(c);
          }
        }

        @Override
        public void onClosed(Connection c, int code, String reason, Throwable cause) {
          if (c == conn) {
            connectionClosed(code, reason, cause);
          }
        }
      };

  private void authenticate(Connection c) {
    // sync_first: the engine always syncs right after authenticating, so the server may hold live
    // events back until that sync completes; the application then never sees a live event ahead of
    // the events it missed, and the orderer has no gap to fill on every reconnect.
    Authenticate.Builder auth =
        Authenticate.newBuilder()
            .setToken(token)
            .setClient(cfg.clientName())
            .setSyncFirst(true);
    if (deviceId != null) {
      auth.setDeviceId(deviceId);
    }
    request(
        ClientFrame.newBuilder().setAuthenticate(auth),
        false,
        false,
        new ResponseHandler() {
          @Override
          public void onFrame(ServerFrame f) {
            if (c != conn) {
              return;
            }
            if (!f.hasAuthenticated()) {
              reportError(unexpected(f, "Authenticate"));
              c.close(1002, "unexpected answer");
              return;
            }
            authenticated(f.getAuthenticated());
          }

          @Override
          public void onFailure(ParleyClientException error, Failure kind) {
            if (c != conn || kind == Failure.CONNECTION_LOST || kind == Failure.CLOSED) {
              return;
            }
            if (error.code() == ErrorCode.USER_DEACTIVATED) {
              beginClose(error);
              return;
            }
            if (error.code() == ErrorCode.UNAUTHENTICATED
                || error.code() == ErrorCode.TOKEN_EXPIRED) {
              tokenReason = TokenProvider.Reason.REJECTED;
            }
            retryHintMs = error.retryAfterMs();
            reportError(error);
            c.close(1000, "authentication failed");
          }
        });
  }

  private void authenticated(Authenticated a) {
    boolean everConnectedBefore = everConnected;
    authenticated = true;
    everConnected = true;
    failedAttempts = 0;
    tokenReason = TokenProvider.Reason.CONNECT;
    userId = a.getUserId();
    if (!a.getDeviceId().isEmpty() && !a.getDeviceId().equals(deviceId)) {
      deviceId = a.getDeviceId();
      markStateDirty();
    }
    if (a.getServerTimeMs() > 0) {
      clockOffsetMs = a.getServerTimeMs() - System.currentTimeMillis();
    }
    scheduleRefresh(a.getExpiresAtMs());
    setState(ConnectionState.CONNECTED);
    if (!connectFuture.isDone()) {
      callbacks.complete(connectFuture, null);
    }
    List<Pending> queued = new ArrayList<>(waiting);
    waiting.clear();
    if (everConnectedBefore) {
      restoreSession();
    }
    for (Pending p : queued) {
      transmit(p);
    }
    pumpOutbox();
    startSync();
  }

  /** Re-applies the session-scoped requests of the previous session to the new one. */
  private void restoreSession() {
    for (ClientFrame remembered : sessionRequests.values()) {
      request(
          remembered.toBuilder(),
          true,
          false,
          new ResponseHandler() {
            @Override
            public void onFrame(ServerFrame frame) {}

            @Override
            public void onFailure(ParleyClientException error, Failure kind) {
              if (kind == Failure.SERVER) {
                reportError(error);
              }
            }
          });
    }
  }

  private void connectionClosed(int code, String reason, Throwable cause) {
    log.debug("connection closed: code={} reason={} cause={}", code, reason, String.valueOf(cause));
    conn = null;
    authenticated = false;
    refreshing = false;
    cancel(refreshTimer);
    refreshTimer = null;
    cancel(resyncTimer);
    resyncTimer = null;
    syncing = false;
    resyncRequested = false;
    orderer.resetFetches();
    outbox.connectionLost();
    failInFlight();
    failRefreshWaiters(new ParleyClientException(ErrorCode.UNAVAILABLE, "connection lost", 0));
    if (closing) {
      return;
    }
    if (code == CLOSE_DEACTIVATED) {
      beginClose(
          new ParleyClientException(
              ErrorCode.USER_DEACTIVATED, "the user was deactivated" + suffix(reason), 0));
      return;
    }
    if (code == CLOSE_TOKEN_EXPIRED) {
      tokenReason = TokenProvider.Reason.REJECTED;
    }
    setState(everConnected ? ConnectionState.RECONNECTING : ConnectionState.CONNECTING);
    scheduleReconnect();
  }

  private static String suffix(String reason) {
    return reason == null || reason.isEmpty() ? "" : ": " + reason;
  }

  private void scheduleReconnect() {
    if (closing || reconnectTimer != null) {
      return;
    }
    long delay;
    if (goAwayDelayMs >= 0) {
      delay = goAwayDelayMs;
      goAwayDelayMs = -1;
    } else {
      delay = Math.max(backoff.delayMs(Math.min(failedAttempts, 30)), retryHintMs);
      failedAttempts++;
    }
    retryHintMs = 0;
    reconnectTimer = loop.schedule(this::startAttempt, delay, TimeUnit.MILLISECONDS);
  }

  private void keepAlive(Connection c) {
    request(
        ClientFrame.newBuilder()
            .setPing(Ping.newBuilder().setClientTimeMs(System.currentTimeMillis())),
        true,
        false,
        new ResponseHandler() {
          @Override
          public void onFrame(ServerFrame frame) {}

          @Override
          public void onFailure(ParleyClientException error, Failure kind) {
            if (kind == Failure.TIMEOUT && c == conn) {
              // No answer within the timeout: the connection is dead even if TCP has not noticed.
              c.close(1001, "ping timeout");
            }
          }
        });
  }

  private void beginClose(ParleyClientException terminal) {
    if (closing) {
      return;
    }
    closing = true;
    cancel(reconnectTimer);
    cancel(refreshTimer);
    cancel(outboxTimer);
    cancel(stateTimer);
    cancel(resyncTimer);
    ParleyClientException error = terminal != null ? terminal : closedError();
    Connection c = conn;
    conn = null;
    authenticated = false;
    if (c != null) {
      c.close(1000, "client closed");
    }
    setState(ConnectionState.CLOSED);
    failInFlight();
    for (Pending p : waiting) {
      cancel(p.timer);
      p.handler.onFailure(error, Failure.CLOSED);
    }
    waiting.clear();
    failRefreshWaiters(error);
    if (!connectFuture.isDone()) {
      callbacks.fail(connectFuture, error);
    }
    PersistedState finalState = ready && store != null ? snapshotState() : null;
    List<SendMessage> finalOutbox = ready && store != null ? outbox.messages() : null;
    ParleyClientException sendError =
        new ParleyClientException(
            error.code(),
            store != null
                ? error.getMessage() + "; the message stays in the outbox and is sent after restart"
                : error.getMessage() + " before the message was sent",
            0);
    for (Outbox.Entry e : outbox.drain()) {
      for (CompletableFuture<SendResult> f : e.futures()) {
        callbacks.fail(f, sendError);
      }
    }
    ParleyClientException earlyError =
        new ParleyClientException(error.code(), error.getMessage() + " before the message was sent", 0);
    for (CompletableFuture<SendResult> f : earlySendFutures) {
      callbacks.fail(f, earlyError);
    }
    if (terminal != null) {
      reportError(terminal);
    }
    if (store != null) {
      io.execute(
          () -> {
            try {
              if (finalState != null) {
                store.saveState(finalState);
                store.saveOutbox(finalOutbox);
              }
            } catch (IOException e) {
              log.warn("could not persist the client state on close", e);
            }
            try {
              store.close();
            } catch (IOException e) {
              log.warn("could not release the state directory", e);
            }
            callbacks.execute(this::finishClose);
          });
    } else {
      callbacks.execute(this::finishClose);
    }
  }

  /** Runs last on the callback thread: everything the client owed the application has run. */
  private void finishClose() {
    callbacks.shutdown();
    if (io != null) {
      io.shutdown();
    }
    if (ownsGroup) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(f -> closeFuture.complete(null));
    } else {
      closeFuture.complete(null);
    }
  }

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }

  private void reportError(ParleyClientException error) {
    callbacks.execute(() -> listener.onError(error));
  }

  // ------------------------------------------------------------------------------------------
  // Requests
  // ------------------------------------------------------------------------------------------

  private void request(
      ClientFrame.Builder frame, boolean needsAuth, boolean retryOnReconnect, ResponseHandler h) {
    if (closing) {
      h.onFailure(closedError(), Failure.CLOSED);
      return;
    }
    Pending p = new Pending(frame, h, needsAuth, retryOnReconnect);
    p.timer =
        loop.schedule(() -> timedOut(p), cfg.requestTimeoutMs(), TimeUnit.MILLISECONDS);
    if (needsAuth && !authenticated) {
      waiting.add(p);
    } else {
      transmit(p);
    }
  }

  private void transmit(Pending p) {
    if (conn == null) {
      waiting.add(p);
      return;
    }
    p.requestId = nextRequestId++;
    inFlight.put(p.requestId, p);
    conn.send(p.frame.setRequestId(p.requestId).build());
  }

  private void timedOut(Pending p) {
    if ((p.requestId != 0 && inFlight.remove(p.requestId, p)) || waiting.remove(p)) {
      p.handler.onFailure(
          new ParleyClientException(
              ErrorCode.UNAVAILABLE,
              (authenticated ? "no answer within " : "not connected within ")
                  + cfg.requestTimeoutMs()
                  + " ms",
              0),
          Failure.TIMEOUT);
    }
  }

  private void failInFlight() {
    List<Pending> lost = new ArrayList<>(inFlight.values());
    inFlight.clear();
    lost.sort((a, b) -> Long.compare(a.requestId, b.requestId));
    ParleyClientException error =
        new ParleyClientException(
            ErrorCode.UNAVAILABLE, closing ? "the client is closed" : "connection lost", 0);
    for (Pending p : lost) {
      if (p.retryOnReconnect && !closing) {
        p.requestId = 0;
        p.frame.clearRequestId();
        waiting.add(p);
      } else {
        cancel(p.timer);
        p.handler.onFailure(error, closing ? Failure.CLOSED : Failure.CONNECTION_LOST);
      }
    }
  }

  private void handleFrame(ServerFrame frame) {
    if (frame.getRequestId() != 0) {
      Pending p = inFlight.remove(frame.getRequestId());
      if (p == null) {
        return; // the answer to a request that already timed out
      }
      cancel(p.timer);
      if (frame.hasError()) {
        p.handler.onFailure(toException(frame.getError()), Failure.SERVER);
      } else {
        p.handler.onFrame(frame);
      }
      return;
    }
    switch (frame.getPayloadCase()) {
      case EVENT -> liveEvents(List.of(frame.getEvent()));
      case EVENT_BATCH -> liveEvents(frame.getEventBatch().getEventsList());
      case TYPING -> {
        var n = frame.getTyping();
        callbacks.execute(() -> listener.onTyping(n));
      }
      case PRESENCE -> {
        var n = frame.getPresence();
        callbacks.execute(() -> listener.onPresence(n));
      }
      case RECEIPT -> {
        var n = frame.getReceipt();
        callbacks.execute(() -> listener.onReceipt(n));
      }
      case RESYNC_REQUIRED -> startSync();
      case GO_AWAY -> {
        goAwayDelayMs = frame.getGoAway().getReconnectAfterMs();
        if (conn != null) {
          conn.close(1001, "going away");
        }
      }
      case SESSION_EXPIRING -> {
        // A warning about the expiry our own refresh just obtained is already covered by the
        // refresh timer (servers warn at once when a token lives shorter than their warning).
        if (frame.getSessionExpiring().getExpiresAtMs() != refreshedExpiresAtMs) {
          refresh();
        }
      }
      case ERROR -> reportError(toException(frame.getError()));
      default -> log.debug("ignoring push {}", frame.getPayloadCase());
    }
  }

  static ParleyClientException toException(io.parley.protocol.v1.Error e) {
    ErrorCode code = e.getCode() == ErrorCode.UNRECOGNIZED ? ErrorCode.INTERNAL : e.getCode();
    String message = e.getMessage().isEmpty() ? code.name() : e.getMessage();
    return new ParleyClientException(code, message, e.getRetryAfterMs());
  }

  static ParleyClientException unexpected(ServerFrame f, String request) {
    return new ParleyClientException(
        ErrorCode.INTERNAL, "unexpected answer " + f.getPayloadCase() + " to " + request, 0);
  }

  // ------------------------------------------------------------------------------------------
  // Token refresh
  // ------------------------------------------------------------------------------------------

  private void scheduleRefresh(long expiresAtMs) {
    cancel(refreshTimer);
    refreshTimer = null;
    if (expiresAtMs <= 0 || expiresAtMs == Long.MAX_VALUE) {
      return;
    }
    long remaining = expiresAtMs - (System.currentTimeMillis() + clockOffsetMs);
    long lead = Math.max(1_000, Math.min(60_000, remaining / 5));
    long delay = Math.max(0, remaining - lead);
    refreshTimer = loop.schedule(this::refresh, delay, TimeUnit.MILLISECONDS);
  }

  private void refresh() {
    if (!authenticated || refreshing) {
      return;
    }
    refreshing = true;
    Connection c = conn;
    askTokenProvider(TokenProvider.Reason.REFRESH, (t, e) -> sendRefresh(c, t, e));
  }

  /**
   * Asks the application's token provider on the callback executor (it is application code and
   * may block) and hands the outcome back to the engine's loop; a provider that throws or returns
   * null counts as a failed token.
   */
  private void askTokenProvider(
      TokenProvider.Reason reason, BiConsumer<String, Throwable> onLoopResult) {
    callbacks.execute(
        () -> {
          CompletableFuture<String> f;
          try {
            f = cfg.tokenProvider().token(reason);
          } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
          }
          if (f == null) {
            f = CompletableFuture.failedFuture(new NullPointerException("token provider returned null"));
          }
          f.whenComplete((t, e) -> onLoop(() -> onLoopResult.accept(t, e)));
        });
  }

  private void sendRefresh(Connection c, String newToken, Throwable error) {
    if (c != conn) {
      return;
    }
    if (error != null || newToken == null || newToken.isEmpty()) {
      refreshing = false;
      ParleyClientException e =
          new ParleyClientException(
              ErrorCode.UNAUTHENTICATED,
              "the token provider failed: " + (error == null ? "empty token" : error),
              0,
              error);
      reportError(e);
      failRefreshWaiters(e);
      return;
    }
    request(
        ClientFrame.newBuilder().setRefreshToken(RefreshToken.newBuilder().setToken(newToken)),
        true,
        false,
        new ResponseHandler() {
          @Override
          public void onFrame(ServerFrame f) {
            if (c != conn) {
              return;
            }
            refreshing = false;
            token = newToken;
            refreshedExpiresAtMs = f.getTokenRefreshed().getExpiresAtMs();
            scheduleRefresh(refreshedExpiresAtMs);
            List<CompletableFuture<Void>> waiters = new ArrayList<>(refreshWaiters);
            refreshWaiters.clear();
            for (CompletableFuture<Void> w : waiters) {
              callbacks.complete(w, null);
            }
          }

          @Override
          public void onFailure(ParleyClientException e, Failure kind) {
            if (c != conn) {
              return;
            }
            refreshing = false;
            if (kind == Failure.SERVER) {
              reportError(e);
            }
            failRefreshWaiters(e);
          }
        });
  }

  private void failRefreshWaiters(ParleyClientException e) {
    List<CompletableFuture<Void>> waiters = new ArrayList<>(refreshWaiters);
    refreshWaiters.clear();
    for (CompletableFuture<Void> w : waiters) {
      callbacks.fail(w, e);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sync, live events, gap filling
  // ------------------------------------------------------------------------------------------

  private void startSync() {
    if (!authenticated || closing) {
      return;
    }
    if (syncing) {
      resyncRequested = true;
      return;
    }
    syncing = true;
    requestSyncPage(conn);
  }

  private void requestSyncPage(Connection c) {
    Sync.Builder sync = Sync.newBuilder().setCursor(syncCursor).setLimit(cfg.syncPageLimit());
    Set<String> cursorsSent = new HashSet<>();
    for (String channel : channels) {
      orderer
          .lastDelivered(channel)
          .ifPresent(
              seq -> {
                cursorsSent.add(channel);
                sync.addChannelCursors(
                    ConversationCursor.newBuilder().setConversationId(channel).setSeq(seq));
              });
    }
    request(
        ClientFrame.newBuilder().setSync(sync),
        true,
        false,
        new ResponseHandler() {
          @Override
          public void onFrame(ServerFrame f) {
            if (c != conn) {
              return;
            }
            if (!f.hasSyncResult()) {
              syncing = false;
              reportError(unexpected(f, "Sync"));
              return;
            }
            applySync(f.getSyncResult(), cursorsSent);
            if (f.getSyncResult().getComplete()) {
              finishSync();
            } else {
              requestSyncPage(c);
            }
          }

          @Override
          public void onFailure(ParleyClientException e, Failure kind) {
            if (c != conn || kind == Failure.CONNECTION_LOST || kind == Failure.CLOSED) {
              return;
            }
            syncing = false;
            reportError(e);
            if (kind == Failure.SERVER
                && e.code() == ErrorCode.BAD_REQUEST
                && !syncCursor.isEmpty()
                && !cursorResetTried) {
              // The server no longer understands the cursor (e.g. its data was reset): start over.
              cursorResetTried = true;
              syncCursor = "";
              markStateDirty();
              startSync();
            } else if (kind == Failure.TIMEOUT || e.isRetryable()) {
              scheduleResync(e.retryAfterMs());
            }
          }
        });
  }

  private void scheduleResync(long hintMs) {
    if (resyncTimer != null || closing) {
      return;
    }
    long delay = Math.max(hintMs, backoff.delayMs(3));
    resyncTimer =
        loop.schedule(
            () -> {
              resyncTimer = null;
              startSync();
            },
            delay,
            TimeUnit.MILLISECONDS);
  }

  private void applySync(SyncResult result, Set<String> cursorsSent) {
    for (ConversationDelta delta : result.getDeltasList()) {
      String id =
          delta.hasConversation()
              ? delta.getConversation().getId()
              : delta.getEventsCount() > 0 ? delta.getEvents(0).getConversationId() : "";
      if (id.isEmpty()) {
        continue;
      }
      if (delta.getRemoved()) {
        deliver(orderer.offerAll(delta.getEventsList()));
        forgetConversation(id);
        callbacks.execute(() -> listener.onConversationRemoved(id));
        continue;
      }
      if (delta.hasConversation()) {
        Conversation conversation = delta.getConversation();
        if (conversation.getKind() == ConversationKind.CONVERSATION_KIND_CHANNEL) {
          channels.add(id);
          if (!cursorsSent.contains(id)) {
            // A channel's posts reach the device only through its cursor: sync once more with it.
            resyncRequested = true;
          }
        }
        if (delta.getEventsCount() == 0) {
          // A conversation new to this device starts at its head; older events are history.
          orderer.track(id, conversation.getLastSeq());
        }
        callbacks.execute(() -> listener.onConversation(conversation));
      }
      deliver(orderer.offerAll(delta.getEventsList()));
    }
    if (!result.getCursor().isEmpty()) {
      syncCursor = result.getCursor();
    }
    markStateDirty();
  }

  private void finishSync() {
    syncing = false;
    cursorResetTried = false;
    callbacks.execute(listener::onSynced);
    fetchGaps();
    if (resyncRequested) {
      resyncRequested = false;
      startSync();
    }
  }

  private void liveEvents(List<Event> events) {
    for (Event e : events) {
      if (e.hasConversationCreated()
          && e.getConversationCreated().getKind() == ConversationKind.CONVERSATION_KIND_CHANNEL) {
        channels.add(e.getConversationId());
      }
    }
    deliver(orderer.offerAll(events));
    if (!syncing) {
      // During a sync, a hole is most likely filled by the next page; look only afterwards.
      fetchGaps();
    }
  }

  private void deliver(List<Event> events) {
    if (events.isEmpty()) {
      return;
    }
    for (Event e : events) {
      callbacks.execute(() -> listener.onEvent(e));
      if (e.hasMemberLeft() && e.getMemberLeft().getUserId().equals(userId)) {
        // No further events reach this user; if they rejoin, tracking restarts at that point.
        forgetConversation(e.getConversationId());
      }
    }
    markStateDirty();
  }

  private void forgetConversation(String id) {
    orderer.forget(id);
    channels.remove(id);
    markStateDirty();
  }

  private void fetchGaps() {
    if (!authenticated) {
      return;
    }
    Connection c = conn;
    for (EventOrderer.Gap gap : orderer.takeGaps()) {
      request(
          ClientFrame.newBuilder()
              .setGetHistory(
                  GetHistory.newBuilder()
                      .setConversationId(gap.conversationId())
                      .setFromSeq(gap.afterSeq())
                      .setDirection(Direction.DIRECTION_FORWARD)
                      .setLimit((int) Math.min(MAX_GAP_PAGE, gap.size()))),
          true,
          false,
          new ResponseHandler() {
            @Override
            public void onFrame(ServerFrame f) {
              if (c != conn) {
                return;
              }
              deliver(orderer.fill(gap, f.getHistory().getEventsList()));
              fetchGaps();
            }

            @Override
            public void onFailure(ParleyClientException e, Failure kind) {
              if (c != conn || kind == Failure.CONNECTION_LOST || kind == Failure.CLOSED) {
                return;
              }
              if (kind == Failure.SERVER && e.code() == ErrorCode.NOT_FOUND) {
                forgetConversation(gap.conversationId());
                return;
              }
              orderer.fillFailed(gap.conversationId());
              // A sync from the cursor also returns the missing events.
              scheduleResync(e.retryAfterMs());
            }
          });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Outbox
  // ------------------------------------------------------------------------------------------

  private void enqueueSend(SendMessage message, CompletableFuture<SendResult> future) {
    if (closing) {
      callbacks.fail(future, closedError());
      return;
    }
    if (!ready) {
      earlySends.add(message);
      earlySendFutures.add(future);
      pendingSends = earlySends.size();
      return;
    }
    boolean added = outbox.add(message, future, store == null);
    if (added) {
      persistOutbox();
    }
    pumpOutbox();
  }

  private void pumpOutbox() {
    pendingSends = outbox.size();
    if (!authenticated || closing) {
      return;
    }
    long now = nowMs();
    for (Outbox.Entry e : outbox.takeSendable(now)) {
      transmitSend(e);
    }
    long next = outbox.nextRetryAtMs(now);
    if (next != Long.MAX_VALUE && next < outboxTimerAtMs) {
      cancel(outboxTimer);
      outboxTimerAtMs = next;
      outboxTimer =
          loop.schedule(
              () -> {
                outboxTimer = null;
                outboxTimerAtMs = Long.MAX_VALUE;
                pumpOutbox();
              },
              Math.max(0, next - now),
              TimeUnit.MILLISECONDS);
    }
  }

  private void transmitSend(Outbox.Entry entry) {
    String id = entry.clientMsgId();
    request(
        ClientFrame.newBuilder().setSendMessage(entry.message()),
        true,
        false,
        new ResponseHandler() {
          @Override
          public void onFrame(ServerFrame f) {
            if (!f.hasSendResult()) {
              rejected(id, unexpected(f, "SendMessage"));
              return;
            }
            Outbox.Entry done = outbox.acknowledge(id);
            if (done != null) {
              SendResult result = f.getSendResult();
              for (CompletableFuture<SendResult> future : done.futures()) {
                callbacks.complete(future, result);
              }
              callbacks.execute(() -> listener.onSendCompleted(done.message(), result));
              persistOutbox();
            }
            pumpOutbox();
          }

          @Override
          public void onFailure(ParleyClientException e, Failure kind) {
            switch (kind) {
              case CONNECTION_LOST, CLOSED -> {
                // Kept in the outbox; sent again on the next connection.
              }
              case TIMEOUT -> {
                outbox.retryAt(id, nowMs());
                pumpOutbox();
              }
              case SERVER -> {
                if (e.isRetryable()
                    || e.code() == ErrorCode.UNAUTHENTICATED
                    || e.code() == ErrorCode.TOKEN_EXPIRED) {
                  long delay =
                      e.retryAfterMs() > 0
                          ? e.retryAfterMs()
                          : backoff.delayMs(Math.min(entry.attempts(), 10));
                  outbox.retryAt(id, nowMs() + delay);
                  pumpOutbox();
                } else {
                  rejected(id, e);
                }
              }
            }
          }
        });
  }

  private void rejected(String clientMsgId, ParleyClientException e) {
    Outbox.Entry done = outbox.reject(clientMsgId);
    if (done != null) {
      for (CompletableFuture<SendResult> future : done.futures()) {
        callbacks.fail(future, e);
      }
      callbacks.execute(() -> listener.onSendFailed(done.message(), e));
      persistOutbox();
    }
    pumpOutbox();
  }

  private static long nowMs() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
  }
}
