package io.parley.server.store.rocksdb;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The byte layout of every RocksDB key, chosen so that RocksDB's unsigned lexicographic byte order
 * is the logical order of the key's components.
 *
 * <p>A key is a sequence of components, each of which is either
 *
 * <ul>
 *   <li>an <b>id</b>: its UTF-8 bytes followed by one {@code 0x00} terminator. Ids are validated
 *       to be non-empty, at most {@value #MAX_ID_BYTES} UTF-8 bytes, well-formed UTF-16 and free
 *       of NUL, so the terminator is unambiguous and sorts below every id byte: {@code "a"} sorts
 *       before {@code "ab"}, and the keys of two different ids never interleave (no id's
 *       terminated form is a prefix of another's). Ids therefore sort by UTF-8 byte order, which
 *       is Unicode code point order; or
 *   <li>a <b>seq</b>: 8 bytes, big-endian, compared unsigned. The store only writes seqs {@code >=
 *       0}, for which unsigned and signed order agree.
 * </ul>
 *
 * <p>Each column family maps one-to-one onto a Cassandra table whose partition key is the first
 * id and whose clustering columns are the remaining components, in the same order (Cassandra
 * compares {@code text} clustering columns by UTF-8 bytes and {@code bigint} by value, which for
 * non-negative seqs is the order used here):
 *
 * <pre>
 *   events        (conversation, seq)            PRIMARY KEY ((conversation_id), seq)
 *   feed          (user, feedSeq)                PRIMARY KEY ((user_id), feed_seq)
 *   members       (conversation, user)           PRIMARY KEY ((conversation_id), user_id)
 *   userconv      (user, conversation)           PRIMARY KEY ((user_id), conversation_id)
 *   receipts      (conversation, user)           PRIMARY KEY ((conversation_id), user_id)
 *   idempotency   (conversation, user, clientId)
 *                                     PRIMARY KEY ((conversation_id), user_id, client_msg_id)
 *   users         (user)                         PRIMARY KEY ((user_id))
 *   conversations (conversation)                 PRIMARY KEY ((conversation_id))
 *   notify_pending (conversation, seq)           PRIMARY KEY ((conversation_id), seq)
 *   outbox        (lane, seq)                    PRIMARY KEY ((lane), seq)
 *   dead_letters  (job)                          PRIMARY KEY ((job_id))
 *   webhooks      (webhook)                      PRIMARY KEY ((webhook_id))
 *   push_targets  (user, target)                 PRIMARY KEY ((user_id), target_id)
 *   mutes         (user, conversation)           PRIMARY KEY ((user_id), conversation_id)
 * </pre>
 *
 * <p>All keys of one leading id form the half-open byte range {@code [prefix(id),
 * prefixEnd(prefix(id)))}: exactly one Cassandra partition.
 *
 * <p>Stateless; all methods are pure functions and thread-safe.
 */
final class KeyCodec {
  /** The longest id accepted, in UTF-8 bytes. */
  static final int MAX_ID_BYTES = 256;

  private static final byte TERMINATOR = 0;
  private static final int SEQ_BYTES = Long.BYTES;

  private KeyCodec() {}

  /** An id and a seq decoded from a key. */
  record IdSeq(String id, long seq) {}

  /** Two ids decoded from a key. */
  record IdPair(String first, String second) {}

  /**
   * The UTF-8 bytes of a valid id.
   *
   * @throws IllegalArgumentException if the id is empty, longer than {@value #MAX_ID_BYTES}
   *     UTF-8 bytes, contains NUL or is not well-formed UTF-16 (an unpaired surrogate)
   */
  static byte[] idBytes(String id) {
    if (id == null || id.isEmpty()) {
      throw new IllegalArgumentException("id must not be empty");
    }
    // Cheap bound first: every char takes at least one UTF-8 byte.
    if (id.length() > MAX_ID_BYTES) {
      throw new IllegalArgumentException("id longer than " + MAX_ID_BYTES + " bytes");
    }
    if (id.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("id must not contain NUL");
    }
    byte[] ascii = asciiBytes(id);
    if (ascii != null) {
      return ascii;
    }
    byte[] bytes;
    try {
      CharsetEncoder encoder =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT);
      ByteBuffer buf = encoder.encode(CharBuffer.wrap(id));
      bytes = Arrays.copyOfRange(buf.array(), buf.arrayOffset(), buf.arrayOffset() + buf.limit());
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("id is not well-formed Unicode", e);
    }
    if (bytes.length > MAX_ID_BYTES) {
      throw new IllegalArgumentException("id longer than " + MAX_ID_BYTES + " bytes");
    }
    return bytes;
  }

  /** The bytes of an all-ASCII string (the common case for ids), else null. */
  private static byte[] asciiBytes(String s) {
    byte[] out = new byte[s.length()];
    for (int i = 0; i < out.length; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        return null;
      }
      out[i] = (byte) c;
    }
    return out;
  }

  /** Throws {@link IllegalArgumentException} unless {@code id} is a valid id. */
  static void validateId(String id) {
    idBytes(id);
  }

  /** {@code id + 0x00}: the key of a single-id record and the prefix of all keys led by id. */
  static byte[] prefix(String id) {
    byte[] b = idBytes(id);
    byte[] out = Arrays.copyOf(b, b.length + 1);
    out[b.length] = TERMINATOR;
    return out;
  }

  /** Key of a record identified by one id (users, conversations). */
  static byte[] key(String id) {
    return prefix(id);
  }

  /** Key of a record identified by two ids (members, userconv, receipts). */
  static byte[] key(String first, String second) {
    return concat(prefix(first), prefix(second));
  }

  /** Key of a record identified by three ids (idempotency). */
  static byte[] key(String first, String second, String third) {
    return concat(prefix(first), prefix(second), prefix(third));
  }

  /** Key of a record identified by an id and a seq (events, feed). */
  static byte[] key(String id, long seq) {
    return withSeq(prefix(id), seq);
  }

  /** {@code prefix} followed by the 8-byte big-endian {@code seq}. */
  static byte[] withSeq(byte[] prefix, long seq) {
    byte[] out = Arrays.copyOf(prefix, prefix.length + SEQ_BYTES);
    for (int i = 0; i < SEQ_BYTES; i++) {
      out[prefix.length + i] = (byte) (seq >>> (8 * (SEQ_BYTES - 1 - i)));
    }
    return out;
  }

  /**
   * The exclusive upper bound of all keys starting with {@code prefix}, for a prefix produced by
   * {@link #prefix} (or any key ending in an id): the trailing terminator raised by one. No key
   * starting with the prefix reaches it, and every key of a greater id is at or above it.
   */
  static byte[] prefixEnd(byte[] prefix) {
    if (prefix.length == 0 || prefix[prefix.length - 1] != TERMINATOR) {
      throw new IllegalArgumentException("not an id prefix");
    }
    byte[] out = prefix.clone();
    out[out.length - 1] = 1;
    return out;
  }

  /** The smallest key strictly greater than {@code key}: {@code key + 0x00}. */
  static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }

  /** True when {@code key} starts with {@code prefix}. */
  static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  /** Decodes a single-id key. */
  static String decodeId(byte[] key) {
    int end = terminatorAt(key, 0);
    expectLength(key, end + 1);
    return utf8(key, 0, end);
  }

  /** Decodes a two-id key. */
  static IdPair decodeIdPair(byte[] key) {
    int firstEnd = terminatorAt(key, 0);
    int secondEnd = terminatorAt(key, firstEnd + 1);
    expectLength(key, secondEnd + 1);
    return new IdPair(utf8(key, 0, firstEnd), utf8(key, firstEnd + 1, secondEnd));
  }

  /** Decodes an id-and-seq key. */
  static IdSeq decodeIdSeq(byte[] key) {
    int end = terminatorAt(key, 0);
    expectLength(key, end + 1 + SEQ_BYTES);
    return new IdSeq(utf8(key, 0, end), seqAt(key, end + 1));
  }

  /** The seq in the last 8 bytes of an id-and-seq key. */
  static long trailingSeq(byte[] key) {
    if (key.length < SEQ_BYTES + 2) {
      throw new IllegalArgumentException("malformed key: too short for a seq");
    }
    return seqAt(key, key.length - SEQ_BYTES);
  }

  private static long seqAt(byte[] key, int offset) {
    long v = 0;
    for (int i = 0; i < SEQ_BYTES; i++) {
      v = (v << 8) | (key[offset + i] & 0xffL);
    }
    return v;
  }

  private static int terminatorAt(byte[] key, int from) {
    for (int i = from; i < key.length; i++) {
      if (key[i] == TERMINATOR) {
        if (i == from) {
          throw new IllegalArgumentException("malformed key: empty id");
        }
        return i;
      }
    }
    throw new IllegalArgumentException("malformed key: missing id terminator");
  }

  private static void expectLength(byte[] key, int length) {
    if (key.length != length) {
      throw new IllegalArgumentException(
          "malformed key: expected " + length + " bytes, got " + key.length);
    }
  }

  private static String utf8(byte[] key, int from, int to) {
    return new String(key, from, to - from, StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
