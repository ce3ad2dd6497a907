package io.parley.server.notify.push;

import com.google.crypto.tink.subtle.EllipticCurves;
import com.google.crypto.tink.subtle.Hkdf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.interfaces.ECPrivateKey;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/** The user agent's side of RFC 8291 (what a browser does), for tests of the push service. */
final class WebPushDecryption {
  private WebPushDecryption() {}

  static byte[] decrypt(byte[] body, ECPrivateKey uaPrivate, byte[] uaPublic, byte[] auth)
      throws GeneralSecurityException {
    ByteBuffer in = ByteBuffer.wrap(body);
    byte[] salt = new byte[16];
    in.get(salt);
    int rs = in.getInt();
    byte[] asPublic = new byte[in.get() & 0xff];
    in.get(asPublic);
    byte[] record = new byte[in.remaining()];
    in.get(record);
    if (record.length > rs) {
      throw new GeneralSecurityException("record larger than the record size");
    }
    byte[] ecdh =
        EllipticCurves.computeSharedSecret(
            uaPrivate,
            EllipticCurves.getEcPublicKey(
                EllipticCurves.CurveType.NIST_P256,
                EllipticCurves.PointFormatType.UNCOMPRESSED,
                asPublic));
    ByteBuffer info = ByteBuffer.allocate(14 + uaPublic.length + asPublic.length);
    info.put("WebPush: info\0".getBytes(StandardCharsets.US_ASCII)).put(uaPublic).put(asPublic);
    byte[] ikm = Hkdf.computeHkdf("HMACSHA256", ecdh, auth, info.array(), 32);
    byte[] cek = Hkdf.computeHkdf("HMACSHA256", ikm, salt, "Content-Encoding: aes128gcm\0".getBytes(StandardCharsets.US_ASCII), 16);
    byte[] nonce = Hkdf.computeHkdf("HMACSHA256", ikm, salt, "Content-Encoding: nonce\0".getBytes(StandardCharsets.US_ASCII), 12);
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(cek, "AES"), new GCMParameterSpec(128, nonce));
    byte[] padded = gcm.doFinal(record);
    int end = padded.length - 1;
    while (end >= 0 && padded[end] == 0) {
      end--;
    }
    if (end < 0 || padded[end] != 2) {
      throw new GeneralSecurityException("missing last-record delimiter");
    }
    return Arrays.copyOf(padded, end);
  }
}
