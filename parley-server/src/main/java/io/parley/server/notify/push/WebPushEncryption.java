package io.parley.server.notify.push;

import com.google.crypto.tink.subtle.EllipticCurves;
import com.google.crypto.tink.subtle.Hkdf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Message encryption for Web Push (RFC 8291) in the {@code aes128gcm} content coding (RFC 8188),
 * one record. Built from Tink's audited P-256 ECDH and HKDF primitives and the JDK's AES-GCM;
 * the composition (key derivation labels, header layout) follows RFC 8291 section 3 and 4, which
 * no maintained Java library on this project's dependency list implements. Stateless.
 */
final class WebPushEncryption {
  /** Record size announced in the header; the payload must fit one record. */
  static final int RECORD_SIZE = 4096;

  private static final SecureRandom RANDOM = new SecureRandom();

  private WebPushEncryption() {}

  /**
   * Encrypts {@code plaintext} for a subscription.
   *
   * @param uaPublic the subscription's {@code p256dh} key (65-byte uncompressed point)
   * @param authSecret the subscription's 16-byte {@code auth} secret
   * @return the request body: header (salt, record size, key id = our ephemeral public key) then
   *     the single encrypted record
   */
  static byte[] encrypt(byte[] plaintext, byte[] uaPublic, byte[] authSecret)
      throws GeneralSecurityException {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    KeyPair ephemeral = EllipticCurves.generateKeyPair(EllipticCurves.CurveType.NIST_P256);
    return encrypt(plaintext, uaPublic, authSecret, ephemeral, salt);
  }

  static byte[] encrypt(
      byte[] plaintext, byte[] uaPublic, byte[] authSecret, KeyPair ephemeral, byte[] salt)
      throws GeneralSecurityException {
    if (plaintext.length + 1 + 16 > RECORD_SIZE) {
      throw new GeneralSecurityException("payload too large for one record");
    }
    ECPublicKey ua =
        EllipticCurves.getEcPublicKey(
            EllipticCurves.CurveType.NIST_P256,
            EllipticCurves.PointFormatType.UNCOMPRESSED,
            uaPublic);
    byte[] asPublic =
        EllipticCurves.pointEncode(
            EllipticCurves.CurveType.NIST_P256,
            EllipticCurves.PointFormatType.UNCOMPRESSED,
            ((ECPublicKey) ephemeral.getPublic()).getW());
    byte[] ecdh = EllipticCurves.computeSharedSecret((ECPrivateKey) ephemeral.getPrivate(), ua);
    // RFC 8291 3.4: key_info = "WebPush: info" || 0x00 || ua_public || as_public
    byte[] keyInfo =
        concat("WebPush: info\0".getBytes(StandardCharsets.US_ASCII), uaPublic, asPublic);
    byte[] ikm = Hkdf.computeHkdf("HMACSHA256", ecdh, authSecret, keyInfo, 32);
    byte[] cek =
        Hkdf.computeHkdf(
            "HMACSHA256", ikm, salt, "Content-Encoding: aes128gcm\0".getBytes(StandardCharsets.US_ASCII), 16);
    byte[] nonce =
        Hkdf.computeHkdf(
            "HMACSHA256", ikm, salt, "Content-Encoding: nonce\0".getBytes(StandardCharsets.US_ASCII), 12);
    // RFC 8188 2: the last record's padding delimiter is 0x02.
    byte[] padded = concat(plaintext, new byte[] {2});
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(cek, "AES"), new GCMParameterSpec(128, nonce));
    byte[] record = gcm.doFinal(padded);
    ByteBuffer out = ByteBuffer.allocate(16 + 4 + 1 + asPublic.length + record.length);
    out.put(salt).putInt(RECORD_SIZE).put((byte) asPublic.length).put(asPublic).put(record);
    return out.array();
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    ByteBuffer b = ByteBuffer.allocate(n);
    for (byte[] p : parts) {
      b.put(p);
    }
    return b.array();
  }
}
