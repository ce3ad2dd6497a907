package io.parley.client;

import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.parley.client.internal.ClientConfig;
import io.parley.client.internal.ClientEngine;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationList;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.ConversationResult;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.GetReceipts;
import io.parley.protocol.v1.HistoryPage;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.LeaveConversation;
import io.parley.protocol.v1.ListConversations;
import io.parley.protocol.v1.ListMembers;
import io.parley.protocol.v1.MarkDelivered;
import io.parley.protocol.v1.MarkRead;
import io.parley.protocol.v1.MemberList;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.Pong;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.Profile;
import io.parley.protocol.v1.ReceiptList;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.protocol.v1.RemoveMember;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.Role;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.protocol.v1.SendTyping;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SetMemberRole;
import io.parley.protocol.v1.SetPresence;
import io.parley.protocol.v1.SubscribePresence;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.protocol.v1.UpdateProfile;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A Parley client: one user on one device, connected to a Parley server over a WebSocket.
 *
 * <pre>{@code
 * ParleyClient client = ParleyClient.builder()
 *     .uri("ws://localhost:8080/v1/ws")
 *     .tokenProvider(reason -> myBackend.fetchToken())
 *     .stateDirectory(Path.of("parley-state"))
 *     .listener(new ParleyListener() {
 *       public void onEvent(Event event) { ... }
 *     })
 *     .build();
 * client.connect().thenRun(() -> client.send(conversationId, "text/plain", bytes));
 * }</pre>
 *
 * <p><b>What the client does for the application.</b> It authenticates with a token from the
 * {@link TokenProvider} and refreshes it before it expires; it reconnects after any connection
 * loss with exponential backoff and full jitter (except after {@link #close()} or when the user
 * was deactivated); after every (re)connect it syncs from its cursor, so that {@link
 * ParleyListener#onEvent} sees every event of every conversation exactly once and in order; it
 * fills holes in live delivery from history; and it keeps sent messages in an outbox, retried with
 * the same idempotency key until the server acknowledges them (surviving a restart when a state
 * directory is configured).
 *
 * <p><b>Threading.</b> Every method is thread-safe, never blocks and returns immediately; results
 * come back as {@link CompletableFuture}s. Those futures, the listener callbacks and the token
 * provider all run on the client's single callback thread, never on the network thread — so code
 * chained with {@code thenAccept} and listener code never run concurrently with each other. Do not
 * call {@code join()}/{@code get()} on a returned future from a listener callback or a
 * continuation: it would wait for the thread it runs on.
 *
 * <p><b>Failures.</b> Futures fail with {@link ParleyClientException} carrying the protocol's
 * {@link ErrorCode}. A request made while disconnected waits for the connection and fails with
 * {@code UNAVAILABLE} if none is established within the request timeout; a read-only request
 * whose connection is lost is sent again on the next one; any other request in flight when the
 * connection is lost fails with {@code UNAVAILABLE} (the application decides whether to repeat
 * it). Sends never fail for connectivity reasons: they stay in the outbox.
 */
public final class ParleyClient implements AutoCloseable {

  private final ClientEngine engine;

  private ParleyClient(ClientConfig config) {
    this.engine = new ClientEngine(config);
  }

  /** Starts configuring a client. */
  public static Builder builder() {
    return new Builder();
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle
  // ------------------------------------------------------------------------------------------

  /**
   * Starts connecting (once; later calls return the same future). The future completes when the
   * client is authenticated for the first time; until then the client keeps retrying with backoff.
   * It fails only when the client is closed first or the user is deactivated. Use {@code
   * orTimeout} to bound the wait.
   */
  public CompletableFuture<Void> connect() {
    return engine.connect();
  }

  /**
   * Closes the client for good, without waiting: the connection closes, pending requests fail with
   * {@code UNAVAILABLE}, the state is persisted and the client's threads stop. Messages still in the
   * outbox fail their futures but, with a state directory, are kept and sent by the next client
   * started on that directory. Idempotent.
   */
  @Override
  public void close() {
    engine.closeAsync();
  }

  /**
   * Like {@link #close()}; the returned future completes when the state directory is released and
   * the client's threads are stopped (e.g. before starting a new client on the same directory).
   */
  public CompletableFuture<Void> closeAsync() {
    return engine.closeAsync();
  }

  /** The current connection state. */
  public ConnectionState state() {
    return engine.state();
  }

  /** The authenticated user's id, or null before the first authentication. */
  public String userId() {
    return engine.userId();
  }

  /**
   * This device's id: as configured, as restored from the state directory, or as assigned by the
   * server at the first authentication; null before that.
   */
  public String deviceId() {
    return engine.deviceId();
  }

  /** How many messages are in the outbox (sent but not acknowledged yet). */
  public int pendingSendCount() {
    return engine.pendingSendCount();
  }

  /** Asks the token provider for a fresh token now and hands it to the server. */
  public CompletableFuture<Void> refreshToken() {
    return engine.refreshToken();
  }

  /** Round trip to the server. */
  public CompletableFuture<Pong> ping() {
    return call(
        ClientFrame.newBuilder().setPing(Ping.newBuilder().setClientTimeMs(System.currentTimeMillis())),
        true,
        ServerFrame.PayloadCase.PONG,
        ServerFrame::getPong);
  }

  // ------------------------------------------------------------------------------------------
  // Conversations
  // ------------------------------------------------------------------------------------------

  /** Opens (or returns the existing) direct conversation with {@code userId}. */
  public CompletableFuture<ConversationResult> openDirect(String userId) {
    Objects.requireNonNull(userId, "userId");
    return call(
        ClientFrame.newBuilder().setOpenDirect(OpenDirect.newBuilder().setUserId(userId)),
        false,
        ServerFrame.PayloadCase.CONVERSATION,
        ServerFrame::getConversation);
  }

  /** Creates a group owned by the caller with the given initial members. */
  public CompletableFuture<Conversation> createGroup(
      ConversationMetadata metadata, List<String> memberIds, ReceiptVisibility receiptVisibility) {
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(memberIds, "memberIds");
    Objects.requireNonNull(receiptVisibility, "receiptVisibility");
    return conversation(
        ClientFrame.newBuilder()
            .setCreateGroup(
                CreateGroup.newBuilder()
                    .setMetadata(metadata)
                    .addAllMemberIds(memberIds)
                    .setReceiptVisibility(receiptVisibility)),
        false);
  }

  /** Creates a channel owned by the caller; public channels can be joined without invitation. */
  public CompletableFuture<Conversation> createChannel(
      ConversationMetadata metadata, boolean isPublic) {
    Objects.requireNonNull(metadata, "metadata");
    return conversation(
        ClientFrame.newBuilder()
            .setCreateChannel(CreateChannel.newBuilder().setMetadata(metadata).setPublic(isPublic)),
        false);
  }

  /** A conversation as the caller sees it, including its read position and unread count. */
  public CompletableFuture<Conversation> getConversation(String conversationId) {
    return conversation(
        ClientFrame.newBuilder()
            .setGetConversation(GetConversation.newBuilder().setConversationId(id(conversationId))),
        true);
  }

  /** The number of unread messages in a conversation (from {@link #getConversation}). */
  public CompletableFuture<Long> unreadCount(String conversationId) {
    return getConversation(conversationId).thenApply(Conversation::getUnreadCount);
  }

  /**
   * One page of the caller's conversations, each with its unread count.
   *
   * @param pageToken empty or null for the first page, else the previous page's {@code
   *     next_page_token}
   * @param limit page size; 0 for the server's default
   */
  public CompletableFuture<ConversationList> listConversations(String pageToken, int limit) {
    return call(
        ClientFrame.newBuilder()
            .setListConversations(
                ListConversations.newBuilder()
                    .setPageToken(pageToken == null ? "" : pageToken)
                    .setLimit(nonNegative(limit, "limit"))),
        true,
        ServerFrame.PayloadCase.CONVERSATION_LIST,
        f -> {
          engine.observe(f.getConversationList().getConversationsList());
          return f.getConversationList();
        });
  }

  /** Joins a public channel. */
  public CompletableFuture<Conversation> joinChannel(String conversationId) {
    return conversation(
        ClientFrame.newBuilder()
            .setJoinChannel(JoinChannel.newBuilder().setConversationId(id(conversationId))),
        false);
  }

  /** Leaves a conversation. */
  public CompletableFuture<Void> leave(String conversationId) {
    return ack(
        ClientFrame.newBuilder()
            .setLeaveConversation(
                LeaveConversation.newBuilder().setConversationId(id(conversationId))),
        false);
  }

  /** Adds members to a group or channel (owners and admins). */
  public CompletableFuture<Void> addMembers(String conversationId, List<String> userIds) {
    Objects.requireNonNull(userIds, "userIds");
    return ack(
        ClientFrame.newBuilder()
            .setAddMembers(
                AddMembers.newBuilder().setConversationId(id(conversationId)).addAllUserIds(userIds)),
        false);
  }

  /** Removes a member (owners and admins). */
  public CompletableFuture<Void> removeMember(String conversationId, String userId) {
    Objects.requireNonNull(userId, "userId");
    return ack(
        ClientFrame.newBuilder()
            .setRemoveMember(
                RemoveMember.newBuilder().setConversationId(id(conversationId)).setUserId(userId)),
        false);
  }

  /** Changes a member's role. */
  public CompletableFuture<Void> setRole(String conversationId, String userId, Role role) {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(role, "role");
    return ack(
        ClientFrame.newBuilder()
            .setSetMemberRole(
                SetMemberRole.newBuilder()
                    .setConversationId(id(conversationId))
                    .setUserId(userId)
                    .setRole(role)),
        false);
  }

  /** Replaces a conversation's metadata. */
  public CompletableFuture<Conversation> updateConversation(
      String conversationId, ConversationMetadata metadata) {
    Objects.requireNonNull(metadata, "metadata");
    return conversation(
        ClientFrame.newBuilder()
            .setUpdateConversation(
                UpdateConversation.newBuilder()
                    .setConversationId(id(conversationId))
                    .setMetadata(metadata)),
        false);
  }

  /** One page of a conversation's members. */
  public CompletableFuture<MemberList> listMembers(
      String conversationId, String pageToken, int limit) {
    return call(
        ClientFrame.newBuilder()
            .setListMembers(
                ListMembers.newBuilder()
                    .setConversationId(id(conversationId))
                    .setPageToken(pageToken == null ? "" : pageToken)
                    .setLimit(nonNegative(limit, "limit"))),
        true,
        ServerFrame.PayloadCase.MEMBER_LIST,
        ServerFrame::getMemberList);
  }

  // ------------------------------------------------------------------------------------------
  // Messages
  // ------------------------------------------------------------------------------------------

  /**
   * Sends a message through the outbox. The message gets a random {@code client_msg_id}, is queued
   * while offline, and is sent again with the same id after a reconnect or a retryable error
   * ({@code UNAVAILABLE}, {@code RATE_LIMITED}, honouring {@code retry_after_ms}) until the server
   * acknowledges it. The future completes with the server's {@link SendResult} (seq, message id,
   * timestamp) and fails only when the server rejects the message for good (e.g. {@code
   * FORBIDDEN}, {@code TOO_LARGE}) or the client is closed first. Messages to one conversation are
   * delivered in the order of the calls.
   */
  public CompletableFuture<SendResult> send(String conversationId, String contentType, byte[] body) {
    return send(conversationId, contentType, body, SendOptions.none());
  }

  /** Like {@link #send(String, String, byte[])} with a reply target, mentions or a chosen id. */
  public CompletableFuture<SendResult> send(
      String conversationId, String contentType, byte[] body, SendOptions options) {
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(body, "body");
    Objects.requireNonNull(options, "options");
    SendMessage message =
        SendMessage.newBuilder()
            .setConversationId(id(conversationId))
            .setClientMsgId(
                options.clientMsgId() != null ? options.clientMsgId() : UUID.randomUUID().toString())
            .setContentType(contentType)
            .setBody(com.google.protobuf.ByteString.copyFrom(body))
            .setReplyToSeq(options.replyToSeq())
            .addAllMentions(options.mentions())
            .build();
    return engine.send(message);
  }

  /** Replaces the content of the message at {@code targetSeq}; completes with the edit's seq. */
  public CompletableFuture<SendResult> edit(
      String conversationId, long targetSeq, String contentType, byte[] body) {
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(body, "body");
    return sendResult(
        ClientFrame.newBuilder()
            .setEditMessage(
                EditMessage.newBuilder()
                    .setConversationId(id(conversationId))
                    .setTargetSeq(positive(targetSeq, "targetSeq"))
                    .setContentType(contentType)
                    .setBody(com.google.protobuf.ByteString.copyFrom(body))));
  }

  /** Deletes the message at {@code targetSeq} (a tombstone event). */
  public CompletableFuture<SendResult> delete(String conversationId, long targetSeq) {
    return sendResult(
        ClientFrame.newBuilder()
            .setDeleteMessage(
                DeleteMessage.newBuilder()
                    .setConversationId(id(conversationId))
                    .setTargetSeq(positive(targetSeq, "targetSeq"))));
  }

  /** Adds a reaction (e.g. an emoji) to the message at {@code targetSeq}. */
  public CompletableFuture<SendResult> react(
      String conversationId, long targetSeq, String reaction) {
    Objects.requireNonNull(reaction, "reaction");
    return sendResult(
        ClientFrame.newBuilder()
            .setAddReaction(
                AddReaction.newBuilder()
                    .setConversationId(id(conversationId))
                    .setTargetSeq(positive(targetSeq, "targetSeq"))
                    .setReaction(reaction)));
  }

  /** Removes the caller's reaction from the message at {@code targetSeq}. */
  public CompletableFuture<SendResult> unreact(
      String conversationId, long targetSeq, String reaction) {
    Objects.requireNonNull(reaction, "reaction");
    return sendResult(
        ClientFrame.newBuilder()
            .setRemoveReaction(
                RemoveReaction.newBuilder()
                    .setConversationId(id(conversationId))
                    .setTargetSeq(positive(targetSeq, "targetSeq"))
                    .setReaction(reaction)));
  }

  /**
   * One page of a conversation's history. Backward from {@code fromSeq} 0 starts at the newest
   * event; forward pages return events after {@code fromSeq}, oldest first.
   */
  public CompletableFuture<HistoryPage> history(
      String conversationId, long fromSeq, Direction direction, int limit) {
    Objects.requireNonNull(direction, "direction");
    if (fromSeq < 0) {
      throw new IllegalArgumentException("fromSeq must be >= 0");
    }
    return call(
        ClientFrame.newBuilder()
            .setGetHistory(
                GetHistory.newBuilder()
                    .setConversationId(id(conversationId))
                    .setFromSeq(fromSeq)
                    .setDirection(direction)
                    .setLimit(nonNegative(limit, "limit"))),
        true,
        ServerFrame.PayloadCase.HISTORY,
        ServerFrame::getHistory);
  }

  // ------------------------------------------------------------------------------------------
  // Receipts, typing, presence, profile
  // ------------------------------------------------------------------------------------------

  /** Records that every event up to {@code seq} reached this user (cumulative). */
  public CompletableFuture<Void> markDelivered(String conversationId, long seq) {
    return ack(
        ClientFrame.newBuilder()
            .setMarkDelivered(
                MarkDelivered.newBuilder()
                    .setConversationId(id(conversationId))
                    .setSeq(positive(seq, "seq"))),
        true);
  }

  /** Records that the user read every event up to {@code seq} (cumulative; updates unread counts). */
  public CompletableFuture<Void> markRead(String conversationId, long seq) {
    return ack(
        ClientFrame.newBuilder()
            .setMarkRead(
                MarkRead.newBuilder().setConversationId(id(conversationId)).setSeq(positive(seq, "seq"))),
        true);
  }

  /** The members' delivered/read positions in a conversation (as its receipt visibility allows). */
  public CompletableFuture<ReceiptList> receipts(String conversationId) {
    return call(
        ClientFrame.newBuilder()
            .setGetReceipts(GetReceipts.newBuilder().setConversationId(id(conversationId))),
        true,
        ServerFrame.PayloadCase.RECEIPTS,
        ServerFrame::getReceipts);
  }

  /** Tells the other members that the user started ({@code true}) or stopped typing. */
  public CompletableFuture<Void> typing(String conversationId, boolean typing) {
    return ack(
        ClientFrame.newBuilder()
            .setSendTyping(
                SendTyping.newBuilder().setConversationId(id(conversationId)).setTyping(typing)),
        false);
  }

  /** Sets the user's presence status; re-applied automatically after every reconnect. */
  public CompletableFuture<Void> setPresence(PresenceStatus status) {
    Objects.requireNonNull(status, "status");
    return engine.callSessionScoped(
        "presence",
        ClientFrame.newBuilder().setSetPresence(SetPresence.newBuilder().setStatus(status)),
        f -> expect(f, ServerFrame.PayloadCase.ACK, x -> null));
  }

  /**
   * Follows the presence of the given users (replacing the previous set); changes arrive at {@link
   * ParleyListener#onPresence}. Re-applied automatically after every reconnect.
   */
  public CompletableFuture<Void> subscribePresence(List<String> userIds) {
    Objects.requireNonNull(userIds, "userIds");
    return engine.callSessionScoped(
        "presence-subscription",
        ClientFrame.newBuilder()
            .setSubscribePresence(SubscribePresence.newBuilder().addAllUserIds(userIds)),
        f -> expect(f, ServerFrame.PayloadCase.ACK, x -> null));
  }

  /** A user's profile. */
  public CompletableFuture<Profile> getProfile(String userId) {
    Objects.requireNonNull(userId, "userId");
    return call(
        ClientFrame.newBuilder().setGetProfile(GetProfile.newBuilder().setUserId(userId)),
        true,
        ServerFrame.PayloadCase.PROFILE,
        ServerFrame::getProfile);
  }

  /** Updates the caller's own profile. */
  public CompletableFuture<Profile> updateProfile(String displayName, String avatarUrl) {
    return call(
        ClientFrame.newBuilder()
            .setUpdateProfile(
                UpdateProfile.newBuilder()
                    .setDisplayName(displayName == null ? "" : displayName)
                    .setAvatarUrl(avatarUrl == null ? "" : avatarUrl)),
        true,
        ServerFrame.PayloadCase.PROFILE,
        ServerFrame::getProfile);
  }

  // ------------------------------------------------------------------------------------------
  // Helpers
  // ------------------------------------------------------------------------------------------

  private <T> CompletableFuture<T> call(
      ClientFrame.Builder frame,
      boolean idempotent,
      ServerFrame.PayloadCase expected,
      Function<ServerFrame, T> extract) {
    return engine.call(frame, idempotent, f -> expect(f, expected, extract));
  }

  private CompletableFuture<Conversation> conversation(ClientFrame.Builder frame, boolean idempotent) {
    return call(
        frame,
        idempotent,
        ServerFrame.PayloadCase.CONVERSATION,
        f -> {
          Conversation c = f.getConversation().getConversation();
          engine.observe(List.of(c));
          return c;
        });
  }

  private CompletableFuture<Void> ack(ClientFrame.Builder frame, boolean idempotent) {
    return call(frame, idempotent, ServerFrame.PayloadCase.ACK, f -> null);
  }

  private CompletableFuture<SendResult> sendResult(ClientFrame.Builder frame) {
    return call(frame, false, ServerFrame.PayloadCase.SEND_RESULT, ServerFrame::getSendResult);
  }

  private static <T> T expect(
      ServerFrame f, ServerFrame.PayloadCase expected, Function<ServerFrame, T> extract) {
    if (f.getPayloadCase() != expected) {
      throw new ParleyClientException(
          ErrorCode.INTERNAL,
          "unexpected answer " + f.getPayloadCase() + " (expected " + expected + ")",
          0);
    }
    return extract.apply(f);
  }

  private static String id(String conversationId) {
    Objects.requireNonNull(conversationId, "conversationId");
    if (conversationId.isEmpty()) {
      throw new IllegalArgumentException("conversationId must not be empty");
    }
    return conversationId;
  }

  private static long positive(long value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0");
    }
    return value;
  }

  private static int nonNegative(int value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0");
    }
    return value;
  }

  /**
   * Configures a {@link ParleyClient}. Not thread-safe; {@link #build()} may be called more than
   * once (each call creates an independent client).
   */
  public static final class Builder {
    private static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private URI uri;
    private TokenProvider tokenProvider;
    private String deviceId;
    private Path stateDirectory;
    private ParleyListener listener = new ParleyListener() {};
    private Subprotocol subprotocol = Subprotocol.PROTO;
    private EventLoopGroup eventLoopGroup;
    private SslContext sslContext;
    private String clientName = "parley-java/0.1";
    private Duration backoffBase = Duration.ofMillis(250);
    private Duration backoffCap = Duration.ofSeconds(30);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration pingInterval = Duration.ofSeconds(30);
    private int maxFrameBytes = 4 * 1024 * 1024;
    private int syncPageLimit = 500;

    private Builder() {}

    /** The server's WebSocket endpoint, e.g. {@code ws://localhost:8080/v1/ws}. Required. */
    public Builder uri(String uri) {
      return uri(URI.create(Objects.requireNonNull(uri, "uri")));
    }

    /** The server's WebSocket endpoint ({@code ws} or {@code wss}). Required. */
    public Builder uri(URI uri) {
      Objects.requireNonNull(uri, "uri");
      String scheme = uri.getScheme();
      if (!"ws".equalsIgnoreCase(scheme) && !"wss".equalsIgnoreCase(scheme)) {
        throw new IllegalArgumentException("uri must be ws:// or wss://, got " + uri);
      }
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("uri has no host: " + uri);
      }
      this.uri = uri;
      return this;
    }

    /** Supplies tokens; see {@link TokenProvider}. Required. */
    public Builder tokenProvider(TokenProvider tokenProvider) {
      this.tokenProvider = Objects.requireNonNull(tokenProvider, "tokenProvider");
      return this;
    }

    /**
     * A stable id for this app install (1 to 64 characters of {@code [A-Za-z0-9._-]}). Optional: by
     * default the id restored from the state directory, or the one the server assigns at the first
     * connection.
     */
    public Builder deviceId(String deviceId) {
      Objects.requireNonNull(deviceId, "deviceId");
      if (!DEVICE_ID.matcher(deviceId).matches()) {
        throw new IllegalArgumentException(
            "deviceId must be 1 to 64 characters of [A-Za-z0-9._-], got '" + deviceId + "'");
      }
      this.deviceId = deviceId;
      return this;
    }

    /**
     * Where the client keeps its sync position, per-conversation positions, device id and outbox
     * across restarts. Optional (without it, state lives in memory). Used by one client at a time.
     */
    public Builder stateDirectory(Path stateDirectory) {
      this.stateDirectory = Objects.requireNonNull(stateDirectory, "stateDirectory");
      return this;
    }

    /** Receives events and notifications, on the client's callback thread. */
    public Builder listener(ParleyListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** The frame encoding; {@link Subprotocol#PROTO} by default. */
    public Builder subprotocol(Subprotocol subprotocol) {
      this.subprotocol = Objects.requireNonNull(subprotocol, "subprotocol");
      return this;
    }

    /**
     * A NIO event loop group to share between clients (e.g. many test users in one process). The
     * client uses one of its loops and does not shut it down. By default each client owns a
     * single-thread group.
     */
    public Builder eventLoopGroup(EventLoopGroup group) {
      this.eventLoopGroup = Objects.requireNonNull(group, "group");
      return this;
    }

    /** TLS settings for {@code wss} URIs (e.g. a custom trust store); JDK defaults otherwise. */
    public Builder sslContext(SslContext sslContext) {
      this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
      return this;
    }

    /** Free-form client description sent when authenticating. */
    public Builder clientName(String clientName) {
      this.clientName = Objects.requireNonNull(clientName, "clientName");
      return this;
    }

    /**
     * Reconnect backoff: the delay before retry n is uniform in [0, min(cap, base * 2^n)]. Defaults
     * 250 ms and 30 s.
     */
    public Builder reconnectBackoff(Duration base, Duration cap) {
      positive(base, "base");
      positive(cap, "cap");
      if (cap.compareTo(base) < 0) {
        throw new IllegalArgumentException("cap must be >= base");
      }
      this.backoffBase = base;
      this.backoffCap = cap;
      return this;
    }

    /** How long a request may wait for its answer (including waiting for a connection). 30 s. */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "timeout");
      return this;
    }

    /** TCP connect timeout. 10 s. */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "timeout");
      return this;
    }

    /**
     * After this long without any frame from the server the client pings it, and reconnects if no
     * answer arrives within the request timeout. 30 s; {@link Duration#ZERO} disables it.
     */
    public Builder pingInterval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.isNegative()) {
        throw new IllegalArgumentException("interval must be >= 0");
      }
      this.pingInterval = interval;
      return this;
    }

    /** Largest frame accepted from the server. 4 MiB. */
    public Builder maxFrameBytes(int maxFrameBytes) {
      if (maxFrameBytes < 1024) {
        throw new IllegalArgumentException("maxFrameBytes must be >= 1024");
      }
      this.maxFrameBytes = maxFrameBytes;
      return this;
    }

    /** Events requested per sync page (the server may cap it). 500. */
    public Builder syncPageLimit(int limit) {
      if (limit < 1) {
        throw new IllegalArgumentException("limit must be >= 1");
      }
      this.syncPageLimit = limit;
      return this;
    }

    /**
     * Creates the client. It does not connect until {@link ParleyClient#connect()}; with a state
     * directory it starts loading the state in the background.
     *
     * @throws IllegalStateException if the URI or the token provider is missing
     */
    public ParleyClient build() {
      if (uri == null) {
        throw new IllegalStateException("uri is required");
      }
      if (tokenProvider == null) {
        throw new IllegalStateException("tokenProvider is required");
      }
      return new ParleyClient(
          new ClientConfig(
              uri,
              subprotocol,
              tokenProvider,
              deviceId,
              stateDirectory,
              listener,
              eventLoopGroup,
              sslContext,
              clientName,
              backoffBase.toMillis(),
              backoffCap.toMillis(),
              requestTimeout.toMillis(),
              connectTimeout.toMillis(),
              pingInterval.toMillis(),
              maxFrameBytes,
              syncPageLimit));
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be > 0");
      }
      return d;
    }
  }
}
