package io.parley.server.security;

import static io.parley.protocol.v1.ErrorCode.ALREADY_AUTHENTICATED;
import static io.parley.protocol.v1.ErrorCode.FORBIDDEN;
import static io.parley.protocol.v1.ErrorCode.NOT_FOUND;
import static io.parley.protocol.v1.ErrorCode.UNAUTHENTICATED;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.ByteString;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.RegisterPushTarget;
import io.parley.protocol.v1.SetConversationMuted;
import io.parley.protocol.v1.UnregisterPushTarget;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ConversationCursor;
import io.parley.protocol.v1.ConversationDelta;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.GetHistory;
import io.parley.protocol.v1.GetProfile;
import io.parley.protocol.v1.GetReceipts;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.LeaveConversation;
import io.parley.protocol.v1.ListConversations;
import io.parley.protocol.v1.ListMembers;
import io.parley.protocol.v1.MarkDelivered;
import io.parley.protocol.v1.MarkRead;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.RefreshToken;
import io.parley.protocol.v1.RemoveMember;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.Role;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendTyping;
import io.parley.protocol.v1.ServerFrame;
import io.parley.protocol.v1.SetMemberRole;
import io.parley.protocol.v1.SetPresence;
import io.parley.protocol.v1.SubscribePresence;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.protocol.v1.UpdateProfile;
import io.parley.server.testing.TestServer;
import io.parley.server.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The authorization matrix, cell by cell, over a real in-process server: every client request kind
 * (as each conversation role) and every admin route (with each kind of credential), asserting the
 * exact outcome. The two tables below ARE the matrix; {@link #docsShowTheMatrix} checks that
 * docs/security.md prints the same table.
 *
 * <p>Conversation-scoped cells run against a fresh fixture (so an allowed leave, removal or delete
 * cannot change the next cell): a group or channel owned by {@code olivia}, with {@code adam} as
 * ADMIN, {@code mia} and {@code max} as MEMBERs, {@code remy} added then removed, a message by
 * {@code mia} (edit target) and one by {@code max} (delete and reaction target). {@code nora} is
 * never a member; {@code vic} is a user who is added or looked up.
 */
class AuthorizationMatrixIT {

  /** A cell that succeeds (the request is answered with its result, not an Error). */
  static final ErrorCode OK = ErrorCode.ERROR_CODE_UNSPECIFIED;

  /** Who sends a client request. */
  enum Who {
    OWNER("olivia"),
    ADMIN("adam"),
    MEMBER("mia"),
    NON_MEMBER("nora"),
    REMOVED("remy"),
    ANONYMOUS("");

    final String user;

    Who(String user) {
      this.user = user;
    }
  }

  /** Where a conversation-scoped request is aimed. */
  enum Target {
    NONE,
    GROUP,
    PRIVATE_CHANNEL,
    PUBLIC_CHANNEL
  }

  /** Ids of one fixture conversation. */
  record Fixture(String conversationId, long miaSeq, long maxSeq) {
    static final Fixture NONE = new Fixture("", 0, 0);
  }

  /** One row of the client matrix: a request and its outcome per {@link Who}. */
  record ClientRow(
      String name,
      Target target,
      BiFunction<Fixture, Who, UnaryOperator<ClientFrame.Builder>> request,
      Map<Who, ErrorCode> expected) {}

  private static ClientRow row(
      String name,
      Target target,
      BiFunction<Fixture, Who, UnaryOperator<ClientFrame.Builder>> request,
      ErrorCode owner,
      ErrorCode admin,
      ErrorCode member,
      ErrorCode nonMember,
      ErrorCode removed,
      ErrorCode anonymous) {
    Map<Who, ErrorCode> m = new EnumMap<>(Who.class);
    m.put(Who.OWNER, owner);
    m.put(Who.ADMIN, admin);
    m.put(Who.MEMBER, member);
    m.put(Who.NON_MEMBER, nonMember);
    m.put(Who.REMOVED, removed);
    m.put(Who.ANONYMOUS, anonymous);
    return new ClientRow(name, target, request, m);
  }

  private static final ConversationMetadata META = ConversationMetadata.newBuilder().setTitle("t").build();
  private static final AtomicInteger UNIQUE = new AtomicInteger();

  // @formatter:off
  /** The client matrix. Columns: OWNER, ADMIN, MEMBER, NON_MEMBER, REMOVED, ANONYMOUS. */
  static final List<ClientRow> CLIENT_MATRIX = List.of(
      // Session and user-scoped requests (no conversation).
      row("Authenticate", Target.NONE, (f, w) -> b -> b.setAuthenticate(Authenticate.newBuilder().setToken("not.a.jwt")),
          ALREADY_AUTHENTICATED, ALREADY_AUTHENTICATED, ALREADY_AUTHENTICATED, ALREADY_AUTHENTICATED, ALREADY_AUTHENTICATED, UNAUTHENTICATED),
      row("RefreshToken (own token)", Target.NONE, (f, w) -> b -> b.setRefreshToken(RefreshToken.newBuilder().setToken(token(w.user.isEmpty() ? "vic" : w.user))),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("RefreshToken (another user's token)", Target.NONE, (f, w) -> b -> b.setRefreshToken(RefreshToken.newBuilder().setToken(token("vic"))),
          UNAUTHENTICATED, UNAUTHENTICATED, UNAUTHENTICATED, UNAUTHENTICATED, UNAUTHENTICATED, UNAUTHENTICATED),
      row("Ping", Target.NONE, (f, w) -> b -> b.setPing(Ping.newBuilder().setClientTimeMs(1)),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("OpenDirect", Target.NONE, (f, w) -> b -> b.setOpenDirect(OpenDirect.newBuilder().setUserId("vic")),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("CreateGroup", Target.NONE, (f, w) -> b -> b.setCreateGroup(CreateGroup.newBuilder().setMetadata(META).addMemberIds("vic")),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("CreateChannel", Target.NONE, (f, w) -> b -> b.setCreateChannel(CreateChannel.newBuilder().setMetadata(META)),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("ListConversations", Target.NONE, (f, w) -> b -> b.setListConversations(ListConversations.newBuilder()),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("Sync", Target.NONE, (f, w) -> b -> b.setSync(Sync.newBuilder()),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("SetPresence", Target.NONE, (f, w) -> b -> b.setSetPresence(SetPresence.newBuilder().setStatus(PresenceStatus.PRESENCE_STATUS_AWAY)),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("SubscribePresence", Target.NONE, (f, w) -> b -> b.setSubscribePresence(SubscribePresence.newBuilder().addUserIds("vic")),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("GetProfile", Target.NONE, (f, w) -> b -> b.setGetProfile(GetProfile.newBuilder().setUserId("vic")),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("UpdateProfile (own)", Target.NONE, (f, w) -> b -> b.setUpdateProfile(UpdateProfile.newBuilder().setDisplayName("Name")),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      // Cells run in list order: the device has no push target yet when it unregisters.
      row("UnregisterPushTarget (none registered)", Target.NONE, (f, w) -> b -> b.setUnregisterPushTarget(UnregisterPushTarget.newBuilder()),
          NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("RegisterPushTarget (own device)", Target.NONE, (f, w) -> b -> b.setRegisterPushTarget(RegisterPushTarget.newBuilder().setProvider("webhook").setToken("device-token")),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),

      // A group.
      row("GetConversation", Target.GROUP, (f, w) -> b -> b.setGetConversation(GetConversation.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("ListMembers", Target.GROUP, (f, w) -> b -> b.setListMembers(ListMembers.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("JoinChannel (a group)", Target.GROUP, (f, w) -> b -> b.setJoinChannel(JoinChannel.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("LeaveConversation", Target.GROUP, (f, w) -> b -> b.setLeaveConversation(LeaveConversation.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("AddMembers", Target.GROUP, (f, w) -> b -> b.setAddMembers(AddMembers.newBuilder().setConversationId(f.conversationId()).addUserIds("vic")),
          OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("RemoveMember (a MEMBER)", Target.GROUP, (f, w) -> b -> b.setRemoveMember(RemoveMember.newBuilder().setConversationId(f.conversationId()).setUserId("max")),
          OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("RemoveMember (the ADMIN)", Target.GROUP, (f, w) -> b -> b.setRemoveMember(RemoveMember.newBuilder().setConversationId(f.conversationId()).setUserId(w == Who.ADMIN ? "olivia" : "adam")),
          OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("SetMemberRole", Target.GROUP, (f, w) -> b -> b.setSetMemberRole(SetMemberRole.newBuilder().setConversationId(f.conversationId()).setUserId("max").setRole(Role.ROLE_ADMIN)),
          OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("UpdateConversation", Target.GROUP, (f, w) -> b -> b.setUpdateConversation(UpdateConversation.newBuilder().setConversationId(f.conversationId()).setMetadata(META)),
          OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("SendMessage", Target.GROUP, (f, w) -> b -> b.setSendMessage(send(f)),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("EditMessage (mia's message)", Target.GROUP, (f, w) -> b -> b.setEditMessage(EditMessage.newBuilder().setConversationId(f.conversationId()).setTargetSeq(f.miaSeq()).setContentType("text/plain").setBody(ByteString.copyFromUtf8("e"))),
          FORBIDDEN, FORBIDDEN, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("DeleteMessage (max's message)", Target.GROUP, (f, w) -> b -> b.setDeleteMessage(DeleteMessage.newBuilder().setConversationId(f.conversationId()).setTargetSeq(f.maxSeq())),
          OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("AddReaction", Target.GROUP, (f, w) -> b -> b.setAddReaction(AddReaction.newBuilder().setConversationId(f.conversationId()).setTargetSeq(f.maxSeq()).setReaction("+1")),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("RemoveReaction", Target.GROUP, (f, w) -> b -> b.setRemoveReaction(RemoveReaction.newBuilder().setConversationId(f.conversationId()).setTargetSeq(f.maxSeq()).setReaction("+1")),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("GetHistory", Target.GROUP, (f, w) -> b -> b.setGetHistory(GetHistory.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("MarkDelivered", Target.GROUP, (f, w) -> b -> b.setMarkDelivered(MarkDelivered.newBuilder().setConversationId(f.conversationId()).setSeq(f.maxSeq())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("MarkRead", Target.GROUP, (f, w) -> b -> b.setMarkRead(MarkRead.newBuilder().setConversationId(f.conversationId()).setSeq(f.maxSeq())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("GetReceipts", Target.GROUP, (f, w) -> b -> b.setGetReceipts(GetReceipts.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("SendTyping", Target.GROUP, (f, w) -> b -> b.setSendTyping(SendTyping.newBuilder().setConversationId(f.conversationId()).setTyping(true)),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("SetConversationMuted", Target.GROUP, (f, w) -> b -> b.setSetConversationMuted(SetConversationMuted.newBuilder().setConversationId(f.conversationId()).setMuted(true)),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),

      // A private channel (same roles).
      row("GetConversation (private channel)", Target.PRIVATE_CHANNEL, (f, w) -> b -> b.setGetConversation(GetConversation.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("JoinChannel (private channel)", Target.PRIVATE_CHANNEL, (f, w) -> b -> b.setJoinChannel(JoinChannel.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("SendMessage (private channel)", Target.PRIVATE_CHANNEL, (f, w) -> b -> b.setSendMessage(send(f)),
          OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("AddReaction (private channel)", Target.PRIVATE_CHANNEL, (f, w) -> b -> b.setAddReaction(AddReaction.newBuilder().setConversationId(f.conversationId()).setTargetSeq(f.maxSeq()).setReaction("+1")),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("AddMembers (private channel)", Target.PRIVATE_CHANNEL, (f, w) -> b -> b.setAddMembers(AddMembers.newBuilder().setConversationId(f.conversationId()).addUserIds("vic")),
          OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("LeaveConversation (private channel)", Target.PRIVATE_CHANNEL, (f, w) -> b -> b.setLeaveConversation(LeaveConversation.newBuilder().setConversationId(f.conversationId())),
          FORBIDDEN, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("GetHistory (private channel)", Target.PRIVATE_CHANNEL, (f, w) -> b -> b.setGetHistory(GetHistory.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),

      // A public channel: anyone may join (also after being removed) and read after joining.
      row("JoinChannel (public channel)", Target.PUBLIC_CHANNEL, (f, w) -> b -> b.setJoinChannel(JoinChannel.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, OK, OK, UNAUTHENTICATED),
      row("GetHistory (public channel, not joined)", Target.PUBLIC_CHANNEL, (f, w) -> b -> b.setGetHistory(GetHistory.newBuilder().setConversationId(f.conversationId())),
          OK, OK, OK, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED),
      row("SendMessage (public channel)", Target.PUBLIC_CHANNEL, (f, w) -> b -> b.setSendMessage(send(f)),
          OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND, UNAUTHENTICATED));
  // @formatter:on

  private static String token(String user) {
    return server.token(user);
  }

  private static SendMessage send(Fixture f) {
    return SendMessage.newBuilder()
        .setConversationId(f.conversationId())
        .setClientMsgId("k" + UNIQUE.incrementAndGet())
        .setContentType("text/plain")
        .setBody(ByteString.copyFromUtf8("x"))
        .build();
  }

  /** One row of the admin matrix: a route and its status with the admin key. */
  record AdminRow(String method, String path, String id, String body, int statusWithKey) {}

  /** How an admin request is authenticated. */
  enum Credential {
    ADMIN_KEY,
    NONE,
    WRONG_KEY,
    USER_TOKEN,
    BASIC_SCHEME
  }

  // @formatter:off
  /**
   * The admin matrix: every route of docs/openapi.yaml under /v1/admin/. In paths, {id} is the row's
   * id ("{g}": the fixture group) and {userId} (also "%n" in bodies) a fresh user per cell.
   */
  static final List<AdminRow> ADMIN_MATRIX = List.of(
      new AdminRow("POST", "/v1/admin/users", "", "{\"user_id\":\"u%n\"}", 201),
      new AdminRow("GET", "/v1/admin/users", "", "", 200),
      new AdminRow("GET", "/v1/admin/users/{id}", "vic", "", 200),
      new AdminRow("PATCH", "/v1/admin/users/{id}", "vic", "{\"display_name\":\"Vic\"}", 200),
      new AdminRow("POST", "/v1/admin/users/{id}/deactivate", "dora", "", 200),
      new AdminRow("POST", "/v1/admin/users/{id}/reactivate", "dora", "", 200),
      new AdminRow("POST", "/v1/admin/users/{id}/tokens", "vic", "{\"ttl_seconds\":60}", 200),
      new AdminRow("GET", "/v1/admin/users/{id}/conversations", "olivia", "", 200),
      new AdminRow("POST", "/v1/admin/conversations", "", "{\"kind\":\"group\",\"creator\":\"olivia\",\"members\":[\"mia\"]}", 201),
      new AdminRow("GET", "/v1/admin/conversations/{id}", "{g}", "", 200),
      new AdminRow("GET", "/v1/admin/conversations/{id}/members", "{g}", "", 200),
      new AdminRow("POST", "/v1/admin/conversations/{id}/members", "{g}", "{\"user_ids\":[\"u%n\"]}", 200),
      new AdminRow("DELETE", "/v1/admin/conversations/{id}/members/{userId}", "{g}", "", 200),
      new AdminRow("POST", "/v1/admin/conversations/{id}/messages", "{g}", "{\"as_user\":\"olivia\",\"client_msg_id\":\"a%n\",\"text\":\"hi\"}", 201),
      new AdminRow("GET", "/v1/admin/conversations/{id}/messages", "{g}", "", 200),
      new AdminRow("GET", "/v1/admin/conversations/{id}/receipts", "{g}", "", 200),
      new AdminRow("POST", "/v1/admin/webhooks", "", "{\"url\":\"http://127.0.0.1:9/hook%n\",\"event_types\":[\"message.created\"]}", 201),
      new AdminRow("GET", "/v1/admin/webhooks", "", "", 200),
      new AdminRow("GET", "/v1/admin/webhooks/{id}", "wh_missing", "", 404),
      new AdminRow("DELETE", "/v1/admin/webhooks/{id}", "wh_missing", "", 404),
      new AdminRow("GET", "/v1/admin/notifications/dead-letters", "", "", 200),
      new AdminRow("POST", "/v1/admin/notifications/dead-letters/{id}/replay", "job_missing", "", 404),
      new AdminRow("POST", "/v1/admin/users/{id}/push-targets", "vic", "{\"device_id\":\"d%n\",\"provider\":\"webhook\",\"token\":\"t%n\"}", 201),
      new AdminRow("GET", "/v1/admin/users/{id}/push-targets", "vic", "", 200),
      new AdminRow("DELETE", "/v1/admin/users/{id}/push-targets/{target}", "vic", "", 404),
      new AdminRow("PUT", "/v1/admin/users/{id}/mutes/{conversation}", "olivia", "{\"muted\":true}", 200));
  // @formatter:on

  private static TestServer server;
  private static final Map<Who, WsTestClient> clients = new EnumMap<>(Who.class);
  private static WsTestClient max;
  private static String adminGroup;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    // The matrix exercises hundreds of joins and sends from a handful of users within seconds;
    // rate limits have their own tests (limits/RateLimitsIT) and would only turn cells into
    // RATE_LIMITED here. A push provider (the generic push gateway; never called here) makes the
    // push-target requests meaningful.
    server =
        TestServer.start(
            Map.of(
                "PARLEY_RATE_LIMITS_ENABLED", "false",
                "PARLEY_NOTIFY_PUSH_WEBHOOK_URL", "http://127.0.0.1:9/push",
                "PARLEY_NOTIFY_PUSH_WEBHOOK_SECRET", "matrix-push-secret-0123456789"));
    for (Who w : Who.values()) {
      if (w != Who.ANONYMOUS) {
        clients.put(w, WsTestClient.authenticated(server.port(), server.token(w.user), w.user + "-d"));
      }
    }
    max = WsTestClient.authenticated(server.port(), server.token("max"), "max-d");
    for (String u : List.of("vic", "dora")) {
      WsTestClient.authenticated(server.port(), server.token(u), u + "-d").close();
    }
    adminGroup = fixture(Target.GROUP).conversationId();
  }

  @AfterAll
  static void stop() {
    clients.values().forEach(WsTestClient::close);
    if (max != null) {
      max.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private static ServerFrame ok(WsTestClient c, UnaryOperator<ClientFrame.Builder> r) {
    ServerFrame f = c.call(r);
    assertThat(f.hasError()).as("fixture step: %s", f).isFalse();
    return f;
  }

  /** A fresh conversation with the roles described in the class comment. */
  static Fixture fixture(Target target) {
    WsTestClient olivia = clients.get(Who.OWNER);
    String id;
    if (target == Target.GROUP) {
      id = ok(olivia, b -> b.setCreateGroup(CreateGroup.newBuilder().setMetadata(META)
              .addMemberIds("adam").addMemberIds("mia").addMemberIds("max").addMemberIds("remy")))
          .getConversation().getConversation().getId();
    } else {
      boolean isPublic = target == Target.PUBLIC_CHANNEL;
      id = ok(olivia, b -> b.setCreateChannel(CreateChannel.newBuilder().setMetadata(META).setPublic(isPublic)))
          .getConversation().getConversation().getId();
      ok(olivia, b -> b.setAddMembers(AddMembers.newBuilder().setConversationId(id)
          .addUserIds("adam").addUserIds("mia").addUserIds("max").addUserIds("remy")));
    }
    ok(olivia, b -> b.setSetMemberRole(SetMemberRole.newBuilder().setConversationId(id).setUserId("adam").setRole(Role.ROLE_ADMIN)));
    ok(olivia, b -> b.setRemoveMember(RemoveMember.newBuilder().setConversationId(id).setUserId("remy")));
    long miaSeq;
    long maxSeq;
    if (target == Target.GROUP) {
      miaSeq = ok(clients.get(Who.MEMBER), b -> b.setSendMessage(send(new Fixture(id, 0, 0)))).getSendResult().getSeq();
      maxSeq = ok(max, b -> b.setSendMessage(send(new Fixture(id, 0, 0)))).getSendResult().getSeq();
    } else {
      // In channels only owners and admins post.
      miaSeq = ok(olivia, b -> b.setSendMessage(send(new Fixture(id, 0, 0)))).getSendResult().getSeq();
      maxSeq = ok(clients.get(Who.ADMIN), b -> b.setSendMessage(send(new Fixture(id, 0, 0)))).getSendResult().getSeq();
    }
    return new Fixture(id, miaSeq, maxSeq);
  }

  static Stream<Arguments> clientCells() {
    List<Arguments> cells = new ArrayList<>();
    for (ClientRow r : CLIENT_MATRIX) {
      for (Who w : Who.values()) {
        cells.add(Arguments.of(r.name(), w, r.expected().get(w)));
      }
    }
    return cells.stream();
  }

  private static ClientRow clientRow(String name) {
    return CLIENT_MATRIX.stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
  }

  @ParameterizedTest(name = "{0} as {1} -> {2}")
  @MethodSource("clientCells")
  void clientCell(String operation, Who who, ErrorCode expected) {
    ClientRow row = clientRow(operation);
    Fixture f = row.target() == Target.NONE ? Fixture.NONE : fixture(row.target());
    ServerFrame reply = callAs(who, row.request().apply(f, who));
    if (expected == OK) {
      assertThat(reply.hasError()).as("%s as %s: %s", operation, who, reply).isFalse();
    } else {
      assertThat(reply.hasError()).as("%s as %s: %s", operation, who, reply).isTrue();
      assertThat(reply.getError().getCode()).as("%s as %s: %s", operation, who, reply).isEqualTo(expected);
    }
  }

  private static ServerFrame callAs(Who who, UnaryOperator<ClientFrame.Builder> request) {
    if (who != Who.ANONYMOUS) {
      return clients.get(who).call(request);
    }
    // A fresh unauthenticated connection per cell: the server closes one after a few
    // unauthenticated requests.
    try (WsTestClient anonymous = WsTestClient.connect(server.port())) {
      return anonymous.call(request);
    }
  }

  static Stream<Arguments> conversationScopedRequests() {
    List<Arguments> out = new ArrayList<>();
    for (ClientRow r : CLIENT_MATRIX) {
      if (r.target() == Target.NONE) {
        continue;
      }
      for (Who w : List.of(Who.NON_MEMBER, Who.REMOVED)) {
        if (r.expected().get(w) == NOT_FOUND) {
          out.add(Arguments.of(r.name(), w));
        }
      }
    }
    return out.stream();
  }

  /**
   * A real conversation the caller may not see and a conversation that does not exist are
   * indistinguishable: the same error code AND message, so ids cannot be probed.
   */
  @ParameterizedTest(name = "{0} as {1}: forbidden == nonexistent")
  @MethodSource("conversationScopedRequests")
  void forbiddenAndNonexistentConversationsLookTheSame(String operation, Who who) {
    ClientRow row = clientRow(operation);
    Fixture real = fixture(row.target());
    String prefix = real.conversationId().substring(0, real.conversationId().indexOf('_') + 1);
    Fixture missing = new Fixture(prefix + "01JZZZZZZZZZZZZZZZZZZZZZZZ", real.miaSeq(), real.maxSeq());
    ServerFrame forbidden = callAs(who, row.request().apply(real, who));
    ServerFrame nonexistent = callAs(who, row.request().apply(missing, who));
    assertThat(forbidden.getError().getCode()).isEqualTo(NOT_FOUND);
    assertThat(forbidden.getError()).isEqualTo(nonexistent.getError());
  }

  /**
   * Sync's channel cursors name conversations by id: for a private channel the caller is not in,
   * the answer is the same as for an id that does not exist (a bare "removed" delta, no events).
   */
  @ParameterizedTest(name = "Sync channel cursor as {0}: forbidden == nonexistent")
  @EnumSource(value = Who.class, names = {"NON_MEMBER", "REMOVED"})
  void syncChannelCursorsRevealNothingAboutForeignChannels(Who who) {
    Fixture real = fixture(Target.PRIVATE_CHANNEL);
    String missing = "c_01JZZZZZZZZZZZZZZZZZZZZZZZ";
    WsTestClient c = clients.get(who);
    String cursor = ok(c, b -> b.setSync(Sync.newBuilder())).getSyncResult().getCursor();
    ConversationDelta forbidden = channelDelta(c, cursor, real.conversationId());
    ConversationDelta nonexistent = channelDelta(c, cursor, missing);
    assertThat(forbidden.getEventsCount()).isZero();
    assertThat(forbidden.toBuilder().setConversation(forbidden.getConversation().toBuilder().setId(missing)).build())
        .isEqualTo(nonexistent);
  }

  private static ConversationDelta channelDelta(WsTestClient c, String cursor, String channelId) {
    ServerFrame r =
        ok(c, b -> b.setSync(Sync.newBuilder().setCursor(cursor)
            .addChannelCursors(ConversationCursor.newBuilder().setConversationId(channelId))));
    return r.getSyncResult().getDeltasList().stream()
        .filter(d -> d.getConversation().getId().equals(channelId))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no delta for " + channelId + ": " + r));
  }

  static Stream<Arguments> adminCells() {
    List<Arguments> cells = new ArrayList<>();
    for (AdminRow r : ADMIN_MATRIX) {
      for (Credential c : Credential.values()) {
        cells.add(Arguments.of(r.method(), r.path(), c, c == Credential.ADMIN_KEY ? r.statusWithKey() : 401));
      }
    }
    return cells.stream();
  }

  @ParameterizedTest(name = "{0} {1} with {2} -> {3}")
  @MethodSource("adminCells")
  void adminCell(String method, String pathTemplate, Credential credential, int expectedStatus) throws Exception {
    AdminRow row =
        ADMIN_MATRIX.stream().filter(r -> r.method().equals(method) && r.path().equals(pathTemplate)).findFirst().orElseThrow();
    String n = Integer.toString(UNIQUE.incrementAndGet());
    String path =
        pathTemplate
            .replace("{id}", row.id().replace("{g}", adminGroup))
            .replace("{userId}", "u" + n)
            .replace("{target}", "pt_missing")
            .replace("{conversation}", adminGroup);
    if (method.equals("DELETE")) {
      // Removing needs a member to remove: add one first (with the key).
      HttpResponse<String> added = admin("POST", "/v1/admin/conversations/" + adminGroup + "/members",
          "{\"user_ids\":[\"u" + n + "\"]}", Credential.ADMIN_KEY, "u" + n);
      assertThat(added.statusCode()).as(added.body()).isEqualTo(200);
    }
    HttpResponse<String> r = admin(method, path, row.body().replace("%n", n), credential, "u" + n);
    assertThat(r.statusCode()).as("%s %s with %s: %s", method, path, credential, r.body()).isEqualTo(expectedStatus);
    if (expectedStatus == 401) {
      assertThat(r.body())
          .contains("\"code\":\"UNAUTHENTICATED\"")
          .contains("a valid admin API key is required");
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
    }
  }

  private static HttpResponse<String> admin(String method, String path, String body, Credential c, String newUser)
      throws Exception {
    if (body.contains("\"user_ids\":[\"u") || path.endsWith("/members/" + newUser)) {
      WsTestClient.authenticated(server.port(), server.token(newUser), "d").close();
    }
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, body.isEmpty() ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (!body.isEmpty()) {
      b.header("Content-Type", "application/json");
    }
    switch (c) {
      case ADMIN_KEY -> b.header("Authorization", "Bearer " + TestServer.adminKey());
      case NONE -> {}
      case WRONG_KEY -> b.header("Authorization", "Bearer " + TestServer.adminKey() + "x");
      case USER_TOKEN -> b.header("Authorization", "Bearer " + server.token("olivia"));
      case BASIC_SCHEME -> b.header("Authorization", "Basic " + TestServer.adminKey());
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The client matrix as the Markdown table printed in docs/security.md. */
  static String clientMatrixMarkdown() {
    StringBuilder s = new StringBuilder("| Request | Owner | Admin | Member | Non-member | Removed member | No credentials |\n");
    s.append("|---|---|---|---|---|---|---|\n");
    for (ClientRow r : CLIENT_MATRIX) {
      s.append("| ").append(r.name());
      for (Who w : Who.values()) {
        ErrorCode e = r.expected().get(w);
        s.append(" | ").append(e == OK ? "ok" : e.name());
      }
      s.append(" |\n");
    }
    return s.toString();
  }

  /** The admin matrix as the Markdown table printed in docs/security.md. */
  static String adminMatrixMarkdown() {
    StringBuilder s = new StringBuilder("| Route | Admin key | No credentials | Wrong key | User token | Other scheme |\n");
    s.append("|---|---|---|---|---|---|\n");
    for (AdminRow r : ADMIN_MATRIX) {
      s.append("| `").append(r.method()).append(' ').append(r.path()).append('`');
      s.append(" | ").append(r.statusWithKey());
      s.append(" | 401 | 401 | 401 | 401 |\n");
    }
    return s.toString();
  }

  @Test
  void clientMatrixCoversEveryRequestKind() {
    Fixture f = new Fixture("g_x", 1, 2);
    Set<ClientFrame.RequestCase> covered = EnumSet.noneOf(ClientFrame.RequestCase.class);
    for (ClientRow r : CLIENT_MATRIX) {
      covered.add(r.request().apply(f, Who.MEMBER).apply(ClientFrame.newBuilder()).getRequestCase());
    }
    Set<ClientFrame.RequestCase> all = EnumSet.allOf(ClientFrame.RequestCase.class);
    all.remove(ClientFrame.RequestCase.REQUEST_NOT_SET);
    assertThat(covered).containsAll(all);
  }

  @Test
  void adminMatrixCoversEveryAdminRouteOfTheOpenApiDocument() throws Exception {
    Path openapi = Path.of(System.getProperty("user.dir")).resolveSibling("docs").resolve("openapi.yaml");
    JsonNode paths =
        new ObjectMapper(new YAMLFactory())
            .readTree(openapi.toFile())
            .get("paths");
    Set<String> documented = new TreeSet<>();
    paths.fieldNames().forEachRemaining(
        p -> {
          if (p.startsWith("/v1/admin/")) {
            paths.get(p).fieldNames().forEachRemaining(
                m -> {
                  if (!m.equals("parameters")) {
                    documented.add(m.toUpperCase(Locale.ROOT) + " " + p);
                  }
                });
          }
        });
    Set<String> inMatrix = new TreeSet<>();
    ADMIN_MATRIX.forEach(r -> inMatrix.add(r.method() + " " + r.path()));
    assertThat(inMatrix).isEqualTo(documented);
  }

  @Test
  void docsShowTheMatrix() throws Exception {
    Path docs = Path.of(System.getProperty("user.dir")).resolveSibling("docs").resolve("security.md");
    String text = Files.readString(docs);
    assertThat(text)
        .as("docs/security.md shows the client matrix as rendered by clientMatrixMarkdown()")
        .contains(clientMatrixMarkdown());
    assertThat(text)
        .as("docs/security.md shows the admin matrix as rendered by adminMatrixMarkdown()")
        .contains(adminMatrixMarkdown());
  }
}
