package io.parley.client.fake;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.parley.client.Subprotocol;
import io.parley.client.internal.FrameCodec;
import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.Authenticated;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationCreated;
import io.parley.protocol.v1.ConversationDelta;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationResult;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.Error;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.Pong;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.protocol.v1.TokenRefreshed;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A small in-memory stand-in for the Parley server, speaking the real wire protocol over a real
 * WebSocket, with hooks to misbehave on purpose (kill connections, refuse users, drop live events,
 * fail sends, lose acknowledgements). It lets the SDK's reconnect, sync, gap-fill and outbox logic
 * be tested without the server module. Only what the SDK tests need is implemented: direct
 * conversations, sends, history, sync from a per-user feed, token refresh, acks for the rest.
 *
 * <p>Thread-safe: all state is guarded by {@code this}.
 */
public final class FakeParleyServer implements AutoCloseable {

  private static final class Conv {
    final String id;
    final ConversationKind kind;
    final Set<String> members = new LinkedHashSet<>();
    final List<Event> log = new ArrayList<>();
    final Map<String, SendResult> idempotency = new HashMap<>();

    Conv(String id, ConversationKind kind) {
      this.id = id;
      this.kind = kind;
    }
  }

  private record FeedEntry(String conversationId, long seq) {}

  private final class Session {
    final Channel channel;
    final FrameCodec codec;
    String userId;
    String deviceId;

    Session(Channel channel, FrameCodec codec) {
      this.channel = channel;
      this.codec = codec;
    }

    void write(ServerFrame frame) {
      channel.writeAndFlush(codec.encode(frame, channel.alloc()));
    }
  }

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel serverChannel;

  private final Map<String, Conv> conversations = new LinkedHashMap<>();
  private final Map<String, List<FeedEntry>> feeds = new HashMap<>();
  private final Map<String, List<Session>> sessions = new HashMap<>();
  private final Set<String> blocked = new HashSet<>();
  private final Set<String> deactivated = new HashSet<>();
  private final Set<String> rejectedTokens = new HashSet<>();
  private final Map<String, Integer> liveEventsToDrop = new HashMap<>();
  private final List<ClientFrame> received = new ArrayList<>();
  private final List<String> authTokens = new ArrayList<>();
  private final List<String> refreshTokens = new ArrayList<>();
  private int sendsToFail;
  private ErrorCode sendFailure = ErrorCode.UNAVAILABLE;
  private long sendRetryAfterMs;
  private boolean loseNextSendAck;
  private long tokenLifetimeMs;
  private int nextId = 1;

