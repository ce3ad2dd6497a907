package io.parley.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.parley.server.config.ParleyConfig;
import java.io.ByteArrayOutputStream;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/** Key generation, PEM encoding and token signing shared by the auth tests. */
final class TestKeys {
  private TestKeys() {}

  static RSAKey rsa(String kid) {
    try {
      return new RSAKeyGenerator(2048).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static ECKey ec(String kid) {
    try {
      return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static OctetKeyPair ed25519(String kid) {
    try {
      return new OctetKeyPairGenerator(Curve.Ed25519).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(RSAKey key) {
    try {
      return pem(key.toRSAPublicKey());
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(ECKey key) {
    try {
      return pem(key.toECPublicKey());
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(PublicKey key) {
    return pem(key.getEncoded());
  }

  static String pem(byte[] spki) {
    return "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(spki)
        + "\n-----END PUBLIC KEY-----\n";
  }

  /** The X.509 SubjectPublicKeyInfo encoding of an Ed25519 public key. */
  static String pem(OctetKeyPair okp) {
    byte[] prefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    byte[] x = okp.getDecodedX();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(prefix);
    out.writeBytes(x);
    return pem(out.toByteArray());
  }

  static String sign(JWSSigner signer, JWSAlgorithm alg, String kid, JWTClaimsSet claims) {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(alg).type(JOSEObjectType.JWT).keyID(kid).build(), claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  static ParleyConfig.Auth auth(
      String hmacSecret, List<String> pems, List<String> jwks, String issuer, String audience) {
    return new ParleyConfig.Auth(
        hmacSecret,
        pems,
        jwks,
        Duration.ofMinutes(5),
        issuer,
        audience,
        Duration.ofSeconds(60),
        Duration.ofHours(24));
  }
}
