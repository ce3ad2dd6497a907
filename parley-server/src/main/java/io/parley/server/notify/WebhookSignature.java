package io.parley.server.notify;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature scheme of webhook and push-gateway requests: {@code Parley-Signature: v1=<hex>}
 * where hex is the lowercase HMAC-SHA256, keyed with the endpoint's secret (its UTF-8 bytes), of
 * {@code timestamp + "." + body}; timestamp is the {@code Parley-Timestamp} header (Unix seconds).
 * Signing the timestamp lets receivers reject replays of old deliveries. Stateless.
 */
public final class WebhookSignature {
  public static final String SIGNATURE_HEADER = "Parley-Signature";
  public static final String TIMESTAMP_HEADER = "Parley-Timestamp";
  public static final String DELIVERY_ID_HEADER = "Parley-Delivery-Id";
  public static final String EVENT_TYPE_HEADER = "Parley-Event-Type";
  public static final String ATTEMPT_HEADER = "Parley-Attempt";

  private WebhookSignature() {}

  /** The header value {@code v1=<hex hmac>}. */
  public static String sign(String secret, long timestampSeconds, byte[] body) {
    return "v1=" + HexFormat.of().formatHex(hmac(secret, timestampSeconds, body));
  }

  /** True when {@code header} is a valid signature of the body at that timestamp. */
  public static boolean verify(String secret, long timestampSeconds, byte[] body, String header) {
    if (header == null || !header.startsWith("v1=")) {
      return false;
    }
    byte[] presented;
    try {
      presented = HexFormat.of().parseHex(header.substring(3));
    } catch (IllegalArgumentException e) {
      return false;
    }
    return MessageDigest.isEqual(hmac(secret, timestampSeconds, body), presented);
  }

  private static byte[] hmac(String secret, long timestampSeconds, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
      return mac.doFinal(body);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is required by the Java platform", e);
    }
  }
}
