package io.parley.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses PEM public keys ({@code -----BEGIN PUBLIC KEY-----}, X.509 SubjectPublicKeyInfo) into JWKs:
 * RSA (at least 2048 bits), EC P-256 and Ed25519. One text may hold several PEM blocks. Each key gets
 * its RFC 7638 thumbprint as key id. Stateless and thread-safe.
 */
public final class PemPublicKeys {
  /** Smallest accepted RSA modulus, in bits. */
  public static final int MIN_RSA_BITS = 2048;

  private static final Pattern BLOCK =
      Pattern.compile(
          "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)\\s*-----END \\1-----");

  /** The DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32-byte key follows it. */
  private static final byte[] ED25519_SPKI_PREFIX = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
  };

  private PemPublicKeys() {}

  /**
   * Parses every PEM block in {@code pem}.
   *
   * @throws IllegalArgumentException naming the problem when the text holds no public key, a block is
   *     not a SubjectPublicKeyInfo, or the key type or size is not accepted
   */
  public static List<JWK> parse(String pem) {
    if (pem == null || pem.isBlank()) {
      throw new IllegalArgumentException("empty PEM text");
    }
    Matcher m = BLOCK.matcher(pem);
    List<JWK> keys = new ArrayList<>();
    while (m.find()) {
      String label = m.group(1);
      if (!label.equals("PUBLIC KEY")) {
        throw new IllegalArgumentException(
            "PEM block '"
                + label
                + "' is not accepted: give the public key as '-----BEGIN PUBLIC KEY-----'"
                + (label.contains("PRIVATE") ? " (never configure a private key here)" : ""));
      }
      byte[] der;
      try {
        der = Base64.getMimeDecoder().decode(m.group(2));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("PEM public key is not valid base64", e);
      }
      keys.add(toJwk(der));
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no '-----BEGIN PUBLIC KEY-----' block found");
    }
    return List.copyOf(keys);
  }

  private static JWK toJwk(byte[] der) {
    PublicKey key = decode(der);
    try {
      if (key instanceof RSAPublicKey rsa) {
        int bits = rsa.getModulus().bitLength();
        if (bits < MIN_RSA_BITS) {
          throw new IllegalArgumentException(
              "RSA public key has " + bits + " bits; at least " + MIN_RSA_BITS + " are required");
        }
        return new RSAKey.Builder(rsa).keyUse(KeyUse.SIGNATURE).keyIDFromThumbprint().build();
      }
      if (key instanceof ECPublicKey ec) {
        Curve curve = Curve.forECParameterSpec(ec.getParams());
        if (!Curve.P_256.equals(curve)) {
          throw new IllegalArgumentException(
              "EC public key on curve " + curve + " is not accepted; only P-256 (ES256) is");
        }
        return new ECKey.Builder(curve, ec).keyUse(KeyUse.SIGNATURE).keyIDFromThumbprint().build();
      }
      if (isEd25519(der)) {
        byte[] x = Arrays.copyOfRange(der, ED25519_SPKI_PREFIX.length, der.length);
        return new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(x))
            .keyUse(KeyUse.SIGNATURE)
            .keyIDFromThumbprint()
            .build();
      }
    } catch (JOSEException e) {
      throw new IllegalArgumentException("cannot compute the key's thumbprint: " + e.getMessage(), e);
    }
    throw new IllegalArgumentException(
        "public key type " + key.getAlgorithm() + " is not accepted (use RSA, EC P-256 or Ed25519)");
  }

  private static PublicKey decode(byte[] der) {
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
      } catch (GeneralSecurityException | ClassCastException e) {
        // not this algorithm: try the next one
      }
    }
    throw new IllegalArgumentException(
        "PEM block is not an RSA, EC or Ed25519 SubjectPublicKeyInfo public key");
  }

  private static boolean isEd25519(byte[] der) {
    return der.length == ED25519_SPKI_PREFIX.length + 32
        && Arrays.equals(
            Arrays.copyOf(der, ED25519_SPKI_PREFIX.length), ED25519_SPKI_PREFIX);
  }
}
