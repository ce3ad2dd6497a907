package io.parley.server.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.MemberJoined;
import io.parley.protocol.v1.MessagePosted;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.protocol.v1.Role;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.UserRecord;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.WebhookRecord;
import java.util.List;
import net.jqwik.api.From;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Positive;

class RecordCodecTest {

  @Property(tries = 200)
  void usersRoundTrip(
      @ForAll("text") String name,
      @ForAll("text") String avatar,
      @ForAll boolean deactivated,
      @ForAll long created,
      @ForAll long updated) {
    UserRecord u = new UserRecord("u1", name, avatar, deactivated, created, updated);

    assertThat(RecordCodec.decodeUser("u1", RecordCodec.encodeUser(u))).isEqualTo(u);
  }

  @Property(tries = 200)
  void conversationsRoundTrip(
      @ForAll("kinds") ConversationKind kind,
      @ForAll("metadata") ConversationMetadata metadata,
      @ForAll boolean isPublic,
      @ForAll("visibilities") ReceiptVisibility visibility,
      @ForAll long created,
      @ForAll long lastSeq,
      @ForAll long messageCount,
      @ForAll long lastMessageSeq,
      @ForAll int memberCount) {
    ConversationRecord c =
        new ConversationRecord(
            "c1", kind, metadata, isPublic, visibility, created, lastSeq, messageCount,
            lastMessageSeq, memberCount);

    assertThat(RecordCodec.decodeConversation("c1", RecordCodec.encodeConversation(c)))
        .isEqualTo(c);
  }

  @Property(tries = 200)
  void membersRoundTrip(@ForAll("roles") Role role, @ForAll long joinedAt, @ForAll long joinedSeq) {
    MemberRecord m = new MemberRecord("c1", "u1", role, joinedAt, joinedSeq);

    assertThat(RecordCodec.decodeMember("c1", "u1", RecordCodec.encodeMember(m))).isEqualTo(m);
  }

  @Property(tries = 200)
  void receiptsRoundTrip(@ForAll long delivered, @ForAll long read, @ForAll long ordinal) {
    ReceiptRecord r = new ReceiptRecord("c1", "u1", delivered, read, ordinal);

    assertThat(RecordCodec.decodeReceipt("c1", "u1", RecordCodec.encodeReceipt(r))).isEqualTo(r);
  }

  @Property(tries = 200)
  void feedEntriesRoundTrip(
      @ForAll("text") String conversationId, @ForAll @Positive long seq, @ForAll long feedSeq) {
    FeedEntry expected = new FeedEntry("u1", 0, feedSeq, conversationId, seq);

    byte[] value = RecordCodec.encodeFeedValue(conversationId, seq);

    assertThat(RecordCodec.decodeFeed("u1", feedSeq, value)).isEqualTo(expected);
  }

  @Property(tries = 200)
  void idempotencySeqsRoundTrip(@ForAll long seq) {
    assertThat(RecordCodec.decodeSeq(RecordCodec.encodeSeq(seq))).isEqualTo(seq);
  }

  @Property(tries = 200)
  void eventsRoundTripWithTheirMessageOrdinal(
      @ForAll("events") Event event, @ForAll long messageOrdinal) {
    StoredEvent stored = new StoredEvent(event, messageOrdinal);

    assertThat(RecordCodec.decodeEvent(RecordCodec.encodeEvent(stored))).isEqualTo(stored);
  }

  @Example
  void unknownFormatVersionIsRejectedAsCorrupt() {
    byte[] value = RecordCodec.encodeSeq(7);
    value[0] = (byte) (RecordCodec.VERSION + 1);

    assertThatThrownBy(() -> RecordCodec.decodeSeq(value))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("version");
  }

  @Property(tries = 200)
  void outboxJobsRoundTrip(
      @ForAll("text") String target,
      @ForAll byte[] payload,
      @ForAll int attempts,
      @ForAll long nextAttempt,
      @ForAll("text") String error,
      @ForAll long seq) {
    OutboxJob j =
        new OutboxJob("lane", seq, "job-1", "webhook", target, payload, attempts, nextAttempt, error, 7);

    assertThat(RecordCodec.decodeJob(RecordCodec.encodeJob(j))).isEqualTo(j);
  }

