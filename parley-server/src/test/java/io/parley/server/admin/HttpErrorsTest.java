package io.parley.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.core.ParleyException;
import io.parley.server.gateway.http.HttpReply;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class HttpErrorsTest {

  @ParameterizedTest
  @CsvSource({
    "BAD_REQUEST, 400",
    "UNAUTHENTICATED, 401",
    "TOKEN_EXPIRED, 401",
    "FORBIDDEN, 403",
    "NOT_FOUND, 404",
    "CONFLICT, 409",
    "TOO_LARGE, 413",
    "RATE_LIMITED, 429",
    "LIMIT_EXCEEDED, 422",
    "UNAVAILABLE, 503",
    "UNSUPPORTED, 400",
    "USER_DEACTIVATED, 403",
    "INTERNAL, 500",
    "SHUTTING_DOWN, 503",
    "ALREADY_AUTHENTICATED, 409"
  })
  void errorCodesMapToTheirHttpStatus(ErrorCode code, int status) {
    assertThat(HttpErrors.status(code)).isEqualTo(status);
    assertThat(HttpErrors.reply(code, "m").status()).isEqualTo(status);
  }

  @ParameterizedTest
  @EnumSource(
      value = ErrorCode.class,
      names = {"UNRECOGNIZED", "INTERNAL", "ERROR_CODE_UNSPECIFIED"},
      mode = EnumSource.Mode.EXCLUDE)
  void everyReplyCarriesTheCodeNameAndMessage(ErrorCode code) {
    HttpReply reply = HttpErrors.reply(code, "what went wrong");
    JsonNode body = AdminHarness.json(reply);
    assertThat(reply.contentType()).startsWith("application/json");
    assertThat(body.get("code").asText()).isEqualTo(code.name());
    assertThat(body.get("message").asText()).isEqualTo("what went wrong");
    assertThat(body.has("retry_after_ms")).isFalse();
  }

  @Test
  void rateLimitedCarriesRetryAfterRoundedUpToSeconds() {
    HttpReply reply =
        HttpErrors.reply(new ParleyException(ErrorCode.RATE_LIMITED, "slow down", 1500));
    assertThat(reply.status()).isEqualTo(429);
    assertThat(reply.headers()).containsEntry("Retry-After", "2");
    assertThat(AdminHarness.json(reply).get("retry_after_ms").asLong()).isEqualTo(1500);
  }

  @Test
  void unavailableWithoutHintStillSaysRetryAfterOneSecond() {
    HttpReply reply = HttpErrors.reply(new ParleyException(ErrorCode.UNAVAILABLE, "store down"));
    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.headers()).containsEntry("Retry-After", "1");
    assertThat(AdminHarness.json(reply).has("retry_after_ms")).isFalse();
  }

  @Test
  void nonRetryableErrorsHaveNoRetryAfterHeader() {
    assertThat(HttpErrors.reply(ErrorCode.NOT_FOUND, "x").headers())
        .doesNotContainKey("Retry-After");
  }

  @Test
  void unauthenticatedAsksForBearer() {
    assertThat(HttpErrors.reply(ErrorCode.UNAUTHENTICATED, "x").headers())
        .containsEntry("WWW-Authenticate", "Bearer");
  }

  @Test
  void unexpectedThrowablesBecomeInternalWithoutLeakingTheCause() {
    HttpReply reply =
        HttpErrors.reply(new CompletionException(new IOException("disk /secret/path failed")));
    JsonNode body = AdminHarness.json(reply);
    assertThat(reply.status()).isEqualTo(500);
    assertThat(body.get("code").asText()).isEqualTo("INTERNAL");
    assertThat(body.get("message").asText()).contains("reference err_").doesNotContain("secret");
  }

  @Test
  void wrappedTypedErrorsKeepTheirCode() {
    HttpReply reply =
        HttpErrors.reply(new CompletionException(ParleyException.forbidden("owners only")));
    assertThat(reply.status()).isEqualTo(403);
    assertThat(AdminHarness.json(reply).get("message").asText()).isEqualTo("owners only");
  }

  @Test
  void unspecifiedCodeIsReportedAsInternal() {
    HttpReply reply = HttpErrors.reply(ErrorCode.ERROR_CODE_UNSPECIFIED, "odd");
    assertThat(reply.status()).isEqualTo(500);
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("INTERNAL");
  }

  @Test
  void methodNotAllowedListsAllowedMethods() {
    HttpReply reply = HttpErrors.methodNotAllowed("PUT", List.of("GET", "PATCH"));
    assertThat(reply.status()).isEqualTo(405);
    assertThat(reply.headers()).containsEntry("Allow", "GET, PATCH");
    assertThat(AdminHarness.json(reply).get("code").asText()).isEqualTo("UNSUPPORTED");
    assertThat(AdminHarness.json(reply).get("message").asText()).contains("PUT");
  }
}
