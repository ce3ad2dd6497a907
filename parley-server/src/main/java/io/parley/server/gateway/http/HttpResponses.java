package io.parley.server.gateway.http;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.ParleyException;
import java.util.Locale;
import java.util.Map;

/**
 * Helpers shared by the router and the endpoints: JSON error bodies, the mapping from {@link
 * ErrorCode} to HTTP status, and conversion of an {@link HttpReply} into a Netty response carrying
 * the security headers every response gets. Stateless and thread-safe.
 */
public final class HttpResponses {
  private HttpResponses() {}

  /** A JSON error body {@code {"code":"...","message":"..."}} with the given status. */
  public static HttpReply error(int status, String code, String message) {
    return HttpReply.json(
        status, "{\"code\":" + jsonString(code) + ",\"message\":" + jsonString(message) + "}");
  }

  /**
   * The reply for a failed endpoint future or a refused request: typed errors map onto their HTTP
   * status; anything else is a 500 whose details stay in the server log.
   */
  public static HttpReply error(ParleyException e) {
    HttpReply body = error(status(e.code()), e.code().name(), e.getMessage());
    if (e.retryAfterMs() > 0) {
      long seconds = Math.max(1, (e.retryAfterMs() + 999) / 1000);
      return new HttpReply(
          body.status(), body.contentType(), body.body(), Map.of("Retry-After", Long.toString(seconds)));
    }
    return body;
  }

  /** The HTTP status that corresponds to an error code. */
  public static int status(ErrorCode code) {
    switch (code) {
      case BAD_REQUEST:
      case UNSUPPORTED:
        return 400;
      case UNAUTHENTICATED:
      case TOKEN_EXPIRED:
        return 401;
      case FORBIDDEN:
      case USER_DEACTIVATED:
        return 403;
      case NOT_FOUND:
        return 404;
      case CONFLICT:
      case ALREADY_AUTHENTICATED:
        return 409;
      case TOO_LARGE:
        return 413;
      case LIMIT_EXCEEDED:
        return 422;
      case RATE_LIMITED:
        return 429;
      case UNAVAILABLE:
      case SHUTTING_DOWN:
        return 503;
      default:
        return 500;
    }
  }

  /** A JSON string literal (quoted and escaped). */
  public static String jsonString(String s) {
    return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
  }

  /**
   * Builds the Netty response for a reply: status, content type and length, the reply's own
   * headers, and the security headers ({@code X-Content-Type-Options: nosniff}, {@code
   * X-Frame-Options: DENY}, {@code Referrer-Policy: no-referrer}, and {@code Cache-Control:
   * no-store} unless the reply sets its own cache policy).
   *
   * @param headRequest true for HEAD: the body is omitted but Content-Length still describes it
   */
  public static FullHttpResponse toNetty(HttpReply reply, HttpVersion version, boolean headRequest) {
    FullHttpResponse res =
        new DefaultFullHttpResponse(
            version,
            HttpResponseStatus.valueOf(reply.status()),
            headRequest ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(reply.body()));
    HttpHeaders h = res.headers();
    for (Map.Entry<String, String> e : reply.headers().entrySet()) {
      h.set(e.getKey(), e.getValue());
    }
    h.set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
    h.set(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
    addSecurityHeaders(h);
    return res;
  }

  /** Adds the headers every HTTP response of the gateway carries. */
  public static void addSecurityHeaders(HttpHeaders h) {
    h.set("X-Content-Type-Options", "nosniff");
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "no-referrer");
    if (!h.contains(HttpHeaderNames.CACHE_CONTROL)) {
      h.set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    }
  }

  /** Lower-cases a header name the way {@link HttpCall#headers()} keys are. */
  static String lower(String name) {
    return name.toLowerCase(Locale.ROOT);
  }
}
