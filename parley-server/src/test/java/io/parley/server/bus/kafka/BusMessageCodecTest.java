package io.parley.server.bus.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.protocol.cluster.v1.RouteDelivery;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MemberJoined;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.PresenceStatus;
import io.parley.protocol.v1.ReceiptKind;
import io.parley.server.bus.BusMessage;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class BusMessageCodecTest {

  @Property
  void everyBusMessageSurvivesTheEnvelope(@ForAll("messages") BusMessage message) throws Exception {
    byte[] bytes = BusMessageCodec.encode(message).toByteArray();
    assertThat(BusMessageCodec.decode(BusMessageCodec.parse(bytes))).isEqualTo(message);
  }

  /** Random bytes either parse into some envelope or are refused with the one documented error. */
  @Property(tries = 2000)
  void randomBytesNeverEscapeAsAnotherError(@ForAll byte[] bytes) {
    try {
      RouteDelivery d = BusMessageCodec.parse(bytes);
      BusMessageCodec.decode(d);
    } catch (IllegalArgumentException expected) {
      // refused: the reader logs and skips the record
    }
  }

  @Test
  void aTruncatedEnvelopeIsRefused() {
    byte[] bytes =
        BusMessageCodec.encode(new BusMessage.UserDeactivated("someone-with-a-long-id"))
            .toByteArray();
    byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 3);
    assertThatThrownBy(() -> BusMessageCodec.parse(cut))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BusMessageCodec.parse(null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Provide
  Arbitrary<BusMessage> messages() {
    Arbitrary<String> id = Arbitraries.strings().alpha().numeric().withChars("_-ü€").ofMinLength(1).ofMaxLength(12);
    Arbitrary<Set<String>> users = id.set().ofMaxSize(5);
    Arbitrary<Event> event =
        Combinators.combine(id, Arbitraries.longs().between(1, Long.MAX_VALUE / 2), id, Arbitraries.of(true, false))
            .as(
                (conv, seq, user, joined) -> {
                  Event.Builder e =
                      Event.newBuilder().setConversationId(conv).setSeq(seq).setActorUserId(user);
                  return joined
                      ? e.setMemberJoined(MemberJoined.newBuilder().setUserId(user)).build()
                      : e.setMessagePosted(MessagePosted.newBuilder().setMessageId("m" + seq))
                          .build();
                });
    Arbitrary<BusMessage> committed =
        Combinators.combine(
                id,
                Arbitraries.of(
                    ConversationKind.CONVERSATION_KIND_DIRECT,
                    ConversationKind.CONVERSATION_KIND_GROUP,
                    ConversationKind.CONVERSATION_KIND_CHANNEL),
                event.list().ofMaxSize(4),
                users)
            .as(BusMessage.CommittedEvents::new);
    Arbitrary<BusMessage> typing =
        Combinators.combine(id, id, Arbitraries.of(true, false), users).as(BusMessage.Typing::new);
    Arbitrary<BusMessage> presence =
        Combinators.combine(
                id,
                Arbitraries.of(PresenceStatus.PRESENCE_STATUS_ONLINE, PresenceStatus.PRESENCE_STATUS_OFFLINE),
                Arbitraries.longs().greaterOrEqual(0))
            .as(BusMessage.Presence::new);
    Arbitrary<BusMessage> receipt =
        Combinators.combine(
                id,
                id,
                Arbitraries.of(ReceiptKind.RECEIPT_KIND_DELIVERED, ReceiptKind.RECEIPT_KIND_READ),
                Arbitraries.longs().greaterOrEqual(0),
                users)
            .as(BusMessage.Receipt::new);
    Arbitrary<BusMessage> deactivated = id.map(BusMessage.UserDeactivated::new);
    return Arbitraries.oneOf(committed, typing, presence, receipt, deactivated);
  }

  @Test
  void acknowledgementsCarryNoBusMessage() {
    assertThat(BusMessageCodec.decode(RouteDelivery.getDefaultInstance())).isNull();
  }
}
