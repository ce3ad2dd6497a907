package io.parley.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.server.gateway.testing.GatewayHarness;
import io.parley.server.gateway.testing.TestConfigs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Slowloris: a client that trickles its HTTP request one byte per second never completes it, and
 * each byte would reset an idle timer. The gateway's request deadline ({@code timeouts.handshake})
 * must close such a connection, before the WebSocket upgrade and between keep-alive requests,
 * while a client that sends whole requests keeps its connection.
 */
class SlowlorisIT {
  private static final Duration DEADLINE = Duration.ofSeconds(2);
  private static final long CLOSE_CEILING_MS = 8_000; // the deadline plus generous scheduling slack
  private static final String UPGRADE =
      "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          + "Sec-WebSocket-Protocol: parley.v1.proto\r\n\r\n";

  private GatewayHarness gw;

  @AfterEach
  void tearDown() {
    if (gw != null) {
      gw.close();
    }
  }

  private Socket connect() throws IOException {
    gw = gw != null ? gw : new GatewayHarness(TestConfigs.builder().handshake(DEADLINE).idle(Duration.ofSeconds(60)).build());
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", gw.port), 5000);
    s.setSoTimeout((int) CLOSE_CEILING_MS * 2);
    return s;
  }

  /**
   * Writes the request one byte per second on a background thread until the server closes the
   * connection; returns how long the server took to close it, measured by the reader.
   */
  private static long trickleUntilClosed(Socket s, String request, AtomicInteger sent) throws Exception {
    OutputStream out = s.getOutputStream();
    Thread writer =
        new Thread(
            () -> {
              try {
                for (byte b : request.getBytes(StandardCharsets.US_ASCII)) {
                  out.write(b);
                  out.flush();
                  sent.incrementAndGet();
                  Thread.sleep(1000);
                }
              } catch (IOException | InterruptedException e) {
                // the server closed the connection: expected
              }
            },
            "slowloris");
    long start = System.nanoTime();
    writer.start();
    InputStream in = s.getInputStream();
    try {
      int r;
      while ((r = in.read()) >= 0) {
        // A response would mean the trickled request was served; it must never complete.
        throw new AssertionError("the server answered a request that never completed: " + (char) r);
      }
    } catch (java.net.SocketException reset) {
      // closed with a reset: also a close
    }
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    writer.interrupt();
    writer.join(5000);
    return elapsedMs;
  }

  @Test
  void anUpgradeRequestTrickledOneBytePerSecondIsClosedAtTheDeadline() throws Exception {
    try (Socket s = connect()) {
      AtomicInteger sent = new AtomicInteger();
      long closedAfterMs = trickleUntilClosed(s, UPGRADE, sent);
      assertThat(closedAfterMs).isLessThan(CLOSE_CEILING_MS);
      assertThat(sent.get()).isLessThan(UPGRADE.length());
    }
    assertThat(gw.server.sessions().connectedSessions()).isEmpty();
  }

  @Test
  void aSecondKeepAliveRequestTrickledAfterAGoodOneIsClosedAtTheDeadline() throws Exception {
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String head = readHead(s.getInputStream());
      assertThat(head).startsWith("HTTP/1.1 200");
      skipBody(s.getInputStream(), head);

      AtomicInteger sent = new AtomicInteger();
      String second = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + "p".repeat(40) + "\r\n\r\n";
      long closedAfterMs = trickleUntilClosed(s, second, sent);
      assertThat(closedAfterMs).isLessThan(CLOSE_CEILING_MS);
      assertThat(sent.get()).isLessThan(second.length());
    }
  }

  @Test
  void aKeepAliveClientSendingWholeRequestsOutlivesTheDeadline() throws Exception {
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      long end = System.nanoTime() + DEADLINE.multipliedBy(2).toNanos();
      int served = 0;
      while (System.nanoTime() < end) {
        out.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String head = readHead(in);
        assertThat(head).as("request %d on the same connection", served).startsWith("HTTP/1.1 200");
        skipBody(in, head);
        served++;
        Thread.sleep(DEADLINE.toMillis() / 4);
      }
      assertThat(served).isGreaterThan(4);
    }
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new AssertionError("connection closed; got so far: " + sb);
      }
      sb.append((char) c);
    }
    return sb.toString();
  }

  private static void skipBody(InputStream in, String head) throws IOException {
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        int n = Integer.parseInt(line.substring(15).trim());
        for (int i = 0; i < n; i++) {
          if (in.read() < 0) {
            throw new AssertionError("body cut short");
          }
        }
      }
    }
  }
}
