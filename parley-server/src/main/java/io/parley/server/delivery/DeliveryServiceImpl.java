package io.parley.server.delivery;

import io.parley.protocol.v1.Ack;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.ConversationCursor;
import io.parley.protocol.v1.ConversationDelta;
import io.parley.protocol.v1.GetReceipts;
import io.parley.protocol.v1.MarkDelivered;
import io.parley.protocol.v1.MarkRead;
import io.parley.protocol.v1.Receipt;
import io.parley.protocol.v1.ReceiptKind;
import io.parley.protocol.v1.ReceiptList;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.SyncResult;
import io.parley.server.bus.BusMessage;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.core.Validation;
import io.parley.server.messaging.Access;
import io.parley.server.messaging.ConversationState;
import io.parley.server.messaging.EngineContext;
import io.parley.server.messaging.EngineFailures;
import io.parley.server.messaging.LaneContext;
import io.parley.server.messaging.StateChange;
import io.parley.server.messaging.Tombstones;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoredEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link DeliveryService}: sync from the user's change feed plus channel cursors, and
 * receipts.
 *
 * <p><b>Sync</b> (cursor format in {@link SyncCursor}). An empty cursor starts the first sync:
 * the feed head is captured, then the user's conversations are listed page by page (at most
 * {@code limit} a page, capped by {@code limits.maxSyncPage}) as deltas without events; the last
 * listing page returns a feed cursor at the heads captured, and is {@code complete} only if the
 * feed did not move meanwhile. A feed cursor returns the next feed entries (at most {@code limit}
 * events), grouped by conversation in order of first change, each delta holding exactly the
 * user's feed events of that conversation in seq order and the conversation as the user sees it
 * now. A delta whose last event is the user's own {@code MemberLeft} has {@code removed = true}.
 * Cost grows with the number of changes, not with the number of conversations.
 *
 * <p><b>Channels</b> write feed entries only for the user's own membership events. For each
 * channel cursor of a feed sync: if the user is a member of that channel, the events after the
 * cursor's seq are returned with the page's remaining event budget; when a channel has more,
 * {@code complete} is false and the client syncs again with the same feed cursor advanced as
 * returned and its channel cursors updated from the events it received. A channel cursor for a
 * conversation the user is not (or no longer) a member of, or that does not exist, yields a
 * delta with only the id and {@code removed = true}. Feed entries of a channel for which a cursor
 * was sent are left to the cursor (so a channel's events always arrive contiguously); without a
 * cursor the delta holds the user's membership events, and the client starts its channel cursor
 * at its {@code MemberJoined}. Channel cursors are ignored while listing.
 *
 * <p><b>Receipts</b> are cumulative and only move forward; {@code MarkRead}/{@code MarkDelivered}
 * clamp the seq to the end of the log. A read position also moves the delivered position. Every
 * move is committed through the conversation's lane and then published as {@link
 * BusMessage.Receipt} to the members (receipt visibility {@code MEMBERS}), or only to the user's
 * own sessions (visibility {@code NONE} and channels). {@code GetReceipts} lists the current
 * members' receipts under the same visibility.
 *
 * <p>Thread-safe; never blocks the caller.
 */
public final class DeliveryServiceImpl implements DeliveryService {
  static final int MAX_CHANNEL_CURSORS = 1000;

  private final EngineContext ctx;

  public DeliveryServiceImpl(EngineContext ctx) {
    this.ctx = Objects.requireNonNull(ctx, "ctx");
  }

