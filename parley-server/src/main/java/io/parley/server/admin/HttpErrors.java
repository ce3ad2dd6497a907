package io.parley.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.Ids;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.http.HttpReply;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one mapping from typed errors ({@link ParleyException} / {@link ErrorCode}) to HTTP: the
 * status code, the JSON body {@code {"code": "<ErrorCode name>", "message": "...",
 * "retry_after_ms": n}} and the {@code Retry-After} header for retryable errors. Shared by the
 * admin API and any other HTTP endpoint of the gateway. Stateless and thread-safe.
 */
public final class HttpErrors {
  private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private HttpErrors() {}

  /**
   * The HTTP status for an error code. {@code UNSUPPORTED} maps to 400 (an unsupported request
   * shape); a wrong HTTP method is answered by {@link #methodNotAllowed} with 405 instead.
   */
  public static int status(ErrorCode code) {
    return switch (code) {
      case BAD_REQUEST, UNSUPPORTED -> 400;
      case UNAUTHENTICATED, TOKEN_EXPIRED -> 401;
      case FORBIDDEN, USER_DEACTIVATED -> 403;
      case NOT_FOUND -> 404;
      case CONFLICT, ALREADY_AUTHENTICATED -> 409;
      case TOO_LARGE -> 413;
      case LIMIT_EXCEEDED -> 422;
      case RATE_LIMITED -> 429;
      case UNAVAILABLE, SHUTTING_DOWN -> 503;
      case INTERNAL, ERROR_CODE_UNSPECIFIED, UNRECOGNIZED -> 500;
    };
  }

  /** An error reply for a code and a message safe to show to the caller. */
  public static HttpReply reply(ErrorCode code, String message) {
    return reply(new ParleyException(code, message));
  }

  /**
   * The reply for a typed error. Retryable errors (429, 503) carry {@code Retry-After} in whole
   * seconds (at least 1). Internal errors are logged with their cause under a reference that the
   * reply's message repeats, so the cause never leaks to the caller but can be found in the log.
   */
  public static HttpReply reply(ParleyException e) {
    ErrorCode code = e.code() == ErrorCode.UNRECOGNIZED ? ErrorCode.INTERNAL : e.code();
    int status = status(code);
    String message = e.getMessage();
    if (status == 500) {
      code = ErrorCode.INTERNAL;
      String ref = Ids.timeOrdered("err_");
      log.error(
          "internal error {}: {}", ref, e.getMessage(), e.getCause() != null ? e.getCause() : e);
      message = "internal error (reference " + ref + ")";
    }
    ObjectNode body = JSON.createObjectNode();
    body.put("code", code.name());
    body.put("message", message);
    if (e.retryAfterMs() > 0) {
      body.put("retry_after_ms", e.retryAfterMs());
    }
    Map<String, String> headers = new LinkedHashMap<>();
    if (status == 429 || status == 503) {
      long seconds = Math.max(1L, (e.retryAfterMs() + 999L) / 1000L);
      headers.put("Retry-After", Long.toString(seconds));
    }
    if (status == 401) {
      headers.put("WWW-Authenticate", "Bearer");
    }
    return new HttpReply(status, "application/json; charset=utf-8", write(body), headers);
  }

  /** The reply for any failure: typed errors keep their code, anything else is INTERNAL. */
  public static HttpReply reply(Throwable t) {
    return reply(ParleyException.from(t));
  }

  /** 405 with the {@code Allow} header listing the methods the path supports. */
  public static HttpReply methodNotAllowed(String method, Collection<String> allowed) {
    ObjectNode body = JSON.createObjectNode();
    body.put("code", ErrorCode.UNSUPPORTED.name());
    body.put(
        "message",
        "method " + method + " is not allowed here; allowed: " + String.join(", ", allowed));
    return new HttpReply(
        405,
        "application/json; charset=utf-8",
        write(body),
        Map.of("Allow", String.join(", ", allowed)));
  }

  private static byte[] write(ObjectNode body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      // A tree of strings and numbers always serializes; keep a valid body regardless.
      return "{\"code\":\"INTERNAL\",\"message\":\"internal error\"}"
          .getBytes(StandardCharsets.UTF_8);
    }
  }
}
