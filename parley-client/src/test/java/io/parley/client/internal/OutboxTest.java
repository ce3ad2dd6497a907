package io.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class OutboxTest {

  private static SendMessage msg(String conversation, String id) {
    return SendMessage.newBuilder().setConversationId(conversation).setClientMsgId(id).build();
  }

  private static List<String> ids(List<Outbox.Entry> entries) {
    return entries.stream().map(Outbox.Entry::clientMsgId).toList();
  }

  @Test
  void sendsOneMessagePerConversationAtATimeInOrder() {
    Outbox outbox = new Outbox();
    outbox.add(msg("a", "a1"), null, true);
    outbox.add(msg("a", "a2"), null, true);
    outbox.add(msg("b", "b1"), null, true);

    assertThat(ids(outbox.takeSendable(0))).containsExactly("a1", "b1");
    assertThat(outbox.takeSendable(0)).isEmpty();

    outbox.acknowledge("a1");

    assertThat(ids(outbox.takeSendable(0))).containsExactly("a2");
  }

  @Test
  void aMessageWaitingForItsRetryTimeHoldsBackLaterOnesOfItsConversation() {
    Outbox outbox = new Outbox();
    outbox.add(msg("a", "a1"), null, true);
    outbox.add(msg("a", "a2"), null, true);
    outbox.takeSendable(0);

    outbox.retryAt("a1", 500);

    assertThat(outbox.takeSendable(100)).isEmpty();
    assertThat(outbox.nextRetryAtMs(100)).isEqualTo(500);
    List<Outbox.Entry> retried = outbox.takeSendable(500);
    assertThat(ids(retried)).containsExactly("a1");
    assertThat(retried.get(0).message().getClientMsgId()).isEqualTo("a1");
    assertThat(retried.get(0).attempts()).isEqualTo(2);
  }

  @Test
  void aLostConnectionMakesInFlightMessagesSendableAgainWithTheSameId() {
    Outbox outbox = new Outbox();
    outbox.add(msg("a", "a1"), null, true);
    outbox.takeSendable(0);

    outbox.connectionLost();

    assertThat(ids(outbox.takeSendable(0))).containsExactly("a1");
  }

  @Test
  void onlyPersistedMessagesAreSent() {
    Outbox outbox = new Outbox();
    outbox.add(msg("a", "a1"), null, false);

    assertThat(outbox.takeSendable(0)).isEmpty();

    outbox.markDurable(List.of("a1"));

    assertThat(ids(outbox.takeSendable(0))).containsExactly("a1");
  }

  @Test
  void reusingAPendingIdJoinsTheExistingEntry() {
    Outbox outbox = new Outbox();
    CompletableFuture<SendResult> first = new CompletableFuture<>();
    CompletableFuture<SendResult> second = new CompletableFuture<>();

    assertThat(outbox.add(msg("a", "x"), first, true)).isTrue();
    assertThat(outbox.add(msg("a", "x"), second, true)).isFalse();

    assertThat(outbox.size()).isEqualTo(1);
    assertThat(outbox.acknowledge("x").futures()).containsExactly(first, second);
    assertThat(outbox.isEmpty()).isTrue();
  }

  @Test
  void messagesKeepTheirOrderForPersistenceAndRejectionRemovesThem() {
    Outbox outbox = new Outbox();
    outbox.add(msg("a", "1"), null, true);
    outbox.add(msg("b", "2"), null, true);
    outbox.add(msg("a", "3"), null, true);

    assertThat(outbox.reject("2")).isNotNull();
    assertThat(outbox.reject("2")).isNull();

    assertThat(outbox.messages()).extracting(SendMessage::getClientMsgId).containsExactly("1", "3");
  }
}