  public FakeParleyServer() throws InterruptedException {
    serverChannel =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(65536))
                        .addLast(
                            new WebSocketServerProtocolHandler(
                                WebSocketServerProtocolConfig.newBuilder()
                                    .websocketPath("/v1/ws")
                                    .subprotocols("parley.v1.proto,parley.v1.json")
                                    .build()))
                        .addLast(new Handler());
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
  }

  public String uri() {
    return "ws://127.0.0.1:" + ((InetSocketAddress) serverChannel.localAddress()).getPort() + "/v1/ws";
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  // ------------------------------------------------------------------------------------------
  // Hooks
  // ------------------------------------------------------------------------------------------

  /** Closes every connection of the user abruptly (no close frame), like a network failure. */
  public synchronized void kill(String userId) {
    for (Session s : sessions.getOrDefault(userId, List.of())) {
      s.channel.close();
    }
  }

  /** Ends every connection of the user with a WebSocket close frame carrying {@code code}. */
  public synchronized void closeWith(String userId, int code, String reason) {
    for (Session s : sessions.getOrDefault(userId, List.of())) {
      s.channel
          .writeAndFlush(new CloseWebSocketFrame(code, reason))
          .addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** While blocked, the user's connections are dropped right after they authenticate. */
  public synchronized void block(String userId) {
    blocked.add(userId);
    kill(userId);
  }

  public synchronized void unblock(String userId) {
    blocked.remove(userId);
  }

  public synchronized void deactivate(String userId) {
    deactivated.add(userId);
  }

  public synchronized void rejectToken(String token) {
    rejectedTokens.add(token);
  }

  /** Pushes a frame to every connection of the user. */
  public synchronized void push(String userId, ServerFrame frame) {
    for (Session s : sessions.getOrDefault(userId, List.of())) {
      s.write(frame);
    }
  }

  /** The next {@code count} live events for the user are silently not pushed. */
  public synchronized void dropLiveEvents(String userId, int count) {
    liveEventsToDrop.put(userId, count);
  }

  /** The next {@code count} sends fail with {@code code} and the retry hint. */
  public synchronized void failSends(int count, ErrorCode code, long retryAfterMs) {
    sendsToFail = count;
    sendFailure = code;
    sendRetryAfterMs = retryAfterMs;
  }

  /** The next send is committed, but its acknowledgement is lost with the connection. */
  public synchronized void loseNextSendAck() {
    loseNextSendAck = true;
  }

  /** Tokens expire this long after authentication or refresh (0 = never). */
  public synchronized void tokenLifetimeMs(long ms) {
    tokenLifetimeMs = ms;
  }

  public synchronized int connectionCount(String userId) {
    return sessions.getOrDefault(userId, List.of()).size();
  }

  public synchronized List<ClientFrame> received() {
    return List.copyOf(received);
  }

  public synchronized List<SendMessage> receivedSends() {
    return received.stream()
        .filter(ClientFrame::hasSendMessage)
        .map(ClientFrame::getSendMessage)
        .toList();
  }

  public synchronized List<String> authTokens() {
    return List.copyOf(authTokens);
  }

  public synchronized List<String> refreshTokens() {
    return List.copyOf(refreshTokens);
  }

  /** The committed log of a conversation. */
  public synchronized List<Event> log(String conversationId) {
    return List.copyOf(conversations.get(conversationId).log);
  }

  // ------------------------------------------------------------------------------------------
  // Protocol
  // ------------------------------------------------------------------------------------------

  private final class Handler extends SimpleChannelInboundHandler<WebSocketFrame> {
    private Session session;

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete hc) {
        Subprotocol p =
            "parley.v1.json".equals(hc.selectedSubprotocol()) ? Subprotocol.JSON : Subprotocol.PROTO;
        session = new Session(ctx.channel(), FrameCodec.of(p));
        ctx.channel().closeFuture().addListener(f -> disconnected(session));
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) throws IOException {
      ClientFrame f = session.codec.decode(frame, ClientFrame.newBuilder()).build();
      handle(session, f);
    }
  }

  private synchronized void disconnected(Session s) {
    if (s.userId != null) {
      sessions.getOrDefault(s.userId, new ArrayList<>()).remove(s);
    }
  }

  private static ServerFrame.Builder reply(ClientFrame f) {
    return ServerFrame.newBuilder().setRequestId(f.getRequestId());
  }

  private static ServerFrame error(ClientFrame f, ErrorCode code, String message, long retryAfter) {
    return reply(f)
        .setError(Error.newBuilder().setCode(code).setMessage(message).setRetryAfterMs(retryAfter))
        .build();
  }

  private synchronized void handle(Session s, ClientFrame f) {
    received.add(f);
    if (s.userId == null) {
      authenticate(s, f);
      return;
    }
    String me = s.userId;
    switch (f.getRequestCase()) {
      case PING -> s.write(reply(f).setPong(Pong.newBuilder().setClientTimeMs(f.getPing().getClientTimeMs())).build());
      case REFRESH_TOKEN -> {
        refreshTokens.add(f.getRefreshToken().getToken());
        s.write(reply(f).setTokenRefreshed(TokenRefreshed.newBuilder().setExpiresAtMs(expiry())).build());
      }
      case OPEN_DIRECT -> s.write(reply(f).setConversation(openDirect(me, f.getOpenDirect().getUserId())).build());
      case GET_CONVERSATION -> {
        Conv c = conversations.get(f.getGetConversation().getConversationId());
        if (c == null || !c.members.contains(me)) {
          s.write(error(f, ErrorCode.NOT_FOUND, "no such conversation", 0));
        } else {
          s.write(reply(f).setConversation(ConversationResult.newBuilder().setConversation(view(c, me))).build());
        }
      }
      case SEND_MESSAGE -> send(s, f);
      case GET_HISTORY -> {
        GetHistory h = f.getGetHistory();
        Conv c = conversations.get(h.getConversationId());
        if (c == null || !c.members.contains(me)) {
          s.write(error(f, ErrorCode.NOT_FOUND, "no such conversation", 0));
          return;
        }
        s.write(reply(f).setHistory(history(c, h)).build());
      }
      case SYNC -> s.write(reply(f).setSyncResult(sync(me, f.getSync())).build());
      case MARK_READ, MARK_DELIVERED, SEND_TYPING, SET_PRESENCE, SUBSCRIBE_PRESENCE ->
          s.write(reply(f).setAck(Ack.getDefaultInstance()).build());
      case GET_PROFILE -> s.write(reply(f).setProfile(Profile.newBuilder().setUserId(f.getGetProfile().getUserId())).build());
      default -> s.write(error(f, ErrorCode.UNSUPPORTED, "not in the fake", 0));
    }
  }

  private void authenticate(Session s, ClientFrame f) {
    if (!f.hasAuthenticate()) {
      s.write(error(f, ErrorCode.UNAUTHENTICATED, "authenticate first", 0));
      return;
    }
    String token = f.getAuthenticate().getToken();
    authTokens.add(token);
    if (!token.startsWith("user:") || rejectedTokens.contains(token)) {
      s.write(error(f, ErrorCode.UNAUTHENTICATED, "bad token", 0));
      return;
    }
    String user = token.substring("user:".length()).split(":")[0];
    if (deactivated.contains(user)) {
      s.write(error(f, ErrorCode.USER_DEACTIVATED, "deactivated", 0));
      return;
    }
    if (blocked.contains(user)) {
      s.channel.close();
      return;
    }
    s.userId = user;
    s.deviceId =
        f.getAuthenticate().getDeviceId().isEmpty() ? "dev-" + nextId++ : f.getAuthenticate().getDeviceId();
    sessions.computeIfAbsent(user, k -> new ArrayList<>()).add(s);
    s.write(
        reply(f)
            .setAuthenticated(
                Authenticated.newBuilder()
                    .setUserId(user)
                    .setDeviceId(s.deviceId)
                    .setSessionId("s-" + nextId++)
                    .setExpiresAtMs(expiry())
                    .setServerTimeMs(System.currentTimeMillis())
                    .setMaxMessageBytes(65536))
            .build());
  }

  private long expiry() {
    return tokenLifetimeMs > 0 ? System.currentTimeMillis() + tokenLifetimeMs : 0;
  }

  private ConversationResult openDirect(String me, String peer) {
    for (Conv c : conversations.values()) {
      if (c.kind == ConversationKind.CONVERSATION_KIND_DIRECT
          && c.members.contains(me)
          && c.members.contains(peer)) {
        return ConversationResult.newBuilder().setConversation(view(c, me)).build();
      }
    }
    Conv c = new Conv("d-" + nextId++, ConversationKind.CONVERSATION_KIND_DIRECT);
    c.members.add(me);
    c.members.add(peer);
    conversations.put(c.id, c);
    append(
        c,
        Event.newBuilder()
            .setActorUserId(me)
            .setConversationCreated(
                ConversationCreated.newBuilder().setKind(ConversationKind.CONVERSATION_KIND_DIRECT)));
    return ConversationResult.newBuilder().setConversation(view(c, me)).setCreated(true).build();
  }

  private void send(Session s, ClientFrame f) {
    SendMessage m = f.getSendMessage();
    Conv c = conversations.get(m.getConversationId());
    if (c == null || !c.members.contains(s.userId)) {
      s.write(error(f, ErrorCode.NOT_FOUND, "no such conversation", 0));
      return;
    }
    if (sendsToFail > 0) {
      sendsToFail--;
      s.write(error(f, sendFailure, "injected failure", sendRetryAfterMs));
      return;
    }
    String key = s.userId + "/" + m.getClientMsgId();
    SendResult previous = c.idempotency.get(key);
    if (previous != null) {
      s.write(reply(f).setSendResult(previous.toBuilder().setDuplicate(true)).build());
      return;
    }
    Event e =
        append(
            c,
            Event.newBuilder()
                .setActorUserId(s.userId)
                .setActorDeviceId(s.deviceId)
                .setMessagePosted(
                    MessagePosted.newBuilder()
                        .setMessageId("m-" + nextId++)
                        .setClientMsgId(m.getClientMsgId())
                        .setContentType(m.getContentType())
                        .setBody(m.getBody())));
    SendResult result =
        SendResult.newBuilder()
            .setConversationId(c.id)
            .setSeq(e.getSeq())
            .setMessageId(e.getMessagePosted().getMessageId())
            .setTimestampMs(e.getTimestampMs())
            .build();
    c.idempotency.put(key, result);
    if (loseNextSendAck) {
      loseNextSendAck = false;
      s.channel.close();
      return;
    }
    s.write(reply(f).setSendResult(result).build());
  }

  /** Commits an event: log, feeds of all members, live push. */
  private Event append(Conv c, Event.Builder b) {
    Event e =
        b.setConversationId(c.id)
            .setSeq(c.log.size() + 1)
            .setTimestampMs(System.currentTimeMillis())
            .build();
    c.log.add(e);
    for (String member : c.members) {
      feeds.computeIfAbsent(member, k -> new ArrayList<>()).add(new FeedEntry(c.id, e.getSeq()));
      int drop = liveEventsToDrop.getOrDefault(member, 0);
      if (drop > 0) {
        liveEventsToDrop.put(member, drop - 1);
        continue;
      }
      for (Session s : sessions.getOrDefault(member, List.of())) {
        s.write(ServerFrame.newBuilder().setEvent(e).build());
      }
    }
    return e;
  }

  private Conversation view(Conv c, String me) {
    Conversation.Builder b =
        Conversation.newBuilder()
            .setId(c.id)
            .setKind(c.kind)
            .setLastSeq(c.log.size())
            .setMemberCount(c.members.size());
    for (String m : c.members) {
      if (!m.equals(me)) {
        b.setPeerUserId(m);
      }
    }
    return b.build();
  }

  private static HistoryPage history(Conv c, GetHistory h) {
    int limit = h.getLimit() == 0 ? 50 : Math.min(h.getLimit(), 100);
    HistoryPage.Builder page = HistoryPage.newBuilder().setConversationId(c.id);
    if (h.getDirection() == Direction.DIRECTION_FORWARD) {
      long s = h.getFromSeq() + 1;
      for (; s <= c.log.size() && page.getEventsCount() < limit; s++) {
        page.addEvents(c.log.get((int) s - 1));
      }
      page.setHasMore(s <= c.log.size());
    } else {
      long s = h.getFromSeq() == 0 ? c.log.size() : h.getFromSeq() - 1;
      for (; s >= 1 && page.getEventsCount() < limit; s--) {
        page.addEvents(c.log.get((int) s - 1));
      }
      page.setHasMore(s >= 1);
    }
    return page.build();
  }

  private SyncResult sync(String me, Sync request) {
    List<FeedEntry> feed = feeds.getOrDefault(me, List.of());
    if (request.getCursor().isEmpty()) {
      SyncResult.Builder r = SyncResult.newBuilder().setCursor(String.valueOf(feed.size())).setComplete(true);
      for (Conv c : conversations.values()) {
        if (c.members.contains(me)) {
          r.addDeltas(ConversationDelta.newBuilder().setConversation(view(c, me)));
        }
      }
      return r.build();
    }
    int from = Integer.parseInt(request.getCursor());
    int limit = request.getLimit() == 0 ? 100 : Math.min(request.getLimit(), 100);
    int to = Math.min(feed.size(), from + limit);
    Map<String, ConversationDelta.Builder> deltas = new LinkedHashMap<>();
    for (FeedEntry entry : feed.subList(from, to)) {
      Conv c = conversations.get(entry.conversationId());
      deltas
          .computeIfAbsent(c.id, k -> ConversationDelta.newBuilder().setConversation(view(c, me)))
          .addEvents(c.log.get((int) entry.seq() - 1));
    }
    SyncResult.Builder r =
        SyncResult.newBuilder().setCursor(String.valueOf(to)).setComplete(to == feed.size());
    deltas.values().forEach(r::addDeltas);
    return r.build();
  }
}
