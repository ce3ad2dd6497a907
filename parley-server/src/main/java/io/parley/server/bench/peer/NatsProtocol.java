package io.parley.server.bench.peer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The client side of the NATS text protocol as the generator speaks it over NATS's WebSocket
 * listener: commands to send ({@code CONNECT}, {@code SUB}, {@code PUB}, {@code PING}/{@code
 * PONG}) and a streaming parser of what the server sends ({@code INFO}, {@code MSG}, {@code
 * PING}, {@code PONG}, {@code +OK}, {@code -ERR}). WebSocket frames carry a byte stream: one frame
 * may hold many operations (the server packs them under load) and an operation may span frames, so
 * the parser buffers the incomplete tail. Hand-written rather than the NATS Java client so that one
 * Netty generator with one per-message cost measures every peer.
 *
 * <p>Not thread-safe (one per connection).
 */
public final class NatsProtocol {
  /** Longest control line accepted (the server's default max_control_line is 4 KiB). */
  public static final int MAX_CONTROL_LINE = 4096;

  /** Largest message payload accepted (the server's default max_payload is 1 MiB). */
  public static final int MAX_PAYLOAD = 1 << 20;

  /**
   * Sent first; the PING's PONG says the session is up. Echo stays on (the default): publishers
   * are members of their groups and receive their own messages, as in Parley.
   */
  public static final String CONNECT =
      "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false,\"name\":\"parley-bench\"}\r\nPING\r\n";

  public static final String PING = "PING\r\n";
  public static final String PONG = "PONG\r\n";

  /** What the server sends, operation by operation. */
  public interface Handler {
    /** A message of subscription {@code sid}; the payload is {@code buf[from, to)} during the call. */
    void msg(long sid, byte[] buf, int from, int to);

    void ping();

    void pong();

    /** {@code -ERR} with its text. */
    void error(String message);
  }

  private final Handler handler;
  private byte[] pending = new byte[8192];
  private int length;

  public NatsProtocol(Handler handler) {
    this.handler = handler;
  }

  /** {@code SUB subject sid}. */
  public static String sub(String subject, long sid) {
    return "SUB " + subject + " " + sid + "\r\n";
  }

  /** {@code PUB subject n\r\npayload\r\n}. */
  public static byte[] pub(String subject, byte[] payload) {
    byte[] head = ("PUB " + subject + " " + payload.length + "\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] out = Arrays.copyOf(head, head.length + payload.length + 2);
    System.arraycopy(payload, 0, out, head.length, payload.length);
    out[out.length - 2] = '\r';
    out[out.length - 1] = '\n';
    return out;
  }

  /**
   * Parses {@code bytes[from, to)} appended to what is left from earlier calls, reporting every
   * complete operation.
   *
   * @throws IllegalArgumentException on a protocol violation (the connection should be closed)
   */
  public void feed(byte[] bytes, int from, int to) {
    int n = to - from;
    if (length + n > pending.length) {
      pending = Arrays.copyOf(pending, Math.max(pending.length * 2, length + n));
    }
    System.arraycopy(bytes, from, pending, length, n);
    length += n;
    int consumed = parse(pending, length);
    System.arraycopy(pending, consumed, pending, 0, length - consumed);
    length -= consumed;
  }

  /** Bytes held waiting for the rest of an operation. */
  public int buffered() {
    return length;
  }

  private int parse(byte[] buf, int end) {
    int at = 0;
    while (at < end) {
      int eol = lineEnd(buf, at, end);
      if (eol < 0) {
        if (end - at > MAX_CONTROL_LINE + MAX_PAYLOAD + 2) {
          throw new IllegalArgumentException("NATS control line too long");
        }
        return at;
      }
      if (eol - at > MAX_CONTROL_LINE) {
        throw new IllegalArgumentException("NATS control line too long");
      }
      int next = eol + 2;
      if (startsWith(buf, at, eol, "MSG ")) {
        int after = msg(buf, at + 4, eol, next, end);
        if (after < 0) {
          return at;
        }
        next = after;
      } else if (startsWith(buf, at, eol, "PING")) {
        handler.ping();
      } else if (startsWith(buf, at, eol, "PONG")) {
        handler.pong();
      } else if (startsWith(buf, at, eol, "-ERR")) {
        handler.error(new String(buf, at, eol - at, StandardCharsets.UTF_8));
      } else if (!startsWith(buf, at, eol, "INFO") && !startsWith(buf, at, eol, "+OK")) {
        throw new IllegalArgumentException("unknown NATS operation");
      }
      at = next;
    }
    return at;
  }

  /** Index of the {@code \r} of the next {@code \r\n} from {@code at}, or -1. */
  private static int lineEnd(byte[] buf, int at, int end) {
    for (int i = at; i + 1 < end; i++) {
      if (buf[i] == '\r' && buf[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }

  /**
   * {@code MSG <subject> <sid> [reply-to] <#bytes>}: reports it when the payload is complete.
   *
   * @return the index after the payload's CRLF, or -1 when the payload is incomplete
   */
  private int msg(byte[] buf, int from, int eol, int payloadAt, int end) {
    long[] tokens = new long[4];
    int count = 0;
    int at = from;
    while (at < eol) {
      while (at < eol && (buf[at] == ' ' || buf[at] == '\t')) {
        at++;
      }
      if (at >= eol) {
        break;
      }
      int start = at;
      while (at < eol && buf[at] != ' ' && buf[at] != '\t') {
        at++;
      }
      if (count == 4) {
        throw new IllegalArgumentException("too many fields in a NATS MSG");
      }
      tokens[count++] = ((long) start << 32) | at;
    }
    if (count < 3) {
      throw new IllegalArgumentException("too few fields in a NATS MSG");
    }
    long sid = number(buf, tokens[1], Long.MAX_VALUE);
    long size = number(buf, tokens[count - 1], MAX_PAYLOAD);
    long payloadEnd = payloadAt + size;
    if (payloadEnd + 2 > end) {
      return -1;
    }
    int e = (int) payloadEnd;
    if (buf[e] != '\r' || buf[e + 1] != '\n') {
      throw new IllegalArgumentException("NATS MSG payload not followed by CRLF");
    }
    handler.msg(sid, buf, payloadAt, e);
    return e + 2;
  }

  private static long number(byte[] buf, long token, long max) {
    int from = (int) (token >>> 32);
    int to = (int) token;
    if (to - from > 18) {
      throw new IllegalArgumentException("number too long in a NATS MSG");
    }
    long v = 0;
    for (int i = from; i < to; i++) {
      if (buf[i] < '0' || buf[i] > '9') {
        throw new IllegalArgumentException("not a number in a NATS MSG");
      }
      v = v * 10 + (buf[i] - '0');
    }
    if (v > max) {
      throw new IllegalArgumentException("number out of range in a NATS MSG");
    }
    return v;
  }

  private static boolean startsWith(byte[] buf, int at, int eol, String op) {
    if (eol - at < op.length()) {
      return false;
    }
    for (int i = 0; i < op.length(); i++) {
      byte b = buf[at + i];
      char c = op.charAt(i);
      // Operations are case-insensitive in the NATS protocol.
      if (b != c && Character.toUpperCase((char) b) != c) {
        return false;
      }
    }
    return true;
  }
}
