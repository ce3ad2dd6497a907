package io.parley.server.bench.peer;

import java.nio.charset.StandardCharsets;

/**
 * The part of Engine.IO v4 / Socket.IO v5 (the protocol of Socket.IO 4) that the generator speaks
 * over a WebSocket: one Engine.IO packet per text frame, a type digit first ({@code 0} open, {@code
 * 2} ping, {@code 3} pong, {@code 4} message), and inside a message the Socket.IO packet ({@code 0}
 * connect, {@code 2} event, {@code 3} ack), an optional ack id, then a JSON array. Hand-written
 * instead of a Java socket.io client so that the same Netty generator, with the same pinning and
 * per-message cost, measures every peer; only arrays of JSON strings are read, which is all the
 * rooms server ({@code bench/peers/socketio-server.js}) sends.
 */
public final class EngineIoCodec {
  /** The WebSocket path of a Socket.IO 4 server. */
  public static final String PATH = "/socket.io/?EIO=4&transport=websocket";

  /** Sent after the server's open packet: connect to the default namespace. */
  public static final String CONNECT = "40";

  /** The answer to the server's ping. */
  public static final String PONG = "3";

  /** What a text frame from the server is. */
  public enum Kind {
    OPEN,
    PING,
    CONNECTED,
    EVENT,
    ACK,
    ERROR,
    OTHER
  }

  /** What {@link #strings} finds: argument {@code index} of the array is {@code buf[from, to)}. */
  @FunctionalInterface
  public interface Sink {
    void string(int index, byte[] buf, int from, int to);
  }

  private EngineIoCodec() {}

  /** Classifies a text frame's bytes {@code buf[from, to)}. */
  public static Kind kind(byte[] buf, int from, int to) {
    if (to <= from) {
      return Kind.OTHER;
    }
    switch (buf[from]) {
      case '0':
        return Kind.OPEN;
      case '2':
        return Kind.PING;
      case '4':
        if (to - from < 2) {
          return Kind.OTHER;
        }
        return switch (buf[from + 1]) {
          case '0' -> Kind.CONNECTED;
          case '2' -> Kind.EVENT;
          case '3' -> Kind.ACK;
          case '4' -> Kind.ERROR;
          default -> Kind.OTHER;
        };
      default:
        return Kind.OTHER;
    }
  }

  /**
   * An event with string arguments, asking for an acknowledgement when {@code ackId} ≥ 0: {@code
   * 42<ackId>["name","arg",...]}. Arguments are escaped as JSON strings.
   */
  public static String event(int ackId, String name, String... args) {
    StringBuilder b = new StringBuilder(32 + name.length() + args.length * 16).append("42");
    if (ackId >= 0) {
      b.append(ackId);
    }
    b.append('[');
    quote(b, name);
    for (String a : args) {
      b.append(',');
      quote(b, a);
    }
    return b.append(']').toString();
  }

  /** {@link #event} as UTF-8 with one pre-encoded ASCII argument appended (the payload). */
  public static byte[] event(String name, String arg, byte[] asciiPayload) {
    byte[] head = event(-1, name, arg).getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[head.length + asciiPayload.length + 3];
    System.arraycopy(head, 0, out, 0, head.length - 1);
    int at = head.length - 1;
    out[at++] = ',';
    out[at++] = '"';
    System.arraycopy(asciiPayload, 0, out, at, asciiPayload.length);
    at += asciiPayload.length;
    out[at++] = '"';
    out[at] = ']';
    return out;
  }

  private static void quote(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    b.append('"');
  }

  /**
   * Reports the string elements of the JSON array of an event or ack packet {@code buf[from, to)}
   * (raw, escapes left in place), in order; stops at the first element that is not a string.
   *
   * @return how many strings were reported
   * @throws IllegalArgumentException when the packet is not an event/ack with a well-formed array
   */
  public static int strings(byte[] buf, int from, int to, Sink sink) {
    int at = from + 2;
    if (to - from < 2 || buf[from] != '4' || (buf[from + 1] != '2' && buf[from + 1] != '3')) {
      throw new IllegalArgumentException("not a Socket.IO event or ack");
    }
    if (at < to && buf[at] == '/') {
      // A namespace, up to the comma.
      while (at < to && buf[at] != ',') {
        at++;
      }
      at++;
    }
    while (at < to && buf[at] >= '0' && buf[at] <= '9') {
      at++;
    }
    if (at >= to || buf[at] != '[') {
      throw new IllegalArgumentException("a Socket.IO event without an array");
    }
    at++;
    int count = 0;
    while (true) {
      at = skipSpace(buf, at, to);
      if (at >= to) {
        throw new IllegalArgumentException("unterminated array in a Socket.IO packet");
      }
      if (buf[at] == ']' && count == 0) {
        return 0;
      }
      if (buf[at] != '"') {
        return count;
      }
      int start = ++at;
      while (at < to && buf[at] != '"') {
        at += buf[at] == '\\' ? 2 : 1;
      }
      if (at >= to) {
        throw new IllegalArgumentException("unterminated string in a Socket.IO packet");
      }
      sink.string(count++, buf, start, at);
      at = skipSpace(buf, at + 1, to);
      if (at >= to) {
        throw new IllegalArgumentException("unterminated array in a Socket.IO packet");
      }
      if (buf[at] == ']') {
        return count;
      }
      if (buf[at] != ',') {
        throw new IllegalArgumentException("malformed array in a Socket.IO packet");
      }
      at++;
    }
  }

  private static int skipSpace(byte[] buf, int at, int to) {
    while (at < to && (buf[at] == ' ' || buf[at] == '\t' || buf[at] == '\n' || buf[at] == '\r')) {
      at++;
    }
    return at;
  }
}
