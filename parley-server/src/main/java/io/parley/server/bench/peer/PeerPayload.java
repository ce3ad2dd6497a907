package io.parley.server.bench.peer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The body the generator publishes to a peer (Socket.IO, NATS), which — unlike Parley — assigns no
 * sequence numbers: {@code <stream>:<counter>:<sendNanos>:} in ASCII decimal, padded with {@code x}
 * to the payload size. The stream (one publisher into one group) and its gapless counter let every
 * receiver detect loss, duplicates and reordering per (publisher, group); the send time gives the
 * end-to-end latency. ASCII only, so it travels unescaped inside a JSON string and a NATS payload.
 */
public final class PeerPayload {
  /** What {@link #parse} reads. */
  @FunctionalInterface
  public interface Sink {
    void payload(int stream, long counter, long sendNanos);
  }

  private PeerPayload() {}

  /** The payload bytes, at least as long as the three numbers, otherwise {@code size} bytes. */
  public static byte[] encode(int stream, long counter, long sendNanos, int size) {
    byte[] head = (stream + ":" + counter + ":" + sendNanos + ":").getBytes(StandardCharsets.US_ASCII);
    if (head.length >= size) {
      return head;
    }
    byte[] out = Arrays.copyOf(head, size);
    Arrays.fill(out, head.length, size, (byte) 'x');
    return out;
  }

  /**
   * Reads the numbers from {@code buf[from, to)} without allocating.
   *
   * @return false when the bytes are not a payload of this format (nothing is reported)
   */
  public static boolean parse(byte[] buf, int from, int to, Sink sink) {
    long[] values = new long[3];
    int at = from;
    for (int field = 0; field < 3; field++) {
      long v = 0;
      int digits = 0;
      boolean negative = field == 2 && at < to && buf[at] == '-';
      if (negative) {
        at++;
      }
      while (at < to && buf[at] >= '0' && buf[at] <= '9') {
        if (++digits > 18) {
          return false;
        }
        v = v * 10 + (buf[at++] - '0');
      }
      if (digits == 0 || at >= to || buf[at] != ':') {
        return false;
      }
      at++;
      values[field] = negative ? -v : v;
    }
    if (values[0] > Integer.MAX_VALUE) {
      return false;
    }
    sink.payload((int) values[0], values[1], values[2]);
    return true;
  }
}