  @Override
  public CompletableFuture<SyncResult> sync(Caller caller, Sync request) {
    return EngineFailures.guard(
        () -> {
          String me = Access.requireUser(caller);
          int cap = Math.max(1, ctx.limits().maxSyncPage());
          int limit = request.getLimit() <= 0 ? cap : Math.min(request.getLimit(), cap);
          SyncCursor cursor =
              SyncCursor.parse(request.getCursor(), ctx.store().shards().count());
          if (request.getChannelCursorsCount() > MAX_CHANNEL_CURSORS) {
            throw ParleyException.badRequest(
                "at most " + MAX_CHANNEL_CURSORS + " channel cursors");
          }
          Map<String, Long> channelCursors = new LinkedHashMap<>();
          for (ConversationCursor c : request.getChannelCursorsList()) {
            channelCursors.merge(
                Validation.requireId("channel_cursors.conversation_id", c.getConversationId()),
                c.getSeq(),
                Math::max);
          }
          return ctx.read(
              () -> {
                long[] heads = ctx.store().feedHeads(me);
                long[] positions = cursor.isStart() ? heads : cursor.positionArray();
                for (int shard = 0; shard < heads.length; shard++) {
                  if (positions[shard] > heads[shard]) {
                    throw ParleyException.badRequest("sync cursor is ahead of the change feed");
                  }
                }
                return cursor.listing()
                    ? listingPage(me, cursor.afterConversationId(), positions, limit)
                    : feedPage(me, positions, heads, channelCursors, limit);
              });
        });
  }

  /**
   * A page of the first-sync listing: conversations without events; {@code heads} are the feed
   * heads captured when the listing started.
   */
  private SyncResult listingPage(
      String me, String afterConversationId, long[] heads, int limit) {
    List<MemberRecord> page = ctx.store().userConversations(me, afterConversationId, limit + 1);
    SyncResult.Builder out = SyncResult.newBuilder();
    int n = Math.min(limit, page.size());
    for (int i = 0; i < n; i++) {
      ctx.store()
          .conversation(page.get(i).conversationId())
          .ifPresent(
              c ->
                  out.addDeltas(
                      ConversationDelta.newBuilder().setConversation(ctx.views().view(c, me))));
    }
    if (page.size() > limit) {
      return out.setCursor(SyncCursor.listing(heads, page.get(n - 1).conversationId()).format())
          .setComplete(false)
          .build();
    }
    return out.setCursor(SyncCursor.feed(heads).format())
        .setComplete(Arrays.equals(ctx.store().feedHeads(me), heads))
        .build();
  }

