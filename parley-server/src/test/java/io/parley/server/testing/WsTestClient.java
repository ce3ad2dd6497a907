package io.parley.server.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.ServerFrame;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * A real WebSocket client for tests, built on the JDK's {@link HttpClient}: speaks either
 * subprotocol, matches responses to requests by request id, and queues server pushes. Thread-safe.
 */
public final class WsTestClient implements AutoCloseable {
  public static final String PROTO = "parley.v1.proto";
  public static final String JSON = "parley.v1.json";

  private final boolean json;
  private final WebSocket ws;
  private final AtomicLong nextRequestId = new AtomicLong(1);
  private final Map<Long, CompletableFuture<ServerFrame>> pending = new ConcurrentHashMap<>();
  private final BlockingQueue<ServerFrame> pushes = new LinkedBlockingQueue<>();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private volatile String closeReason = "";

  private WsTestClient(boolean json, WebSocket ws) {
    this.json = json;
    this.ws = ws;
  }

  /** Connects with the given subprotocol and optional extra headers (e.g. Authorization). */
  public static WsTestClient connect(int port, String subprotocol, Map<String, String> headers) {
    return connect(
        HttpClient.newHttpClient(),
        URI.create("ws://127.0.0.1:" + port + "/v1/ws"),
        subprotocol,
        headers);
  }

  /**
   * Connects with a given HTTP client to any WebSocket URI, e.g. {@code wss://} with a client
   * whose SSL context trusts a test certificate.
   */
  public static WsTestClient connect(
      HttpClient client, URI uri, String subprotocol, Map<String, String> headers) {
    boolean json = JSON.equals(subprotocol);
    Listener listener = new Listener(json);
    WebSocket.Builder b =
        client
            .newWebSocketBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .subprotocols(subprotocol);
    headers.forEach(b::header);
    WebSocket ws =
        b.buildAsync(uri, listener)
            .orTimeout(10, TimeUnit.SECONDS)
            .join();
    WsTestClient c = new WsTestClient(json, ws);
    listener.client = c;
    return c;
  }

  public static WsTestClient connect(int port) {
    return connect(port, PROTO, Map.of());
  }

  /** Connects and authenticates with the token; fails the test if authentication fails. */
  public static WsTestClient authenticated(int port, String token, String deviceId) {
    return authenticate(connect(port), token, deviceId);
  }

  /** Authenticates a connected client; fails the test if authentication fails. */
  public static WsTestClient authenticate(WsTestClient c, String token, String deviceId) {
    ServerFrame r =
        c.call(
            b ->
                b.setAuthenticate(
                    Authenticate.newBuilder().setToken(token).setDeviceId(deviceId).build()));
    assertThat(r.hasAuthenticated()).as("authenticated: %s", r).isTrue();
    return c;
  }

  /** Sends a request (the request id is filled in) and returns the future response. */
  public CompletableFuture<ServerFrame> send(UnaryOperator<ClientFrame.Builder> request) {
    long id = nextRequestId.getAndIncrement();
    ClientFrame frame = request.apply(ClientFrame.newBuilder()).setRequestId(id).build();
    CompletableFuture<ServerFrame> f = new CompletableFuture<>();
    pending.put(id, f);
    sendRaw(frame);
    return f.orTimeout(20, TimeUnit.SECONDS);
  }

  /** Sends a request and waits for its response. */
  public ServerFrame call(UnaryOperator<ClientFrame.Builder> request) {
    return send(request).join();
  }

  /** Sends a frame exactly as given (request id included). */
  public void sendRaw(ClientFrame frame) {
    try {
      synchronized (ws) {
        if (json) {
          ws.sendText(JsonFormat.printer().print(frame), true).join();
        } else {
          ws.sendBinary(ByteBuffer.wrap(frame.toByteArray()), true).join();
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sends arbitrary bytes as one binary frame. */
  public void sendBinary(byte[] bytes) {
    synchronized (ws) {
      ws.sendBinary(ByteBuffer.wrap(bytes), true).join();
    }
  }

  /** Sends arbitrary text as one text frame. */
  public void sendText(String text) {
    synchronized (ws) {
      ws.sendText(text, true).join();
    }
  }

  /** The next server push, or null after the timeout. */
  public ServerFrame nextPush(Duration timeout) throws InterruptedException {
    return pushes.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Collects pushed events (single events and batches, in arrival order) until {@code count} have
   * arrived or the timeout passes; other pushes are kept in {@code others} if given.
   */
  public List<Event> awaitEvents(int count, Duration timeout, List<ServerFrame> others)
      throws InterruptedException {
    List<Event> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (out.size() < count) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      ServerFrame f = pushes.poll(left, TimeUnit.NANOSECONDS);
      if (f == null) {
        break;
      }
      if (f.hasEvent()) {
        out.add(f.getEvent());
      } else if (f.hasEventBatch()) {
        out.addAll(f.getEventBatch().getEventsList());
      } else if (others != null) {
        others.add(f);
      }
    }
    return out;
  }

  /** Pushes received so far and not yet consumed. */
  public List<ServerFrame> drainPushes() {
    List<ServerFrame> out = new ArrayList<>();
    pushes.drainTo(out);
    return out;
  }

  /** Completes with the close status code when the server closes the connection. */
  public CompletableFuture<Integer> closed() {
    return closed;
  }

  public String closeReason() {
    return closeReason;
  }

  @Override
  public void close() {
    if (!ws.isOutputClosed()) {
      try {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        ws.abort();
      }
    }
    ws.abort();
  }

  /** Drops the TCP connection without a close handshake (a device losing its network). */
  public void abort() {
    ws.abort();
  }

  private void onFrame(ServerFrame f) {
    if (f.getRequestId() != 0) {
      CompletableFuture<ServerFrame> p = pending.remove(f.getRequestId());
      if (p != null) {
        p.complete(f);
        return;
      }
    }
    pushes.add(f);
  }

  private static final class Listener implements WebSocket.Listener {
    private final boolean json;
    private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
    private final StringBuilder text = new StringBuilder();
    volatile WsTestClient client;

    Listener(boolean json) {
      this.json = json;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
      byte[] chunk = new byte[data.remaining()];
      data.get(chunk);
      binary.writeBytes(chunk);
      if (last) {
        try {
          deliver(ServerFrame.parseFrom(binary.toByteArray()));
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("server sent an undecodable frame", e);
        } finally {
          binary.reset();
        }
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        try {
          ServerFrame.Builder b = ServerFrame.newBuilder();
          JsonFormat.parser().merge(text.toString(), b);
          deliver(b.build());
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("server sent undecodable JSON: " + text, e);
        } finally {
          text.setLength(0);
        }
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      WsTestClient c = awaitClient();
      c.closeReason = reason;
      c.closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      WsTestClient c = awaitClient();
      c.closed.complete(-1);
    }

    private void deliver(ServerFrame f) {
      awaitClient().onFrame(f);
    }

    private WsTestClient awaitClient() {
      // The listener can fire before connect() has stored the client; wait briefly for it.
      while (client == null) {
        Thread.onSpinWait();
      }
      return client;
    }
  }
}
