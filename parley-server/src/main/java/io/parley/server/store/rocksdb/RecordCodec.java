package io.parley.server.store.rocksdb;

import com.google.protobuf.InvalidProtocolBufferException;
import io.parley.protocol.v1.ConversationKind;
import io.parley.protocol.v1.ConversationMetadata;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.ReceiptVisibility;
import io.parley.protocol.v1.Role;
import io.parley.server.store.ConversationRecord;
import io.parley.server.store.FeedEntry;
import io.parley.server.store.MemberRecord;
import io.parley.server.store.OutboxJob;
import io.parley.server.store.PushTargetRecord;
import io.parley.server.store.WebhookRecord;
import java.util.ArrayList;
import java.util.List;
import io.parley.server.store.ReceiptRecord;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.UserRecord;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The byte layout of every RocksDB value. Each value starts with a format version byte ({@value
 * #VERSION}); the fields follow in a fixed order, big-endian, strings as a 4-byte length plus UTF-8
 * bytes. Ids that are part of the key are not repeated in the value: decoders take them from the
 * key. Decoders ignore trailing bytes after the known fields, so a later version may append
 * fields; an unknown version is rejected as corrupt data. Events are stored as the version byte,
 * the 8-byte message ordinal, then the {@code Event} protobuf bytes; conversation metadata as its
 * protobuf bytes.
 *
 * <p>Strings that are not well-formed UTF-16 (unpaired surrogates) are stored with the standard
 * UTF-8 replacement and so do not round-trip exactly; ids never reach here unvalidated.
 *
 * <p>Stateless; all methods are pure functions and thread-safe.
 */
final class RecordCodec {
  /** The current value format version. */
  static final byte VERSION = 1;

  private RecordCodec() {}

  static byte[] encodeUser(UserRecord u) {
    return write(
        out -> {
          writeString(out, u.displayName());
          writeString(out, u.avatarUrl());
          out.writeBoolean(u.deactivated());
          out.writeLong(u.createdAtMs());
          out.writeLong(u.updatedAtMs());
        });
  }

  static UserRecord decodeUser(String userId, byte[] value) {
    ByteBuffer in = open(value);
    try {
      return new UserRecord(
          userId, readString(in), readString(in), readBoolean(in), in.getLong(), in.getLong());
    } catch (BufferUnderflowException e) {
      throw corrupt("user", e);
    }
  }

  static byte[] encodeConversation(ConversationRecord c) {
    int kind = c.kind().getNumber();
    int visibility = c.receiptVisibility().getNumber();
    return write(
        out -> {
          out.writeInt(kind);
          writeBytes(out, c.metadata().toByteArray());
          out.writeBoolean(c.isPublic());
          out.writeInt(visibility);
          out.writeLong(c.createdAtMs());
          out.writeLong(c.lastSeq());
          out.writeLong(c.messageCount());
          out.writeLong(c.lastMessageSeq());
          out.writeInt(c.memberCount());
        });
  }

  static ConversationRecord decodeConversation(String conversationId, byte[] value) {
    ByteBuffer in = open(value);
    try {
      ConversationKind kind = kindOf(in.getInt());
      ConversationMetadata metadata = ConversationMetadata.parseFrom(readBytes(in));
      boolean isPublic = readBoolean(in);
      ReceiptVisibility visibility = visibilityOf(in.getInt());
      return new ConversationRecord(
          conversationId,
          kind,
          metadata,
          isPublic,
          visibility,
          in.getLong(),
          in.getLong(),
          in.getLong(),
          in.getLong(),
          in.getInt());
    } catch (BufferUnderflowException | InvalidProtocolBufferException e) {
      throw corrupt("conversation", e);
    }
  }

  /** The value of both the {@code members} and the {@code userconv} entry of a membership. */
  static byte[] encodeMember(MemberRecord m) {
    int role = m.role().getNumber();
    return write(
        out -> {
          out.writeInt(role);
          out.writeLong(m.joinedAtMs());
          out.writeLong(m.joinedSeq());
        });
  }

  static MemberRecord decodeMember(String conversationId, String userId, byte[] value) {
    ByteBuffer in = open(value);
    try {
      return new MemberRecord(
          conversationId, userId, roleOf(in.getInt()), in.getLong(), in.getLong());
    } catch (BufferUnderflowException e) {
      throw corrupt("member", e);
    }
  }

  static byte[] encodeReceipt(ReceiptRecord r) {
    return write(
        out -> {
          out.writeLong(r.deliveredSeq());
          out.writeLong(r.readSeq());
          out.writeLong(r.readMessageOrdinal());
        });
  }

  static ReceiptRecord decodeReceipt(String conversationId, String userId, byte[] value) {
    ByteBuffer in = open(value);
    try {
      return new ReceiptRecord(conversationId, userId, in.getLong(), in.getLong(), in.getLong());
    } catch (BufferUnderflowException e) {
      throw corrupt("receipt", e);
    }
  }

  /** The value of a feed entry: the event it points at. */
  static byte[] encodeFeedValue(String conversationId, long seq) {
    return write(
        out -> {
          writeString(out, conversationId);
          out.writeLong(seq);
        });
  }

  /** Decodes an entry of the embedded store's only feed shard (0). */
  static FeedEntry decodeFeed(String userId, long feedSeq, byte[] value) {
    ByteBuffer in = open(value);
    try {
      return new FeedEntry(userId, 0, feedSeq, readString(in), in.getLong());
    } catch (BufferUnderflowException e) {
      throw corrupt("feed entry", e);
    }
  }

  /** The value of an idempotency entry: the seq the original send created. */
  static byte[] encodeSeq(long seq) {
    return write(out -> out.writeLong(seq));
  }

  static long decodeSeq(byte[] value) {
    ByteBuffer in = open(value);
    try {
      return in.getLong();
    } catch (BufferUnderflowException e) {
      throw corrupt("idempotency entry", e);
    }
  }

  static byte[] encodeEvent(StoredEvent e) {
    byte[] event = e.event().toByteArray();
    ByteBuffer out = ByteBuffer.allocate(1 + Long.BYTES + event.length);
    out.put(VERSION).putLong(e.messageOrdinal()).put(event);
    return out.array();
  }

  static StoredEvent decodeEvent(byte[] value) {
    ByteBuffer in = open(value);
    try {
      long ordinal = in.getLong();
      Event event = Event.parseFrom(in);
      return new StoredEvent(event, ordinal);
    } catch (BufferUnderflowException | InvalidProtocolBufferException e) {
      throw corrupt("event", e);
    }
  }

  /** The value of a marker entry (notify-pending, mute): just the version byte. */
  static byte[] encodeMarker() {
    return write(out -> {});
  }

  /** The value of an outbox job and of a dead letter (the lane and seq included). */
  static byte[] encodeJob(OutboxJob j) {
    return write(
        out -> {
          writeString(out, j.lane());
          out.writeLong(j.seq());
          writeString(out, j.jobId());
          writeString(out, j.kind());
          writeString(out, j.target());
          writeBytes(out, j.payload());
          out.writeInt(j.attempts());
          out.writeLong(j.nextAttemptAtMs());
          writeString(out, j.lastError());
          out.writeLong(j.createdAtMs());
        });
  }

  static OutboxJob decodeJob(byte[] value) {
    ByteBuffer in = open(value);
    try {
      return new OutboxJob(
          readString(in),
          in.getLong(),
          readString(in),
          readString(in),
          readString(in),
          readBytes(in),
          in.getInt(),
          in.getLong(),
          readString(in),
          in.getLong());
    } catch (BufferUnderflowException e) {
      throw corrupt("outbox job", e);
    }
  }

  static byte[] encodeWebhook(WebhookRecord w) {
    return write(
        out -> {
          writeString(out, w.url());
          writeString(out, w.secret());
          out.writeInt(w.eventTypes().size());
          for (String t : w.eventTypes()) {
            writeString(out, t);
          }
          out.writeLong(w.createdAtMs());
        });
  }

  static WebhookRecord decodeWebhook(String webhookId, byte[] value) {
    ByteBuffer in = open(value);
    try {
      String url = readString(in);
      String secret = readString(in);
      int n = in.getInt();
      if (n < 0 || n > in.remaining()) {
        throw new BufferUnderflowException();
      }
      List<String> types = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        types.add(readString(in));
      }
      return new WebhookRecord(webhookId, url, secret, types, in.getLong());
    } catch (BufferUnderflowException e) {
      throw corrupt("webhook", e);
    }
  }

  static byte[] encodePushTarget(PushTargetRecord t) {
    return write(
        out -> {
          writeString(out, t.deviceId());
          writeString(out, t.provider());
          writeString(out, t.token());
          out.writeLong(t.createdAtMs());
        });
  }

  static PushTargetRecord decodePushTarget(String userId, String targetId, byte[] value) {
    ByteBuffer in = open(value);
    try {
      return new PushTargetRecord(
          userId, targetId, readString(in), readString(in), readString(in), in.getLong());
    } catch (BufferUnderflowException e) {
      throw corrupt("push target", e);
    }
  }

  private static ConversationKind kindOf(int n) {
    ConversationKind k = ConversationKind.forNumber(n);
    return k == null ? ConversationKind.UNRECOGNIZED : k;
  }

  private static ReceiptVisibility visibilityOf(int n) {
    ReceiptVisibility v = ReceiptVisibility.forNumber(n);
    return v == null ? ReceiptVisibility.UNRECOGNIZED : v;
  }

  private static Role roleOf(int n) {
    Role r = Role.forNumber(n);
    return r == null ? Role.UNRECOGNIZED : r;
  }

  /** Field writer for {@link #write}; {@link IOException} cannot occur on a byte array. */
  private interface Fields {
    void writeTo(DataOutputStream out) throws IOException;
  }

  private static byte[] write(Fields fields) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      fields.writeTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static ByteBuffer open(byte[] value) {
    if (value.length == 0) {
      throw new IllegalStateException("corrupt record: empty value");
    }
    if (value[0] != VERSION) {
      throw new IllegalStateException("corrupt record: unknown format version " + value[0]);
    }
    return ByteBuffer.wrap(value, 1, value.length - 1);
  }

  private static String readString(ByteBuffer in) {
    return new String(readBytes(in), StandardCharsets.UTF_8);
  }

  private static byte[] readBytes(ByteBuffer in) {
    int n = in.getInt();
    if (n < 0 || n > in.remaining()) {
      throw new BufferUnderflowException();
    }
    byte[] b = new byte[n];
    in.get(b);
    return b;
  }

  private static boolean readBoolean(ByteBuffer in) {
    return in.get() != 0;
  }

  private static IllegalStateException corrupt(String what, Exception cause) {
    return new IllegalStateException("corrupt " + what + " record", cause);
  }
}
