package io.parley.server.notify.push;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.crypto.tink.subtle.EllipticCurves;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** RFC 8291 encryption checked against the example of RFC 8291 section 5. */
class WebPushEncryptionTest {
  private static final Base64.Decoder B64 = Base64.getUrlDecoder();

  @Test
  void reproducesTheRfc8291Example() throws Exception {
    byte[] plaintext = B64.decode("V2hlbiBJIGdyb3cgdXAsIEkgd2FudCB0byBiZSBhIHdhdGVybWVsb24");
    byte[] asPublic =
        B64.decode(
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8");
    byte[] asPrivate = B64.decode("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw");
    byte[] uaPublic =
        B64.decode(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
    byte[] auth = B64.decode("BTBZMqHH6r4Tts7J_aSIgg");
    byte[] salt = B64.decode("DGv6ra1nlYgDCS1FRnbzlw");
    KeyPair ephemeral =
        new KeyPair(
            EllipticCurves.getEcPublicKey(
                EllipticCurves.CurveType.NIST_P256,
                EllipticCurves.PointFormatType.UNCOMPRESSED,
                asPublic),
            EllipticCurves.getEcPrivateKey(EllipticCurves.CurveType.NIST_P256, asPrivate));

    byte[] body = WebPushEncryption.encrypt(plaintext, uaPublic, auth, ephemeral, salt);

    assertThat(Base64.getUrlEncoder().withoutPadding().encodeToString(body))
        .isEqualTo(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN");
  }

  @Test
  void theSubscriptionsPrivateKeyDecryptsTheBody() throws Exception {
    KeyPair ua = EllipticCurves.generateKeyPair(EllipticCurves.CurveType.NIST_P256);
    byte[] uaPublic =
        EllipticCurves.pointEncode(
            EllipticCurves.CurveType.NIST_P256,
            EllipticCurves.PointFormatType.UNCOMPRESSED,
            ((ECPublicKey) ua.getPublic()).getW());
    byte[] auth = new byte[16];
    auth[3] = 7;
    byte[] message = "{\"title\":\"hi\"}".getBytes(StandardCharsets.UTF_8);

    byte[] body = WebPushEncryption.encrypt(message, uaPublic, auth);

    assertThat(WebPushDecryption.decrypt(body, (ECPrivateKey) ua.getPrivate(), uaPublic, auth))
        .isEqualTo(message);
  }
}
