package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.parley.protocol.v1.AddReaction;
import io.parley.protocol.v1.DeleteMessage;
import io.parley.protocol.v1.EditMessage;
import io.parley.protocol.v1.RemoveReaction;
import io.parley.protocol.v1.SendResult;
import io.parley.server.core.Caller;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The gateway gives every edit, delete and reaction an idempotency key when its client chose none,
 * so that the engine can recognise the same Kafka record run a second time; a client's own key is
 * passed through untouched.
 */
class RemoteMessageServiceTest {
  private final List<Message> sent = new ArrayList<>();
  private final RemoteMessageService service =
      new RemoteMessageService(
          new RpcChannel() {
            @Override
            @SuppressWarnings("unchecked")
            public <Q extends Message, R extends Message> CompletableFuture<R> call(
                RpcMethod<?, Q, R> method, Caller caller, Q request) {
              sent.add(request);
              return CompletableFuture.completedFuture((R) SendResult.getDefaultInstance());
            }
          });
  private final Caller bob = Caller.user("bob", "phone");

  @Test
  void operationsWithoutAKeyGetAFreshOne() {
    service.edit(bob, EditMessage.newBuilder().setConversationId("g1").setTargetSeq(3).build());
    service.edit(bob, EditMessage.newBuilder().setConversationId("g1").setTargetSeq(3).build());
    service.delete(bob, DeleteMessage.newBuilder().setConversationId("g1").setTargetSeq(3).build());
    service.addReaction(bob, AddReaction.newBuilder().setConversationId("g1").setTargetSeq(3).build());
    service.removeReaction(
        bob, RemoveReaction.newBuilder().setConversationId("g1").setTargetSeq(3).build());

    List<String> keys =
        sent.stream().map(m -> (String) m.getField(
            m.getDescriptorForType().findFieldByName("client_msg_id"))).toList();
    assertThat(keys).allSatisfy(k -> assertThat(k).startsWith("op-")).doesNotHaveDuplicates();
  }

  @Test
  void aClientsOwnKeyIsKept() {
    service.edit(
        bob,
        EditMessage.newBuilder().setConversationId("g1").setTargetSeq(3).setClientMsgId("mine").build());
    assertThat(((EditMessage) sent.get(0)).getClientMsgId()).isEqualTo("mine");
  }
}
