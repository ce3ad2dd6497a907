package io.parley.server.gateway.ws;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.parley.protocol.v1.AddMembers;
import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ConversationCursor;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.CreateChannel;
import io.parley.protocol.v1.CreateGroup;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.Direction;
import io.parley.protocol.v1.EditMessage;
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
import io.parley.protocol.v1.Ping;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.RefreshToken;
import io.parley.protocol.v1.RemoveMember;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.Role;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendTyping;
import io.parley.protocol.v1.SetMemberRole;
import io.parley.protocol.v1.SetPresence;
import io.parley.protocol.v1.SubscribePresence;
import io.parley.protocol.v1.Sync;
import io.parley.protocol.v1.UpdateConversation;
import io.parley.protocol.v1.UpdateProfile;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Valid {@link ClientFrame}s, one per request kind, and the mutations the fuzz tests apply to their
 * encodings (truncation, bit flips). The frames name a real conversation and user when the test
 * has them, so a mutation that still decodes reaches the authorization checks instead of failing
 * on an unknown id.
 */
public final class FrameSeeds {
  private FrameSeeds() {}

  /** One valid frame of every request kind of {@code ClientFrame}, targeting the given ids. */
  public static List<ClientFrame> all(String conversationId, String userId) {
    ConversationMetadata meta =
        ConversationMetadata.newBuilder().setTitle("fuzz").setDescription("d").build();
    return List.of(
        frame(1).setAuthenticate(Authenticate.newBuilder().setToken("eyJ.x.y").setDeviceId("d1").setClient("c")).build(),
        frame(2).setRefreshToken(RefreshToken.newBuilder().setToken("eyJ.x.y")).build(),
        frame(3).setPing(Ping.newBuilder().setClientTimeMs(1234)).build(),
        frame(4).setOpenDirect(io.parley.protocol.v1.OpenDirect.newBuilder().setUserId(userId)).build(),
        frame(5).setCreateGroup(CreateGroup.newBuilder().setMetadata(meta).addMemberIds(userId)).build(),
        frame(6).setCreateChannel(CreateChannel.newBuilder().setMetadata(meta).setPublic(true)).build(),
        frame(7).setGetConversation(GetConversation.newBuilder().setConversationId(conversationId)).build(),
        frame(8).setListConversations(ListConversations.newBuilder().setLimit(10).setPageToken("abc")).build(),
        frame(9).setJoinChannel(JoinChannel.newBuilder().setConversationId(conversationId)).build(),
        frame(10).setLeaveConversation(LeaveConversation.newBuilder().setConversationId(conversationId)).build(),
        frame(11).setAddMembers(AddMembers.newBuilder().setConversationId(conversationId).addUserIds(userId)).build(),
        frame(12).setRemoveMember(RemoveMember.newBuilder().setConversationId(conversationId).setUserId(userId)).build(),
        frame(13)
            .setSetMemberRole(
                SetMemberRole.newBuilder().setConversationId(conversationId).setUserId(userId).setRole(Role.ROLE_OWNER))
            .build(),
        frame(14).setUpdateConversation(UpdateConversation.newBuilder().setConversationId(conversationId).setMetadata(meta)).build(),
        frame(15).setListMembers(ListMembers.newBuilder().setConversationId(conversationId).setLimit(5)).build(),
        frame(16)
            .setSendMessage(
                SendMessage.newBuilder()
                    .setConversationId(conversationId)
                    .setClientMsgId("k-1")
                    .setContentType("text/plain")
                    .setBody(ByteString.copyFromUtf8("hello fuzz"))
                    .setReplyToSeq(1)
                    .addMentions(userId))
            .build(),
        frame(17)
            .setEditMessage(
                EditMessage.newBuilder()
                    .setConversationId(conversationId)
                    .setTargetSeq(1)
                    .setContentType("text/plain")
                    .setBody(ByteString.copyFromUtf8("edited")))
            .build(),
        frame(18).setDeleteMessage(DeleteMessage.newBuilder().setConversationId(conversationId).setTargetSeq(1)).build(),
        frame(19).setAddReaction(AddReaction.newBuilder().setConversationId(conversationId).setTargetSeq(1).setReaction("+1")).build(),
        frame(20).setRemoveReaction(RemoveReaction.newBuilder().setConversationId(conversationId).setTargetSeq(1).setReaction("+1")).build(),
        frame(21)
            .setGetHistory(
                GetHistory.newBuilder().setConversationId(conversationId).setFromSeq(0).setDirection(Direction.DIRECTION_FORWARD).setLimit(20))
            .build(),
        frame(22)
            .setSync(
                Sync.newBuilder()
                    .setLimit(10)
                    .addChannelCursors(ConversationCursor.newBuilder().setConversationId(conversationId).setSeq(1)))
            .build(),
        frame(23).setMarkDelivered(MarkDelivered.newBuilder().setConversationId(conversationId).setSeq(1)).build(),
        frame(24).setMarkRead(MarkRead.newBuilder().setConversationId(conversationId).setSeq(1)).build(),
        frame(25).setGetReceipts(GetReceipts.newBuilder().setConversationId(conversationId)).build(),
        frame(26).setSendTyping(SendTyping.newBuilder().setConversationId(conversationId).setTyping(true)).build(),
        frame(27).setSetPresence(SetPresence.newBuilder().setStatus(PresenceStatus.PRESENCE_STATUS_AWAY)).build(),
        frame(28).setSubscribePresence(SubscribePresence.newBuilder().addUserIds(userId)).build(),
        frame(29).setGetProfile(GetProfile.newBuilder().setUserId(userId)).build(),
        frame(30).setUpdateProfile(UpdateProfile.newBuilder().setDisplayName("Fuzz").setAvatarUrl("https://example.com/a.png")).build());
  }

  private static ClientFrame.Builder frame(long requestId) {
    return ClientFrame.newBuilder().setRequestId(requestId);
  }

  /** The canonical JSON mapping of a frame, as UTF-8 bytes. */
  public static byte[] json(ClientFrame frame) {
    try {
      return JsonFormat.printer().print(frame).getBytes(StandardCharsets.UTF_8);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first {@code length} bytes (clamped to the array). */
  public static byte[] truncate(byte[] bytes, int length) {
    return Arrays.copyOf(bytes, Math.max(0, Math.min(length, bytes.length)));
  }

  /** A copy with the given bit positions (modulo the bit length) inverted. */
  public static byte[] flipBits(byte[] bytes, List<Integer> bitPositions) {
    byte[] out = bytes.clone();
    if (out.length == 0) {
      return out;
    }
    for (int p : bitPositions) {
      int bit = Math.floorMod(p, out.length * 8);
      out[bit / 8] ^= (byte) (1 << (bit % 8));
    }
    return out;
  }

  /** A copy with the byte at {@code position} (modulo the length) replaced. */
  public static byte[] setByte(byte[] bytes, int position, byte value) {
    byte[] out = bytes.clone();
    if (out.length > 0) {
      out[Math.floorMod(position, out.length)] = value;
    }
    return out;
  }
}