  @Property(tries = 200)
  void webhooksAndPushTargetsRoundTrip(
      @ForAll("text") String url,
      @ForAll("text") String secret,
      @ForAll List<@From("text") String> types,
      @ForAll("text") String token,
      @ForAll long created) {
    WebhookRecord w = new WebhookRecord("wh", url, secret, types, created);
    PushTargetRecord t = new PushTargetRecord("u", "t", "device", "webhook", token, created);

    assertThat(RecordCodec.decodeWebhook("wh", RecordCodec.encodeWebhook(w))).isEqualTo(w);
    assertThat(RecordCodec.decodePushTarget("u", "t", RecordCodec.encodePushTarget(t))).isEqualTo(t);
  }

  @Property(tries = 500)
  void randomBytesNeverDecodeToAnythingButAJobOrCorruption(@ForAll byte[] value) {
    try {
      RecordCodec.decodeJob(value);
      RecordCodec.decodeWebhook("wh", value);
    } catch (IllegalStateException expected) {
      // corrupt data is reported as such; anything else (OOM, NegativeArraySize, ...) fails
    }
  }

  @Example
  void truncatedValuesAreRejectedAsCorrupt() {
    byte[] user = RecordCodec.encodeUser(new UserRecord("u", "name", "url", false, 1, 2));
    byte[] truncated = Arrays.copyOf(user, user.length - 3);

    assertThatThrownBy(() -> RecordCodec.decodeUser("u", truncated))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> RecordCodec.decodeSeq(new byte[0]))
        .isInstanceOf(IllegalStateException.class);
  }

  @Example
  void trailingBytesFromALaterVersionAreIgnored() {
    ReceiptRecord r = new ReceiptRecord("c", "u", 3, 2, 1);
    byte[] value = RecordCodec.encodeReceipt(r);
    byte[] extended = Arrays.copyOf(value, value.length + 4);

    assertThat(RecordCodec.decodeReceipt("c", "u", extended)).isEqualTo(r);
  }

  @Example
  void unrecognizedEnumsCannotBeStored() {
    MemberRecord m = new MemberRecord("c", "u", Role.UNRECOGNIZED, 0, 0);

    assertThatThrownBy(() -> RecordCodec.encodeMember(m))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- generators ----

  @Provide
  Arbitrary<String> text() {
    return Arbitraries.integers()
        .between(0, 0x10ffff)
        .filter(c -> c < 0xd800 || c > 0xdfff)
        .list()
        .ofMaxSize(20)
        .map(
            cps -> {
              StringBuilder sb = new StringBuilder();
              cps.forEach(sb::appendCodePoint);
              return sb.toString();
            });
  }

  @Provide
  Arbitrary<ConversationKind> kinds() {
    return Arbitraries.of(known(ConversationKind.values()));
  }

  @Provide
  Arbitrary<ReceiptVisibility> visibilities() {
    return Arbitraries.of(known(ReceiptVisibility.values()));
  }

  @Provide
  Arbitrary<Role> roles() {
    return Arbitraries.of(known(Role.values()));
  }

  @Provide
  Arbitrary<ConversationMetadata> metadata() {
    Arbitrary<byte[]> blobs = Arbitraries.bytes().array(byte[].class).ofMaxSize(64);
    return Combinators.combine(text(), text(), blobs)
        .as(
            (title, description, appData) ->
                ConversationMetadata.newBuilder()
                    .setTitle(title)
                    .setDescription(description)
                    .setAppData(ByteString.copyFrom(appData))
                    .build());
  }

  @Provide
  Arbitrary<Event> events() {
    Arbitrary<Event> posted =
        Combinators.combine(
                Arbitraries.longs().between(1, Long.MAX_VALUE),
                text(),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(128))
            .as(
                (seq, clientId, body) ->
                    Event.newBuilder()
                        .setConversationId("c1")
                        .setSeq(seq)
                        .setTimestampMs(1_700_000_000_000L)
                        .setActorUserId("u1")
                        .setMessagePosted(
                            MessagePosted.newBuilder()
                                .setMessageId("m1")
                                .setClientMsgId(clientId)
                                .setBody(ByteString.copyFrom(body)))
                        .build());
    Arbitrary<Event> joined =
        Arbitraries.longs()
            .between(1, 1000)
            .map(
                seq ->
                    Event.newBuilder()
                        .setConversationId("c1")
                        .setSeq(seq)
                        .setMemberJoined(
                            MemberJoined.newBuilder().setUserId("u2").setRole(Role.ROLE_MEMBER))
                        .build());
    return Arbitraries.oneOf(posted, joined);
  }

  private static <E extends Enum<E>> List<E> known(E[] values) {
    return Arrays.stream(values).filter(v -> !v.name().equals("UNRECOGNIZED")).toList();
  }
}
