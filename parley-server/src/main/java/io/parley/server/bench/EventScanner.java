package io.parley.server.bench;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Reads the log events out of a pushed {@code ServerFrame} (a single {@code event} or an {@code
 * event_batch}) straight from the frame's bytes: conversation id, seq and the posted message's body
 * position. Hand-written instead of {@code ServerFrame.parseFrom} because the generator must stay
 * cheaper per received event than the server is per sent one: a full parse allocates about ten
 * objects per event (strings for every id, the body, builders), this allocates nothing when
 * consecutive events are of the same conversation (the id string is reused).
 *
 * <p>Field numbers are those of {@code parley/v1/client.proto} and {@code events.proto}; unknown
 * fields are skipped as protobuf requires. Not thread-safe (one per connection).
 */
final class EventScanner {
  /** What the scanner finds, per event. */
  @FunctionalInterface
  interface Sink {
    void event(String conversationId, long seq, ByteBuf buf, int bodyIndex, int bodyLength);
  }

  private static final int SERVER_FRAME_REQUEST_ID = 1;
  private static final int SERVER_FRAME_EVENT = 100;
  private static final int SERVER_FRAME_EVENT_BATCH = 101;
  private static final int BATCH_EVENTS = 1;
  private static final int EVENT_CONVERSATION_ID = 1;
  private static final int EVENT_SEQ = 2;
  private static final int EVENT_MESSAGE_POSTED = 11;
  private static final int POSTED_BODY = 4;

  private static final int VARINT = 0;
  private static final int I64 = 1;
  private static final int LEN = 2;
  private static final int I32 = 5;

  private final Sink sink;
  private byte[] lastIdBytes = new byte[0];
  private String lastId = "";

  EventScanner(Sink sink) {
    this.sink = sink;
  }

  /** The frame's {@code request_id} (0 for a push). Does not move the buffer's reader index. */
  static long requestId(ByteBuf buf) {
    int[] pos = {buf.readerIndex()};
    int end = buf.writerIndex();
    while (pos[0] < end) {
      long tag = varint(buf, pos);
      int field = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      if (field == SERVER_FRAME_REQUEST_ID && type == VARINT) {
        return varint(buf, pos);
      }
      skip(buf, pos, type, end);
    }
    return 0;
  }

  /** Reports every event of a pushed frame to the sink; other pushes are ignored. */
  void scan(ByteBuf buf) {
    int[] pos = {buf.readerIndex()};
    int end = buf.writerIndex();
    while (pos[0] < end) {
      long tag = varint(buf, pos);
      int field = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      if (type == LEN && field == SERVER_FRAME_EVENT) {
        int length = length(buf, pos, end);
        event(buf, pos[0], pos[0] + length);
        pos[0] += length;
      } else if (type == LEN && field == SERVER_FRAME_EVENT_BATCH) {
        int length = length(buf, pos, end);
        batch(buf, pos[0], pos[0] + length);
        pos[0] += length;
      } else {
        skip(buf, pos, type, end);
      }
    }
  }

  private void batch(ByteBuf buf, int from, int to) {
    int[] pos = {from};
    while (pos[0] < to) {
      long tag = varint(buf, pos);
      int type = (int) (tag & 7);
      if (type == LEN && (tag >>> 3) == BATCH_EVENTS) {
        int length = length(buf, pos, to);
        event(buf, pos[0], pos[0] + length);
        pos[0] += length;
      } else {
        skip(buf, pos, type, to);
      }
    }
  }

  private void event(ByteBuf buf, int from, int to) {
    int[] pos = {from};
    String conversation = "";
    long seq = 0;
    int bodyAt = -1;
    int bodyLength = 0;
    while (pos[0] < to) {
      long tag = varint(buf, pos);
      int field = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      if (field == EVENT_CONVERSATION_ID && type == LEN) {
        int length = length(buf, pos, to);
        conversation = conversationId(buf, pos[0], length);
        pos[0] += length;
      } else if (field == EVENT_SEQ && type == VARINT) {
        seq = varint(buf, pos);
      } else if (field == EVENT_MESSAGE_POSTED && type == LEN) {
        int length = length(buf, pos, to);
        int postedEnd = pos[0] + length;
        // proto3 omits an empty body: a posted message without one has a body of length 0.
        bodyAt = postedEnd;
        bodyLength = 0;
        while (pos[0] < postedEnd) {
          long t = varint(buf, pos);
          if ((t >>> 3) == POSTED_BODY && (t & 7) == LEN) {
            bodyLength = length(buf, pos, postedEnd);
            bodyAt = pos[0];
            pos[0] += bodyLength;
          } else {
            skip(buf, pos, (int) (t & 7), postedEnd);
          }
        }
      } else {
        skip(buf, pos, type, to);
      }
    }
    sink.event(conversation, seq, buf, bodyAt, bodyLength);
  }

  private String conversationId(ByteBuf buf, int at, int length) {
    byte[] last = lastIdBytes;
    if (last.length == length) {
      boolean same = true;
      for (int i = 0; i < length; i++) {
        if (buf.getByte(at + i) != last[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        return lastId;
      }
    }
    byte[] bytes = new byte[length];
    buf.getBytes(at, bytes);
    lastIdBytes = bytes;
    lastId = new String(bytes, StandardCharsets.UTF_8);
    return lastId;
  }

  private static long varint(ByteBuf buf, int[] pos) {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = buf.getByte(pos[0]++);
      value |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return value;
      }
    }
    throw new IllegalArgumentException("malformed varint in a server frame");
  }

  /** Reads a length prefix that must fit between the position and {@code end}. */
  private static int length(ByteBuf buf, int[] pos, int end) {
    long length = varint(buf, pos);
    if (length < 0 || length > end - pos[0]) {
      throw new IllegalArgumentException("length " + length + " runs past the end of a server frame");
    }
    return (int) length;
  }

  private static void skip(ByteBuf buf, int[] pos, int type, int end) {
    switch (type) {
      case VARINT -> varint(buf, pos);
      case I64 -> pos[0] += 8;
      case LEN -> {
        int length = length(buf, pos, end);
        pos[0] += length;
      }
      case I32 -> pos[0] += 4;
      default -> throw new IllegalArgumentException("unsupported wire type " + type + " in a server frame");
    }
  }
}
