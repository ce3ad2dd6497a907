package io.parley.server.gateway.testing;

import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ServerFrame;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A minimal WebSocket client on a plain socket, for tests that need control the JDK client does
 * not give: reading the body of a refused handshake, and not reading at all (slow consumer) with
 * a tiny receive buffer.
 */
public final class RawWsClient implements AutoCloseable {
  /** A received WebSocket frame. */
  public record Frame(int opcode, byte[] payload) {}

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  public final int status;
  public final Map<String, String> headers;
  public final String body;

  private RawWsClient(Socket socket, DataInputStream in, int status, Map<String, String> headers, String body)
      throws IOException {
    this.socket = socket;
    this.in = in;
    this.out = socket.getOutputStream();
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /** Sends an upgrade request for /v1/ws and reads the response head (and body, if refused). */
  public static RawWsClient open(int port, List<String> subprotocols, int receiveBufferBytes) throws IOException {
    return open(port, subprotocols, receiveBufferBytes, Map.of());
  }

  /** As {@link #open(int, List, int)}, with extra request headers (e.g. Authorization). */
  public static RawWsClient open(
      int port, List<String> subprotocols, int receiveBufferBytes, Map<String, String> extraHeaders)
      throws IOException {
    Socket s = new Socket();
    if (receiveBufferBytes > 0) {
      s.setReceiveBufferSize(receiveBufferBytes);
    }
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(10_000);
    byte[] nonce = new byte[16];
    ThreadLocalRandom.current().nextBytes(nonce);
    StringBuilder req =
        new StringBuilder("GET /v1/ws HTTP/1.1\r\n")
            .append("Host: 127.0.0.1:").append(port).append("\r\n")
            .append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
            .append("Sec-WebSocket-Key: ").append(Base64.getEncoder().encodeToString(nonce)).append("\r\n")
            .append("Sec-WebSocket-Version: 13\r\n");
    if (!subprotocols.isEmpty()) {
      req.append("Sec-WebSocket-Protocol: ").append(String.join(", ", subprotocols)).append("\r\n");
    }
    extraHeaders.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
    req.append("\r\n");
    s.getOutputStream().write(req.toString().getBytes(StandardCharsets.US_ASCII));
    DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
    String statusLine = readLine(in);
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    Map<String, String> headers = new HashMap<>();
    String line;
    while (!(line = readLine(in)).isEmpty()) {
      int colon = line.indexOf(':');
      headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
    }
    String body = "";
    if (status != 101 && headers.containsKey("content-length")) {
      byte[] b = new byte[Integer.parseInt(headers.get("content-length"))];
      in.readFully(b);
      body = new String(b, StandardCharsets.UTF_8);
    }
    return new RawWsClient(s, in, status, headers, body);
  }

  private static String readLine(DataInputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new EOFException();
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.US_ASCII);
  }

  public void send(ClientFrame f) throws IOException {
    sendFrame(0x2, f.toByteArray());
  }

  /** Sends one masked, final frame. */
  public void sendFrame(int opcode, byte[] payload) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0x80 | opcode);
    int n = payload.length;
    if (n < 126) {
      b.write(0x80 | n);
    } else if (n < 65536) {
      b.write(0x80 | 126);
      b.write(n >>> 8);
      b.write(n);
    } else {
      b.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        b.write((int) ((long) n >>> (8 * i)));
      }
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    b.write(mask);
    for (int i = 0; i < n; i++) {
      b.write(payload[i] ^ mask[i % 4]);
    }
    out.write(b.toByteArray());
    out.flush();
  }

  /** Reads the next frame (server frames are not masked). */
  public Frame readFrame() throws IOException {
    int b0 = in.readUnsignedByte();
    int b1 = in.readUnsignedByte();
    long len = b1 & 0x7f;
    if (len == 126) {
      len = in.readUnsignedShort();
    } else if (len == 127) {
      len = in.readLong();
    }
    byte[] payload = new byte[Math.toIntExact(len)];
    in.readFully(payload);
    return new Frame(b0 & 0x0f, payload);
  }

  /** Reads frames until the next data frame and parses it; fails on a close frame. */
  public ServerFrame readServerFrame() throws IOException {
    while (true) {
      Frame f = readFrame();
      if (f.opcode() == 0x2) {
        return ServerFrame.parseFrom(f.payload());
      }
      if (f.opcode() == 0x8) {
        throw new EOFException("closed by server");
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
