package io.parley.server.gateway.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A test PKI generated per test run: an RSA certificate authority and a server certificate for
 * {@code 127.0.0.1} and {@code localhost} that it signed. The server gets the chain (leaf, then CA)
 * and the leaf key as PEM files; clients trust only the CA, so a successful handshake proves the
 * server presented the configured chain.
 */
public final class TestCertificates {
  private final X509Certificate ca;
  private final X509Certificate leaf;
  private final PrivateKey leafKey;

  private TestCertificates(X509Certificate ca, X509Certificate leaf, PrivateKey leafKey) {
    this.ca = ca;
    this.leaf = leaf;
    this.leafKey = leafKey;
  }

  public static TestCertificates generate() {
    try {
      KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
      rsa.initialize(2048);
      KeyPair caKeys = rsa.generateKeyPair();
      KeyPair leafKeys = rsa.generateKeyPair();
      X500Name caName = new X500Name("CN=Parley Test CA");
      X509Certificate ca =
          sign(caName, caName, caKeys.getPublic(), caKeys.getPrivate(), true);
      X509Certificate leaf =
          sign(caName, new X500Name("CN=127.0.0.1"), leafKeys.getPublic(), caKeys.getPrivate(), false);
      return new TestCertificates(ca, leaf, leafKeys.getPrivate());
    } catch (GeneralSecurityException | IOException | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static X509Certificate sign(
      X500Name issuer, X500Name subject, PublicKey key, PrivateKey signer, boolean isCa)
      throws IOException, GeneralSecurityException, org.bouncycastle.operator.OperatorCreationException {
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            issuer,
            new BigInteger(64, new SecureRandom()).add(BigInteger.ONE),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(2))),
            subject,
            key);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
    if (isCa) {
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.dNSName, "localhost")
              }));
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    }
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withRSA").build(signer)));
  }

  /** Writes {@code chain.pem} (leaf then CA) and {@code key.pem} into the directory. */
  public Files written(Path dir) {
    try {
      Path chain = dir.resolve("chain.pem");
      Path key = dir.resolve("key.pem");
      java.nio.file.Files.writeString(chain, pem(leaf) + pem(ca));
      java.nio.file.Files.writeString(key, pem(new JcaPKCS8Generator(leafKey, null)));
      return new Files(chain, key);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Paths of the written PEM files. */
  public record Files(Path chain, Path key) {}

  public X509Certificate leaf() {
    return leaf;
  }

  /** A client SSL context that trusts only the test CA. */
  public SSLContext clientContext() {
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("parley-test-ca", ca);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      if (o instanceof JcaPKCS8Generator g) {
        w.writeObject(g);
      } else {
        w.writeObject(o);
      }
    }
    return out.toString();
  }
}