  /**
   * A page of feed changes after {@code positions} (one per shard, shards in order while the page
   * has room), then channel events with what is left. A conversation lives in one shard, so its
   * entries still come in seq order.
   */
  private SyncResult feedPage(
      String me,
      long[] positions,
      long[] heads,
      Map<String, Long> channelCursors,
      int limit) {
    long[] next = positions.clone();
    List<FeedEntry> entries = new ArrayList<>();
    boolean incomplete = false;
    for (int shard = 0; shard < next.length; shard++) {
      if (next[shard] >= heads[shard]) {
        continue;
      }
      int room = limit - entries.size();
      if (room == 0) {
        incomplete = true;
        break;
      }
      List<FeedEntry> page = ctx.store().feed(me, shard, next[shard], room);
      if (!page.isEmpty()) {
        entries.addAll(page);
        next[shard] = page.get(page.size() - 1).feedSeq();
      }
      if (next[shard] < heads[shard]) {
        incomplete = true;
      }
    }
    Map<String, List<Long>> seqsByConversation = new LinkedHashMap<>();
    for (FeedEntry f : entries) {
      seqsByConversation.computeIfAbsent(f.conversationId(), k -> new ArrayList<>()).add(f.seq());
    }
    Map<String, ConversationDelta.Builder> deltas = new LinkedHashMap<>();
    for (Map.Entry<String, List<Long>> e : seqsByConversation.entrySet()) {
      String id = e.getKey();
      Optional<ConversationRecord> c = ctx.store().conversation(id);
      if (c.isEmpty() || (Access.isChannel(c.get()) && channelCursors.containsKey(id))) {
        continue;
      }
      List<StoredEvent> events = readSeqs(id, e.getValue());
      boolean removed = !events.isEmpty() && isOwnLeave(events.get(events.size() - 1), me);
      Conversation view =
          removed ? ctx.views().removedView(c.get()) : ctx.views().view(c.get(), me);
      deltas.put(
          id,
          ConversationDelta.newBuilder()
              .setConversation(view)
              .addAllEvents(Tombstones.redact(ctx.store(), events))
              .setRemoved(removed));
    }

    int budget = limit - entries.size();
    for (Map.Entry<String, Long> cc : channelCursors.entrySet()) {
      String id = cc.getKey();
      long after = cc.getValue();
      Optional<ConversationRecord> c = ctx.store().conversation(id);
      boolean member = c.isPresent() && ctx.store().member(id, me).isPresent();
      if (!member) {
        deltas.putIfAbsent(
            id,
            ConversationDelta.newBuilder()
                .setConversation(Conversation.newBuilder().setId(id))
                .setRemoved(true));
        continue;
      }
      ConversationRecord rec = c.get();
      if (!Access.isChannel(rec) || rec.lastSeq() <= after) {
        continue;
      }
      long pending = rec.lastSeq() - after;
      int take = (int) Math.min(pending, budget);
      if (take < pending) {
        incomplete = true;
      }
      if (take == 0) {
        continue;
      }
      List<StoredEvent> events = ctx.store().events(id, after + 1, rec.lastSeq(), take, true);
      budget -= events.size();
      deltas.put(
          id,
          ConversationDelta.newBuilder()
              .setConversation(ctx.views().view(rec, me))
              .addAllEvents(Tombstones.redact(ctx.store(), events)));
    }

    SyncResult.Builder out =
        SyncResult.newBuilder()
            .setCursor(SyncCursor.feed(next).format())
            .setComplete(!incomplete);
    deltas.values().forEach(out::addDeltas);
    return out.build();
  }

  /** Reads exactly the given ascending seqs, one range read per run of consecutive seqs. */
  private List<StoredEvent> readSeqs(String conversationId, List<Long> seqs) {
    List<StoredEvent> out = new ArrayList<>(seqs.size());
    int i = 0;
    while (i < seqs.size()) {
      int j = i;
      while (j + 1 < seqs.size() && seqs.get(j + 1) == seqs.get(j) + 1) {
        j++;
      }
      long from = seqs.get(i);
      long to = seqs.get(j);
      out.addAll(ctx.store().events(conversationId, from, to, j - i + 1, true));
      i = j + 1;
    }
    return out;
  }

  private static boolean isOwnLeave(StoredEvent e, String me) {
    return e.event().hasMemberLeft() && e.event().getMemberLeft().getUserId().equals(me);
  }

  @Override
  public CompletableFuture<Ack> markDelivered(Caller caller, MarkDelivered request) {
    return EngineFailures.guard(
        () ->
            mark(caller, request.getConversationId(), request.getSeq(), ReceiptKind.RECEIPT_KIND_DELIVERED));
  }

  @Override
  public CompletableFuture<Ack> markRead(Caller caller, MarkRead request) {
    return EngineFailures.guard(
        () -> mark(caller, request.getConversationId(), request.getSeq(), ReceiptKind.RECEIPT_KIND_READ));
  }

