package io.parley.server.notify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {
  private static final byte[] BODY = "{\"id\":\"whd_1\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void signatureIsHmacSha256OfTimestampDotBodyInLowercaseHex() {
    // Reference value computed with: printf '1700000000.{"id":"whd_1"}' |
    //   openssl dgst -sha256 -hmac 'top-secret-key-123'
    assertThat(WebhookSignature.sign("top-secret-key-123", 1_700_000_000L, BODY))
        .isEqualTo("v1=" + referenceHmac());
  }

  @Test
  void verifyAcceptsItsOwnSignatureAndRejectsAnyChange() {
    String sig = WebhookSignature.sign("secret-one-two-three", 42, BODY);

    assertThat(WebhookSignature.verify("secret-one-two-three", 42, BODY, sig)).isTrue();
    assertThat(WebhookSignature.verify("secret-one-two-three", 43, BODY, sig)).isFalse();
    assertThat(WebhookSignature.verify("another-secret-value", 42, BODY, sig)).isFalse();
    assertThat(WebhookSignature.verify("secret-one-two-three", 42, "{}".getBytes(StandardCharsets.UTF_8), sig))
        .isFalse();
    assertThat(WebhookSignature.verify("secret-one-two-three", 42, BODY, "v1=zz")).isFalse();
    assertThat(WebhookSignature.verify("secret-one-two-three", 42, BODY, null)).isFalse();
    assertThat(WebhookSignature.verify("secret-one-two-three", 42, BODY, sig.substring(3))).isFalse();
  }

  /** Computed independently with {@code openssl dgst -sha256 -hmac}, see above. */
  private static String referenceHmac() {
    return "8885a0d955723d175f74e1446ec3b7f35f55b41eabec079f29a2c475d77ea761";
  }
}
