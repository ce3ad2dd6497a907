package io.parley.server.gateway.session;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.auth.VerifiedToken;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.http.HttpReply;
import io.parley.server.gateway.http.HttpResponses;
import io.parley.server.gateway.http.HttpUpgrade;
import io.parley.server.gateway.http.SecurityHeadersHandler;
import io.parley.server.gateway.ws.FrameCodec;
import io.parley.server.gateway.ws.Subprotocol;
import io.parley.server.gateway.proxy.ClientAddress;
import io.parley.server.limits.ClientAddresses;
import io.parley.server.limits.ConnectionLimiter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upgrades {@code GET /v1/ws} to a Parley WebSocket session.
 *
 * <p>The request must be an RFC 6455 upgrade: {@code Sec-WebSocket-Version: 13} (else 426 with
 * {@code Sec-WebSocket-Version: 13}) and a {@code Sec-WebSocket-Key} that is a base64-encoded
 * 16-byte nonce (else 400). It must offer {@code parley.v1.proto} or {@code parley.v1.json} in {@code
 * Sec-WebSocket-Protocol} (the first one offered that the server supports is chosen); otherwise it
 * is refused with HTTP 400 and a JSON body naming the supported subprotocols. An optional {@code
 * Authorization: Bearer <jwt>} header is verified <em>before</em> the upgrade (reading pauses
 * meanwhile): a bad token is refused with 401 (403 for a deactivated user), a good one yields a
 * session that is authenticated right after the upgrade and receives an unsolicited {@code
 * Authenticated} push (request id 0). Such a client may pass its device id as the query parameter
 * {@code device_id}.
 *
 * <p>After the handshake the pipeline continues with {@value #UTF8}, {@value #AGGREGATOR} (frames
 * up to {@code limits.maxFrameBytes}, fragmented messages included), {@value #CODEC} ({@link
 * FrameCodec}) and {@value #SESSION}; the HTTP router is removed.
 *
 * <p>Each upgraded connection holds a place in its client address's connection count until it
 * closes; an address already at {@code limits.max_connections_per_ip} is refused with HTTP 429 and
 * the error code {@code LIMIT_EXCEEDED}. Stateless and thread-safe.
 */
public final class WebSocketUpgrader implements HttpUpgrade {
  private static final Logger log = LoggerFactory.getLogger(WebSocketUpgrader.class);

  /** The WebSocket endpoint's path. */
  public static final String PATH = "/v1/ws";

  private static final String SUPPORTED_VERSION = "13";

  /** Pipeline names of the handlers added by the upgrade. */
  public static final String UTF8 = "ws-utf8";

  public static final String AGGREGATOR = "ws-aggregator";
  public static final String CODEC = "ws-codec";
  public static final String SESSION = "ws-session";

  private final SessionContext ctx;

  public WebSocketUpgrader(SessionContext ctx) {
    this.ctx = Objects.requireNonNull(ctx, "ctx");
  }

  @Override
  public CompletableFuture<HttpReply> upgrade(ChannelHandlerContext hctx, FullHttpRequest req) {
    if (ctx.state().isDraining()) {
      return reply(HttpResponses.error(503, ErrorCode.SHUTTING_DOWN.name(), "the server is shutting down"));
    }
    if (!HttpMethod.GET.equals(req.method())) {
      return reply(HttpResponses.error(405, ErrorCode.BAD_REQUEST.name(), "use GET to open a WebSocket"));
    }
    if (!"websocket".equalsIgnoreCase(req.headers().get(HttpHeaderNames.UPGRADE, ""))) {
      return reply(
          HttpResponses.error(
              400, ErrorCode.BAD_REQUEST.name(), "expected a WebSocket upgrade request (Upgrade: websocket)"));
    }
    if (!SUPPORTED_VERSION.equals(req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "").trim())) {
      return reply(unsupportedVersion());
    }
    if (!validKey(req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY))) {
      return reply(
          HttpResponses.error(
              400,
              ErrorCode.BAD_REQUEST.name(),
              "Sec-WebSocket-Key must be the base64 encoding of 16 random bytes"));
    }
    Optional<Subprotocol> subprotocol = Subprotocol.select(offeredSubprotocols(req.headers()));
    if (subprotocol.isEmpty()) {
      return reply(
          HttpResponses.error(
              400,
              ErrorCode.BAD_REQUEST.name(),
              "unsupported or missing WebSocket subprotocol; offer one of: "
                  + Subprotocol.supportedNames()));
    }
    Map<String, List<String>> params = new QueryStringDecoder(req.uri()).parameters();
    String device = params.getOrDefault("device_id", List.of("")).get(0);
    boolean syncFirst = "true".equals(params.getOrDefault("sync_first", List.of("")).get(0));
    if (!device.isEmpty() && !Session.validDeviceId(device)) {
      return reply(
          HttpResponses.error(
              400, ErrorCode.BAD_REQUEST.name(), "device_id must be 1 to 64 characters of [A-Za-z0-9._-]"));
    }
    String authorization = req.headers().get(HttpHeaderNames.AUTHORIZATION);
    String token = null;
    if (authorization != null) {
      if (authorization.length() <= 7
          || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)
          || authorization.substring(7).isBlank()) {
        return reply(
            HttpResponses.error(
                401, ErrorCode.UNAUTHENTICATED.name(), "Authorization must be 'Bearer <token>'"));
      }
      token = authorization.substring(7).trim();
    }
    // The handshake needs the request after this call returns (token verification is
    // asynchronous): keep a body-less copy that this class owns and releases.
    FullHttpRequest handshakeRequest = req.replace(Unpooled.EMPTY_BUFFER);
    Channel ch = hctx.channel();
    if (token == null) {
      return reply(handshake(hctx, handshakeRequest, subprotocol.get(), null, device, syncFirst));
    }
    ch.config().setAutoRead(false);
    CompletableFuture<HttpReply> result = new CompletableFuture<>();
    String dev = device;
    ctx.authenticate(token)
        .whenComplete(
            (vt, err) ->
                ch.eventLoop()
                    .execute(
                        () -> {
                          if (err != null || !ch.isActive()) {
                            handshakeRequest.release();
                            result.complete(err == null ? closedReply() : refusal(err));
                          } else {
                            result.complete(handshake(hctx, handshakeRequest, subprotocol.get(), vt, dev, syncFirst));
                          }
                        }));
    return result;
  }

  /** Performs the handshake and rebuilds the pipeline; returns null when upgraded. */
  private HttpReply handshake(
      ChannelHandlerContext hctx,
      FullHttpRequest request,
      Subprotocol subprotocol,
      VerifiedToken token,
      String device,
      boolean syncFirst) {
    Channel ch = hctx.channel();
    try {
      WebSocketDecoderConfig decoderConfig =
          WebSocketDecoderConfig.newBuilder()
              .maxFramePayloadLength(ctx.limits().maxFrameBytes())
              .allowExtensions(false)
              .closeOnProtocolViolation(false)
              .withUTF8Validator(false)
              .build();
      String url = "ws://" + request.headers().get(HttpHeaderNames.HOST, "localhost") + PATH;
      WebSocketServerHandshaker handshaker =
          new WebSocketServerHandshakerFactory(url, subprotocol.wireName(), decoderConfig)
              .newHandshaker(request);
      if (handshaker == null) {
        return unsupportedVersion();
      }
      ConnectionLimiter.Slot slot =
          ctx.connections().tryOpen(ClientAddresses.keyOf(ClientAddress.of(ch)));
      if (slot == null) {
        return HttpResponses.error(
            429,
            ErrorCode.LIMIT_EXCEEDED.name(),
            "too many connections from this address ("
                + ctx.connections().maxPerAddress()
                + ", limits.max_connections_per_ip)");
      }
      ch.closeFuture().addListener(f -> slot.close());
      HttpHeaders extra = new DefaultHttpHeaders();
      HttpResponses.addSecurityHeaders(extra);
      Session session = new Session(ctx, ch, subprotocol);
      handshaker
          .handshake(ch, request, extra, ch.newPromise())
          .addListener(
              f -> {
                if (!f.isSuccess()) {
                  ch.close();
                }
              });
      // The handshaker inserted the WebSocket decoder/encoder in front of the HTTP codec; frames
      // read from now on flow through these handlers.
      ChannelPipeline p = ch.pipeline();
      String router = hctx.name();
      p.addAfter(router, UTF8, new Utf8FrameValidator(false));
      p.addAfter(UTF8, AGGREGATOR, new WebSocketFrameAggregator(ctx.limits().maxFrameBytes()));
      p.addAfter(AGGREGATOR, CODEC, new FrameCodec(subprotocol));
      p.addAfter(CODEC, SESSION, new SessionHandler(session));
      p.remove(router);
      if (p.get(SecurityHeadersHandler.NAME) != null) {
        p.remove(SecurityHeadersHandler.NAME);
      }
      session.start();
      if (token != null) {
        session.authenticateWithHeader(token, device, syncFirst);
      } else {
        ch.config().setAutoRead(true);
      }
      return null;
    } catch (WebSocketHandshakeException e) {
      return HttpResponses.error(400, ErrorCode.BAD_REQUEST.name(), "invalid WebSocket handshake: " + e.getMessage());
    } finally {
      request.release();
    }
  }

  /**
   * 426 naming the one version spoken. Netty's handshaker factory would also accept the drafts
   * 7 and 8 and, without the header, the pre-RFC hixie-76 handshake with its different framing;
   * only RFC 6455 (version 13) is specified and tested, so everything else is refused up front.
   */
  private static HttpReply unsupportedVersion() {
    HttpReply r =
        HttpResponses.error(426, ErrorCode.BAD_REQUEST.name(), "unsupported WebSocket version; use 13");
    return new HttpReply(
        r.status(), r.contentType(), r.body(), Map.of("Sec-WebSocket-Version", SUPPORTED_VERSION));
  }

  /** RFC 6455 section 4.1: the key is a base64-encoded 16-byte nonce (24 characters). */
  private static boolean validKey(String key) {
    if (key == null || key.trim().length() != 24) {
      return false;
    }
    try {
      return Base64.getDecoder().decode(key.trim()).length == 16;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static HttpReply refusal(Throwable err) {
    ParleyException pe = ParleyException.from(err);
    if (pe.code() == ErrorCode.INTERNAL) {
      log.error("WebSocket authentication failed unexpectedly", pe.getCause() == null ? pe : pe.getCause());
    }
    return HttpResponses.error(pe);
  }

  private static HttpReply closedReply() {
    return HttpResponses.error(499, "CLOSED", "connection closed");
  }

  private static List<String> offeredSubprotocols(HttpHeaders headers) {
    List<String> offered = new ArrayList<>();
    for (String value : headers.getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)) {
      for (String p : value.split(",")) {
        if (!p.isBlank()) {
          offered.add(p.trim());
        }
      }
    }
    return offered;
  }

  private static CompletableFuture<HttpReply> reply(HttpReply r) {
    return CompletableFuture.completedFuture(r);
  }
}