  private CompletableFuture<Ack> mark(Caller caller, String conversationId, long seq, ReceiptKind kind) {
    String me = Access.requireUser(caller);
    String id = Validation.requireId("conversation_id", conversationId);
    return ctx.sequencer()
        .submit(
            id,
            lane -> {
              ConversationState s = lane.state(id);
              Access.requireMember(s, caller);
              long target = Math.min(seq, s.head().lastSeq());
              ReceiptRecord old = s.receipt(me);
              if (old == null) {
                old = new ReceiptRecord(id, me, 0, 0, 0);
              }
              ReceiptRecord next;
              if (kind == ReceiptKind.RECEIPT_KIND_READ) {
                if (target <= old.readSeq()) {
                  return s.tail().thenApply(v -> Ack.getDefaultInstance());
                }
                StoredEvent at = s.event(target);
                long ordinal = at == null ? old.readMessageOrdinal() : at.messageOrdinal();
                next =
                    new ReceiptRecord(
                        id,
                        me,
                        Math.max(old.deliveredSeq(), target),
                        target,
                        Math.max(old.readMessageOrdinal(), ordinal));
              } else {
                if (target <= old.deliveredSeq()) {
                  return s.tail().thenApply(v -> Ack.getDefaultInstance());
                }
                next =
                    new ReceiptRecord(id, me, target, old.readSeq(), old.readMessageOrdinal());
              }
              List<BusMessage.Receipt> notices = notices(s, old, next);
              StateChange ch = s.change(ctx.clock());
              ch.putReceipt(next);
              return commitThenPublish(lane, ch, notices);
            });
  }

  /** The receipt notices for a move from {@code old} to {@code next}, recipients fixed now. */
  private static List<BusMessage.Receipt> notices(
      ConversationState s, ReceiptRecord old, ReceiptRecord next) {
    Set<String> recipients =
        s.isChannel()
                || s.head().receiptVisibility() == ReceiptVisibility.RECEIPT_VISIBILITY_NONE
            ? Set.of(next.userId())
            : Set.copyOf(s.memberIds());
    List<BusMessage.Receipt> out = new ArrayList<>(2);
    if (next.deliveredSeq() > old.deliveredSeq()) {
      out.add(
          new BusMessage.Receipt(
              next.conversationId(),
              next.userId(),
              ReceiptKind.RECEIPT_KIND_DELIVERED,
              next.deliveredSeq(),
              recipients));
    }
    if (next.readSeq() > old.readSeq()) {
      out.add(
          new BusMessage.Receipt(
              next.conversationId(),
              next.userId(),
              ReceiptKind.RECEIPT_KIND_READ,
              next.readSeq(),
              recipients));
    }
    return out;
  }

  private CompletableFuture<Ack> commitThenPublish(
      LaneContext lane, StateChange ch, List<BusMessage.Receipt> notices) {
    return lane.commit(ch)
        .thenApply(
            v -> {
              notices.forEach(ctx::publish);
              return Ack.getDefaultInstance();
            });
  }

  @Override
  public CompletableFuture<ReceiptList> receipts(Caller caller, GetReceipts request) {
    return EngineFailures.guard(
        () -> {
          String id = Validation.requireId("conversation_id", request.getConversationId());
          return ctx.read(
              () -> {
                Access.Visible v = Access.requireVisible(ctx.store(), id, caller);
                ConversationRecord c = v.conversation();
                ReceiptList.Builder out = ReceiptList.newBuilder().setConversationId(id);
                boolean ownOnly =
                    caller.isChecked()
                        && (Access.isChannel(c)
                            || c.receiptVisibility()
                                == ReceiptVisibility.RECEIPT_VISIBILITY_NONE);
                if (ownOnly) {
                  ctx.store().receipt(id, caller.userId()).ifPresent(r -> out.addReceipts(toWire(r)));
                  return out.build();
                }
                // Current members only (receipts of former members stay in the store), at most
                // one group's worth: channels answer only with the caller's own receipt above.
                int max = Math.max(1, ctx.limits().maxGroupMembers());
                for (MemberRecord m : ctx.store().members(id, "", max)) {
                  ctx.store().receipt(id, m.userId()).ifPresent(r -> out.addReceipts(toWire(r)));
                }
                return out.build();
              });
        });
  }

  private static Receipt toWire(ReceiptRecord r) {
    return Receipt.newBuilder()
        .setUserId(r.userId())
        .setDeliveredSeq(r.deliveredSeq())
        .setReadSeq(r.readSeq())
        .build();
  }
}
