package io.parley.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class PemPublicKeysTest {
  @Test
  void parsesRsaEcAndEd25519KeysFromOneText() throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPairGenerator ed = KeyPairGenerator.getInstance("Ed25519");
    String text =
        TestKeys.pem(rsa.generateKeyPair().getPublic())
            + TestKeys.pem(ec.generateKeyPair().getPublic())
            + TestKeys.pem(ed.generateKeyPair().getPublic());

    List<JWK> keys = PemPublicKeys.parse(text);

    assertThat(keys).hasSize(3);
    assertThat(keys.get(0)).isInstanceOf(RSAKey.class);
    assertThat(keys.get(1)).isInstanceOf(ECKey.class);
    assertThat(keys.get(2)).isInstanceOf(OctetKeyPair.class);
    assertThat(keys).allSatisfy(k -> assertThat(k.getKeyID()).isNotBlank());
    assertThat(keys).noneMatch(JWK::isPrivate);
  }

  @Test
  void rejectsPrivateKeysSmallRsaAndOtherCurves() throws Exception {
    assertThatThrownBy(
            () -> PemPublicKeys.parse("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"))
        .hasMessageContaining("never configure a private key");

    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(1024);
    assertThatThrownBy(() -> PemPublicKeys.parse(TestKeys.pem(rsa.generateKeyPair().getPublic())))
        .hasMessageContaining("at least 2048");

    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp384r1"));
    assertThatThrownBy(() -> PemPublicKeys.parse(TestKeys.pem(ec.generateKeyPair().getPublic())))
        .hasMessageContaining("only P-256");

    assertThatThrownBy(() -> PemPublicKeys.parse("hello"))
        .hasMessageContaining("no '-----BEGIN PUBLIC KEY-----' block");
  }
}
