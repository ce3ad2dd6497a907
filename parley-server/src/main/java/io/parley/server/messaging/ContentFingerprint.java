package io.parley.server.messaging;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A SHA-256 digest of what makes a send's content: content type, body and reply target. Two sends
 * with the same idempotency key are the same message exactly when their fingerprints match
 * (mentions are not part of it: the server filters them). Stateless; thread-safe.
 */
final class ContentFingerprint {
  private ContentFingerprint() {}

  static byte[] of(String contentType, ByteString body, long replyToSeq) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] ct = contentType.getBytes(StandardCharsets.UTF_8);
      sha.update(ByteBuffer.allocate(4).putInt(ct.length).array());
      sha.update(ct);
      sha.update(body.asReadOnlyByteBuffer());
      sha.update(ByteBuffer.allocate(8).putLong(replyToSeq).array());
      return sha.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }
}
