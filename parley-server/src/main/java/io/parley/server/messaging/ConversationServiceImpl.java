package io.parley.server.messaging;

import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationCreated;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationList;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.ConversationResult;
import io.parley.protocol.v1.ConversationUpdated;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.GetConversation;
import io.parley.protocol.v1.JoinChannel;
import io.parley.protocol.v1.LeaveConversation;
import io.parley.protocol.v1.ListConversations;
import io.parley.protocol.v1.ListMembers;
import io.parley.protocol.v1.Member;
import io.parley.protocol.v1.MemberJoined;
import io.parley.protocol.v1.MemberLeft;
import io.parley.protocol.v1.MemberList;
import io.parley.protocol.v1.MemberRoleChanged;
import io.parley.protocol.v1.OpenDirect;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.protocol.v1.RemoveMember;
import io.parley.protocol.v1.Role;
import io.parley.protocol.v1.SetMemberRole;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.server.core.Caller;
import io.parley.server.core.Ids;
import io.parley.server.core.ParleyException;
import io.parley.server.core.Validation;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ReceiptRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link ConversationService}: every state change is sequenced on the conversation's lane and
 * committed as events before the future completes; views are built from committed state on the
 * read executor.
 *
 * <p>Rules (structural rules apply to every caller; role rules only to checked callers):
 *
 * <ul>
 *   <li><b>Direct</b>: id {@code Ids.direct(a, b)}, get-or-create; both members are {@code
 *       MEMBER}; nobody can add, remove, leave or change roles; either member may update the
 *       metadata. A direct conversation with oneself is {@code BAD_REQUEST}.
 *   <li><b>Group</b>: the creator is the {@code OWNER}, initial members {@code MEMBER}; at most
 *       {@code limits.maxGroupMembers} members ({@code LIMIT_EXCEEDED}). Owners and admins add
 *       members and update metadata. Owners remove admins and members, admins remove members;
 *       nobody removes an owner (owners leave). Only owners change roles; an owner cannot change
 *       their own role or another owner's; making another member {@code OWNER} transfers
 *       ownership (the previous owner becomes {@code ADMIN}). When the last owner leaves, the
 *       oldest admin (earliest join) becomes owner, else the oldest member, in the same commit.
 *   <li><b>Channel</b>: the creator is the {@code OWNER}; public channels can be joined without
 *       invitation (private channels are {@code NOT_FOUND} to non-members); owners and admins
 *       invite, remove and post (see {@link MessageServiceImpl}). Because a channel's member list
 *       is not kept in memory, an owner must transfer ownership before leaving a channel that has
 *       other members ({@code FORBIDDEN}).
 *   <li>Users added to a conversation must exist and be active ({@code NOT_FOUND} / {@code
 *       FORBIDDEN}); they are not created implicitly.
 *   <li>Nobody joins more than {@code limits.maxConversationsPerUser} conversations ({@code
 *       LIMIT_EXCEEDED}, see {@link MembershipLimits}).
 *   <li>Every member gets a receipt at their {@code MemberJoined} event, so history from before
 *       they joined never counts as unread.
 *   <li>Admin-API callers ({@link Caller#isChecked()} false) skip membership and role checks but
 *       not structural rules; the admin making another member owner adds an owner (no demotion).
 * </ul>
 *
 * <p>Thread-safe; never blocks the caller.
 */
public final class ConversationServiceImpl implements ConversationService {
  static final int DEFAULT_PAGE = 50;
  private static final String MEMBER_NOT_FOUND = "member not found";

  private final EngineContext ctx;

  public ConversationServiceImpl(EngineContext ctx) {
    this.ctx = Objects.requireNonNull(ctx, "ctx");
  }

  @Override
  public CompletableFuture<ConversationResult> openDirect(Caller caller, OpenDirect request) {
    return EngineFailures.guard(
        () -> {
          String me = Access.requireUser(caller);
          String peer = Validation.requireUserId("user_id", request.getUserId());
          if (peer.equals(me)) {
            throw ParleyException.badRequest("cannot open a direct conversation with yourself");
          }
          String id = Ids.direct(me, peer);
          return ctx.sequencer()
              .submit(id, lane -> openDirectOnLane(lane, caller, me, peer, id))
              .thenApplyAsync(created -> result(id, me, created), ctx.reads());
        });
  }

  private CompletableFuture<Boolean> openDirectOnLane(
      LaneContext lane, Caller caller, String me, String peer, String id) {
    ConversationState s = lane.state(id);
    if (s.exists()) {
      Access.requireVisible(s, caller);
      return s.tail().thenApply(v -> false);
    }
    UserChecks.requireActive(ctx.store(), List.of(me, peer));
    MembershipLimits.requireRoom(ctx.store(), List.of(me, peer), me, maxConversations());
    StateChange ch = s.change(ctx.clock());
    create(ch, caller, id, ConversationKind.CONVERSATION_KIND_DIRECT,
        ConversationMetadata.getDefaultInstance(), false,
        ReceiptVisibility.RECEIPT_VISIBILITY_MEMBERS);
    join(ch, caller, me, Role.ROLE_MEMBER, true);
    join(ch, caller, peer, Role.ROLE_MEMBER, true);
    return ctx.commitAndPublish(lane, ch).thenApply(v -> true);
  }

  @Override
  public CompletableFuture<ConversationResult> createGroup(
      Caller caller, String conversationId, CreateGroup request) {
    return EngineFailures.guard(
        () -> {
          String me = Access.requireUser(caller);
          String id = requireNewId(conversationId, Ids.GROUP_PREFIX);
          ConversationMetadata md = MetadataRules.validate(request.getMetadata());
          Set<String> others = new LinkedHashSet<>();
          for (String m : request.getMemberIdsList()) {
            Validation.requireUserId("member_ids", m);
            if (!m.equals(me)) {
              others.add(m);
            }
          }
          if (others.size() + 1 > ctx.limits().maxGroupMembers()) {
            throw new ParleyException(
                ErrorCode.LIMIT_EXCEEDED,
                "a group has at most " + ctx.limits().maxGroupMembers() + " members");
          }
          ReceiptVisibility visibility = receiptVisibility(request.getReceiptVisibility());
          List<String> everyone = new ArrayList<>();
          everyone.add(me);
          everyone.addAll(others);
          return createOnce(
              caller,
              id,
              ConversationKind.CONVERSATION_KIND_GROUP,
              everyone,
              ch -> {
                create(ch, caller, id, ConversationKind.CONVERSATION_KIND_GROUP, md, false,
                    visibility);
                join(ch, caller, me, Role.ROLE_OWNER, true);
                for (String m : others) {
                  join(ch, caller, m, Role.ROLE_MEMBER, true);
                }
              });
        });
  }

  @Override
  public CompletableFuture<ConversationResult> createChannel(
      Caller caller, String conversationId, CreateChannel request) {
    return EngineFailures.guard(
        () -> {
          String me = Access.requireUser(caller);
          String id = requireNewId(conversationId, Ids.CHANNEL_PREFIX);
          ConversationMetadata md = MetadataRules.validate(request.getMetadata());
          return createOnce(
              caller,
              id,
              ConversationKind.CONVERSATION_KIND_CHANNEL,
              List.of(me),
              ch -> {
                create(ch, caller, id, ConversationKind.CONVERSATION_KIND_CHANNEL, md,
                    request.getPublic(), ReceiptVisibility.RECEIPT_VISIBILITY_NONE);
                join(ch, caller, me, Role.ROLE_OWNER, true);
              });
        });
  }

  /**
   * Creates conversation {@code id} with the events {@code build} appends, unless a previous run
   * of the same call already did: then the caller gets that conversation back with {@code created
   * = false}. The existence check comes before the limit checks, because the first run itself
   * counts toward the caller's conversations.
   */
  private CompletableFuture<ConversationResult> createOnce(
      Caller caller,
      String id,
      ConversationKind kind,
      List<String> members,
      Consumer<StateChange> build) {
    String me = caller.userId();
    return ctx.read(
            () -> {
              if (ctx.store().conversation(id).isEmpty()) {
                UserChecks.requireActive(ctx.store(), members);
                MembershipLimits.requireRoom(ctx.store(), members, me, maxConversations());
              }
              return null;
            })
        .thenCompose(
            ignored ->
                ctx.sequencer()
                    .submit(
                        id,
                        lane -> {
                          ConversationState s = lane.state(id);
                          if (s.exists()) {
                            // A repeated call: only the conversation its first run created.
                            Access.requireVisible(s, caller);
                            if (s.head().kind() != kind) {
                              throw Access.conversationNotFound();
                            }
                            return CompletableFuture.completedFuture(false);
                          }
                          StateChange ch = s.change(ctx.clock());
                          build.accept(ch);
                          return ctx.commitAndPublish(lane, ch).thenApply(v -> true);
                        }))
        .thenApplyAsync(created -> result(id, me, created), ctx.reads());
  }

  /** A new conversation's id as the caller chose it: the kind's prefix, then a valid id. */
  private static String requireNewId(String id, String prefix) {
    Validation.requireId("conversation_id", id);
    if (!id.startsWith(prefix) || id.length() == prefix.length()) {
      throw ParleyException.badRequest("conversation_id must start with " + prefix);
    }
    return id;
  }

  @Override
  public CompletableFuture<ConversationResult> getConversation(
      Caller caller, GetConversation request) {
    return EngineFailures.guard(
        () -> {
          String id = Validation.requireId("conversation_id", request.getConversationId());
          return ctx.read(
              () -> {
                Access.Visible v = Access.requireVisible(ctx.store(), id, caller);
                return ConversationResult.newBuilder()
                    .setConversation(ctx.views().view(v.conversation(), caller.userId()))
                    .build();
              });
        });
  }

  @Override
  public CompletableFuture<ConversationList> listConversations(
      Caller caller, ListConversations request) {
    return EngineFailures.guard(
        () -> {
          String me = Access.requireUser(caller);
          int limit = pageLimit(request.getLimit());
          String after = PageTokens.decode(request.getPageToken(), "page_token");
          return ctx.read(
              () -> {
                List<MemberRecord> page = ctx.store().userConversations(me, after, limit + 1);
                ConversationList.Builder b = ConversationList.newBuilder();
                int n = Math.min(limit, page.size());
                for (int i = 0; i < n; i++) {
                  Optional<ConversationRecord> c =
                      ctx.store().conversation(page.get(i).conversationId());
                  c.ifPresent(rec -> b.addConversations(ctx.views().view(rec, me)));
                }
                if (page.size() > limit) {
                  b.setNextPageToken(PageTokens.encode(page.get(n - 1).conversationId()));
                }
                return b.build();
              });
        });
  }

  @Override
  public CompletableFuture<ConversationResult> joinChannel(Caller caller, JoinChannel request) {
    return EngineFailures.guard(
        () -> {
          String me = Access.requireUser(caller);
          String id = Validation.requireId("conversation_id", request.getConversationId());
          CompletableFuture<Void> userCheck =
              ctx.read(
                  () -> {
                    if (!caller.isChecked()) {
                      UserChecks.requireActive(ctx.store(), List.of(me));
                    }
                    if (ctx.store().member(id, me).isEmpty()) {
                      MembershipLimits.requireRoom(
                          ctx.store(), List.of(me), caller.userId(), maxConversations());
                    }
                    return null;
                  });
          return userCheck
              .thenCompose(
                  ignored ->
                      ctx.sequencer()
                          .submit(
                              id,
                              lane -> {
                                ConversationState s = lane.state(id);
                                if (!s.exists()) {
                                  throw Access.conversationNotFound();
                                }
                                if (s.member(me) != null) {
                                  return s.tail().thenApply(v -> false);
                                }
                                boolean joinable =
                                    s.isChannel() && (s.head().isPublic() || !caller.isChecked());
                                if (!joinable) {
                                  throw Access.conversationNotFound();
                                }
                                StateChange ch = s.change(ctx.clock());
                                join(ch, caller, me, Role.ROLE_MEMBER, false);
                                return ctx.commitAndPublish(lane, ch).thenApply(v -> false);
                              }))
              .thenApplyAsync(created -> result(id, me, false), ctx.reads());
        });
  }

  @Override
  public CompletableFuture<Ack> leave(Caller caller, LeaveConversation request) {
    return EngineFailures.guard(
        () -> {
          Access.requireUser(caller);
          String id = Validation.requireId("conversation_id", request.getConversationId());
          return ctx.sequencer()
              .submit(
                  id,
                  lane -> {
                    ConversationState s = lane.state(id);
                    MemberRecord me = Access.requireMember(s, caller);
                    return leaveOnLane(lane, s, caller, me);
                  });
        });
  }

  private CompletableFuture<Ack> leaveOnLane(
      LaneContext lane, ConversationState s, Caller caller, MemberRecord me) {
    if (Access.isDirect(s.head())) {
      throw ParleyException.forbidden("a direct conversation cannot be left");
    }
    if (s.isChannel() && me.role() == Role.ROLE_OWNER && s.head().memberCount() > 1) {
      throw ParleyException.forbidden("transfer ownership before leaving the channel");
    }
    StateChange ch = s.change(ctx.clock());
    removeFromConversation(ch, caller, me);
    return ctx.commitAndPublish(lane, ch).thenApply(v -> ack());
  }

  @Override
  public CompletableFuture<Ack> addMembers(Caller caller, AddMembers request) {
    return EngineFailures.guard(
        () -> {
          String id = Validation.requireId("conversation_id", request.getConversationId());
          Set<String> ids = new LinkedHashSet<>();
          for (String u : request.getUserIdsList()) {
            ids.add(Validation.requireUserId("user_ids", u));
          }
          if (ids.isEmpty()) {
            throw ParleyException.badRequest("user_ids is required");
          }
          if (ids.size() > ctx.limits().maxGroupMembers()) {
            throw ParleyException.badRequest(
                "at most " + ctx.limits().maxGroupMembers() + " users can be added at once");
          }
          return ctx.read(
                  () -> {
                    UserChecks.requireActive(ctx.store(), ids);
                    List<String> joining = new ArrayList<>();
                    for (String u : ids) {
                      if (ctx.store().member(id, u).isEmpty()) {
                        joining.add(u);
                      }
                    }
                    MembershipLimits.requireRoom(
                        ctx.store(), joining, caller.userId(), maxConversations());
                    return null;
                  })
              .thenCompose(
                  ignored ->
                      ctx.sequencer().submit(id, lane -> addMembersOnLane(lane, caller, id, ids)));
        });
  }

  private CompletableFuture<Ack> addMembersOnLane(
      LaneContext lane, Caller caller, String id, Set<String> ids) {
    ConversationState s = lane.state(id);
    MemberRecord me = Access.requireVisible(s, caller);
    if (Access.isDirect(s.head())) {
      throw ParleyException.forbidden("members cannot be added to a direct conversation");
    }
    Access.requireManager(caller, me, "add members");
    List<String> fresh = new ArrayList<>();
    for (String u : ids) {
      if (s.member(u) == null) {
        fresh.add(u);
      }
    }
    if (fresh.isEmpty()) {
      return s.tail().thenApply(v -> ack());
    }
    if (!s.isChannel()
        && s.head().memberCount() + fresh.size() > ctx.limits().maxGroupMembers()) {
      throw new ParleyException(
          ErrorCode.LIMIT_EXCEEDED,
          "a group has at most " + ctx.limits().maxGroupMembers() + " members");
    }
    StateChange ch = s.change(ctx.clock());
    for (String u : fresh) {
      join(ch, caller, u, Role.ROLE_MEMBER, false);
    }
    return ctx.commitAndPublish(lane, ch).thenApply(v -> ack());
  }

  @Override
  public CompletableFuture<Ack> removeMember(Caller caller, RemoveMember request) {
    return EngineFailures.guard(
        () -> {
          String id = Validation.requireId("conversation_id", request.getConversationId());
          String target = Validation.requireUserId("user_id", request.getUserId());
          return ctx.sequencer()
              .submit(
                  id,
                  lane -> {
                    ConversationState s = lane.state(id);
                    if (target.equals(caller.userId())) {
                      return leaveOnLane(lane, s, caller, Access.requireMember(s, caller));
                    }
                    MemberRecord me = Access.requireVisible(s, caller);
                    if (Access.isDirect(s.head())) {
                      throw ParleyException.forbidden(
                          "members cannot be removed from a direct conversation");
                    }
                    Access.requireManager(caller, me, "remove members");
                    MemberRecord t = s.member(target);
                    if (t == null) {
                      throw ParleyException.notFound(MEMBER_NOT_FOUND);
                    }
                    if (caller.isChecked()) {
                      if (t.role() == Role.ROLE_OWNER) {
                        throw ParleyException.forbidden("an owner cannot be removed");
                      }
                      if (t.role() == Role.ROLE_ADMIN && me.role() != Role.ROLE_OWNER) {
                        throw ParleyException.forbidden("only owners can remove admins");
                      }
                    }
                    StateChange ch = s.change(ctx.clock());
                    removeFromConversation(ch, caller, t);
                    return ctx.commitAndPublish(lane, ch).thenApply(v -> ack());
                  });
        });
  }

  @Override
  public CompletableFuture<Ack> setMemberRole(Caller caller, SetMemberRole request) {
    return EngineFailures.guard(
        () -> {
          String id = Validation.requireId("conversation_id", request.getConversationId());
          String target = Validation.requireUserId("user_id", request.getUserId());
          Role role = request.getRole();
          if (role != Role.ROLE_MEMBER && role != Role.ROLE_ADMIN && role != Role.ROLE_OWNER) {
            throw ParleyException.badRequest("role must be MEMBER, ADMIN or OWNER");
          }
          return ctx.sequencer()
              .submit(id, lane -> setRoleOnLane(lane, caller, id, target, role));
        });
  }

  private CompletableFuture<Ack> setRoleOnLane(
      LaneContext lane, Caller caller, String id, String target, Role role) {
    ConversationState s = lane.state(id);
    MemberRecord me = Access.requireVisible(s, caller);
    if (Access.isDirect(s.head())) {
      throw ParleyException.forbidden("direct conversations have no roles");
    }
    Access.requireOwner(caller, me, "change roles");
    MemberRecord t = s.member(target);
    if (t == null) {
      throw ParleyException.notFound(MEMBER_NOT_FOUND);
    }
    if (caller.isChecked()) {
      if (target.equals(me.userId())) {
        throw ParleyException.forbidden(
            "owners cannot change their own role; transfer ownership instead");
      }
      if (t.role() == Role.ROLE_OWNER) {
        throw ParleyException.forbidden("an owner's role cannot be changed");
      }
    }
    if (t.role() == role) {
      return s.tail().thenApply(v -> ack());
    }
    StateChange ch = s.change(ctx.clock());
    changeRole(ch, caller, t, role);
    if (caller.isChecked() && role == Role.ROLE_OWNER) {
      changeRole(ch, caller, me, Role.ROLE_ADMIN);
    }
    return ctx.commitAndPublish(lane, ch).thenApply(v -> ack());
  }

  @Override
  public CompletableFuture<ConversationResult> updateConversation(
      Caller caller, UpdateConversation request) {
    return EngineFailures.guard(
        () -> {
          String id = Validation.requireId("conversation_id", request.getConversationId());
          ConversationMetadata md = MetadataRules.validate(request.getMetadata());
          return ctx.sequencer()
              .submit(
                  id,
                  lane -> {
                    ConversationState s = lane.state(id);
                    MemberRecord me = Access.requireVisible(s, caller);
                    if (!Access.isDirect(s.head())) {
                      Access.requireManager(caller, me, "update the conversation");
                    }
                    StateChange ch = s.change(ctx.clock());
                    ch.setMetadata(md);
                    ch.append(
                        actor(caller)
                            .setConversationUpdated(
                                ConversationUpdated.newBuilder().setMetadata(md)));
                    return ctx.commitAndPublish(lane, ch).thenApply(v -> false);
                  })
              .thenApplyAsync(created -> result(id, caller.userId(), false), ctx.reads());
        });
  }

  @Override
  public CompletableFuture<MemberList> listMembers(Caller caller, ListMembers request) {
    return EngineFailures.guard(
        () -> {
          String id = Validation.requireId("conversation_id", request.getConversationId());
          int limit = pageLimit(request.getLimit());
          String after = PageTokens.decode(request.getPageToken(), "page_token");
          return ctx.read(
              () -> {
                Access.requireVisible(ctx.store(), id, caller);
                List<MemberRecord> page = ctx.store().members(id, after, limit + 1);
                MemberList.Builder b = MemberList.newBuilder();
                int n = Math.min(limit, page.size());
                for (int i = 0; i < n; i++) {
                  MemberRecord m = page.get(i);
                  b.addMembers(
                      Member.newBuilder()
                          .setUserId(m.userId())
                          .setRole(m.role())
                          .setJoinedAtMs(m.joinedAtMs()));
                }
                if (page.size() > limit) {
                  b.setNextPageToken(PageTokens.encode(page.get(n - 1).userId()));
                }
                return b.build();
              });
        });
  }

  // ---- helpers (lane thread unless noted) ----

  private static void create(
      StateChange ch,
      Caller caller,
      String id,
      ConversationKind kind,
      ConversationMetadata md,
      boolean isPublic,
      ReceiptVisibility visibility) {
    ch.create(
        new ConversationRecord(id, kind, md, isPublic, visibility, ch.timestampMs(), 0, 0, 0, 0));
    ch.append(
        actor(caller)
            .setConversationCreated(
                ConversationCreated.newBuilder()
                    .setKind(kind)
                    .setMetadata(md)
                    .setPublic(isPublic)
                    .setReceiptVisibility(visibility)));
  }

  /**
   * Appends a {@code MemberJoined} and the membership, and starts the member's receipt at that
   * event so that earlier history does not count as unread.
   */
  private static void join(
      StateChange ch, Caller caller, String userId, Role role, boolean newConversation) {
    String addedBy = caller.userId().isEmpty() ? "" : caller.userId();
    Event e =
        ch.append(
            actor(caller)
                .setMemberJoined(
                    MemberJoined.newBuilder().setUserId(userId).setRole(role).setAddedBy(addedBy)));
    String id = e.getConversationId();
    ch.putMember(new MemberRecord(id, userId, role, ch.timestampMs(), e.getSeq()));
    ReceiptRecord old = newConversation ? null : ch.state().receipt(userId);
    long ordinal = ch.state().head().messageCount();
    ch.putReceipt(
        new ReceiptRecord(
            id,
            userId,
            Math.max(old == null ? 0 : old.deliveredSeq(), e.getSeq()),
            Math.max(old == null ? 0 : old.readSeq(), e.getSeq()),
            Math.max(old == null ? 0 : old.readMessageOrdinal(), ordinal)));
  }

  /**
   * Appends a {@code MemberLeft} and removes the membership; when the last owner of a group goes,
   * promotes the oldest admin, else the oldest member.
   */
  private static void removeFromConversation(StateChange ch, Caller caller, MemberRecord target) {
    ch.append(
        actor(caller)
            .setMemberLeft(
                MemberLeft.newBuilder()
                    .setUserId(target.userId())
                    .setRemovedBy(caller.userId())));
    ch.removeMember(target);
    ConversationState s = ch.state();
    if (target.role() != Role.ROLE_OWNER || s.isChannel()) {
      return;
    }
    List<MemberRecord> rest = new ArrayList<>(s.members());
    if (rest.isEmpty() || rest.stream().anyMatch(m -> m.role() == Role.ROLE_OWNER)) {
      return;
    }
    Comparator<MemberRecord> oldest =
        Comparator.comparingLong(MemberRecord::joinedSeq).thenComparing(MemberRecord::userId);
    MemberRecord successor =
        rest.stream()
            .filter(m -> m.role() == Role.ROLE_ADMIN)
            .min(oldest)
            .orElseGet(() -> rest.stream().min(oldest).orElseThrow());
    changeRole(ch, caller, successor, Role.ROLE_OWNER);
  }

  private static void changeRole(StateChange ch, Caller caller, MemberRecord m, Role role) {
    ch.append(
        actor(caller)
            .setMemberRoleChanged(
                MemberRoleChanged.newBuilder().setUserId(m.userId()).setRole(role)));
    ch.putMember(
        new MemberRecord(m.conversationId(), m.userId(), role, m.joinedAtMs(), m.joinedSeq()));
  }

  private static Event.Builder actor(Caller caller) {
    return Event.newBuilder()
        .setActorUserId(caller.userId())
        .setActorDeviceId(caller.deviceId());
  }

  private static ReceiptVisibility receiptVisibility(ReceiptVisibility requested) {
    return switch (requested) {
      case RECEIPT_VISIBILITY_UNSPECIFIED, RECEIPT_VISIBILITY_MEMBERS ->
          ReceiptVisibility.RECEIPT_VISIBILITY_MEMBERS;
      case RECEIPT_VISIBILITY_NONE -> ReceiptVisibility.RECEIPT_VISIBILITY_NONE;
      default -> throw ParleyException.badRequest("unknown receipt_visibility");
    };
  }

  /** Reads the view after a committed change (read executor). */
  private ConversationResult result(String id, String userId, boolean created) {
    Conversation view = ctx.views().view(id, userId);
    return ConversationResult.newBuilder().setConversation(view).setCreated(created).build();
  }

  private int maxConversations() {
    return ctx.limits().maxConversationsPerUser();
  }

  private int pageLimit(int requested) {
    int cap = Math.max(1, ctx.limits().maxHistoryPage());
    return requested <= 0 ? Math.min(DEFAULT_PAGE, cap) : Math.min(requested, cap);
  }

  private static Ack ack() {
    return Ack.getDefaultInstance();
  }
}
