package io.parley.server.gateway.testing;

import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.parley.protocol.v1.Authenticate;
import io.parley.protocol.v1.ClientFrame;
import io.parley.protocol.v1.ServerFrame;
import io.parley.server.gateway.ws.Subprotocol;
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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/** A WebSocket client for tests on the JDK's HTTP client; collects every frame it receives. */
public final class WsClient implements WebSocket.Listener, AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final long WAIT_SECONDS = 10;

  /** How the server closed the connection. */
  public record Close(int code, String reason) {}

  private final Subprotocol subprotocol;
  private final BlockingQueue<ServerFrame> frames = new LinkedBlockingQueue<>();
  private final CompletableFuture<Close> closed = new CompletableFuture<>();
  private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
  private final StringBuilder text = new StringBuilder();
  private final AtomicLong nextRequestId = new AtomicLong(1000);
  private WebSocket ws;

  private WsClient(Subprotocol subprotocol) {
    this.subprotocol = subprotocol;
  }

  public static WsClient connect(int port, Subprotocol subprotocol) {
    return connect(port, subprotocol, Map.of(), "");
  }

  public static WsClient connect(int port, Subprotocol subprotocol, Map<String, String> headers, String query) {
    WsClient c = new WsClient(subprotocol);
    c.ws = builder(headers).subprotocols(subprotocol.wireName())
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/v1/ws" + query), c)
        .orTimeout(WAIT_SECONDS, TimeUnit.SECONDS)
        .join();
    return c;
  }

  /** Opens a WebSocket offering the given subprotocols (none when empty); may fail. */
  public static CompletableFuture<WebSocket> tryConnect(int port, List<String> subprotocols) {
    WebSocket.Builder b = builder(Map.of());
    if (!subprotocols.isEmpty()) {
      b.subprotocols(subprotocols.get(0), subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
    }
    return b.buildAsync(URI.create("ws://127.0.0.1:" + port + "/v1/ws"), new WebSocket.Listener() {});
  }

  private static WebSocket.Builder builder(Map<String, String> headers) {
    WebSocket.Builder b = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    headers.forEach(b::header);
    return b;
  }

  public long nextId() {
    return nextRequestId.incrementAndGet();
  }

  public void send(ClientFrame f) {
    try {
      if (subprotocol.binary()) {
        ws.sendBinary(ByteBuffer.wrap(f.toByteArray()), true).get(WAIT_SECONDS, TimeUnit.SECONDS);
      } else {
        ws.sendText(JsonFormat.printer().print(f), true).get(WAIT_SECONDS, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      throw new AssertionError("send failed", e);
    }
  }

  public void sendRawBinary(byte[] bytes) {
    ws.sendBinary(ByteBuffer.wrap(bytes), true).orTimeout(WAIT_SECONDS, TimeUnit.SECONDS).join();
  }

  public void sendRawText(String s) {
    ws.sendText(s, true).orTimeout(WAIT_SECONDS, TimeUnit.SECONDS).join();
  }

  /** Sends a request with a fresh request id and returns the answer carrying that id. */
  public ServerFrame request(ClientFrame.Builder f) {
    long id = nextId();
    send(f.setRequestId(id).build());
    return await(r -> r.getRequestId() == id);
  }

  /** Authenticates with the token and returns the answer. */
  public ServerFrame authenticate(String token) {
    return request(ClientFrame.newBuilder().setAuthenticate(Authenticate.newBuilder().setToken(token)));
  }

  /** The next frame received. */
  public ServerFrame next() {
    try {
      ServerFrame f = frames.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      if (f == null) {
        fail("no frame received; closed: " + closed.getNow(null));
      }
      return f;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Skips frames until one matches. */
  public ServerFrame await(Predicate<ServerFrame> p) {
    while (true) {
      ServerFrame f = next();
      if (p.test(f)) {
        return f;
      }
    }
  }

  /** Every frame received before the first one that matches (which is consumed). */
  public List<ServerFrame> framesBefore(Predicate<ServerFrame> fence) {
    List<ServerFrame> before = new ArrayList<>();
    while (true) {
      ServerFrame f = next();
      if (fence.test(f)) {
        return before;
      }
      before.add(f);
    }
  }

  public Close awaitClose() {
    return closed.orTimeout(WAIT_SECONDS, TimeUnit.SECONDS).join();
  }

  @Override
  public void onOpen(WebSocket webSocket) {
    webSocket.request(Long.MAX_VALUE);
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    byte[] b = new byte[data.remaining()];
    data.get(b);
    binary.writeBytes(b);
    if (last) {
      try {
        frames.add(ServerFrame.parseFrom(binary.toByteArray()));
      } catch (InvalidProtocolBufferException e) {
        closed.completeExceptionally(e);
      }
      binary.reset();
    }
    return null;
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    text.append(data);
    if (last) {
      try {
        ServerFrame.Builder b = ServerFrame.newBuilder();
        JsonFormat.parser().merge(text.toString(), b);
        frames.add(b.build());
      } catch (InvalidProtocolBufferException e) {
        closed.completeExceptionally(e);
      }
      text.setLength(0);
    }
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete(new Close(statusCode, reason));
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.complete(new Close(-1, String.valueOf(error)));
  }

  @Override
  public void close() {
    if (!ws.isOutputClosed()) {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(t -> null);
    }
    ws.abort();
  }
}
