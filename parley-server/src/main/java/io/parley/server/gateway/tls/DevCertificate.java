package io.parley.server.gateway.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The development self-signed certificate ({@code tls.self_signed}, {@code ./parley server
 * --dev-tls}): an EC P-256 key and a certificate for {@code localhost}, {@code 127.0.0.1}, {@code
 * ::1} and the configured host, kept in {@code <data dir>/tls/} so that its fingerprint stays the
 * same across restarts (clients pin or trust it once). It is generated on first use and again when
 * it is about to expire or does not name the configured host.
 *
 * <p>Built with BouncyCastle because the JDK has no public API for issuing certificates (Netty's
 * {@code SelfSignedCertificate} is deprecated and uses BouncyCastle as well). Never for production:
 * nothing vouches for it.
 */
public final class DevCertificate {
  /** Directory under the data directory holding the files. */
  public static final String DIRECTORY = "tls";

  public static final String CERT_FILE = "dev-cert.pem";
  public static final String KEY_FILE = "dev-key.pem";
  private static final Duration VALIDITY = Duration.ofDays(365);
  private static final Duration RENEW_BEFORE = Duration.ofDays(7);

  private final Path certChainPem;
  private final Path privateKeyPem;
  private final X509Certificate certificate;

  private DevCertificate(Path certChainPem, Path privateKeyPem, X509Certificate certificate) {
    this.certChainPem = certChainPem;
    this.privateKeyPem = privateKeyPem;
    this.certificate = certificate;
  }

  /**
   * Loads the certificate from {@code dataDir/tls/}, generating it when missing, unreadable or
   * expiring within a week.
   *
   * @param host the configured listen address, added to the names when it is a concrete address
   */
  public static DevCertificate loadOrCreate(Path dataDir, String host) throws IOException {
    Objects.requireNonNull(dataDir, "dataDir");
    Path dir = dataDir.resolve(DIRECTORY);
    Path cert = dir.resolve(CERT_FILE);
    Path key = dir.resolve(KEY_FILE);
    if (Files.isRegularFile(cert) && Files.isRegularFile(key)) {
      X509Certificate existing = read(cert);
      if (existing != null
          && existing.getNotAfter().toInstant().isAfter(Instant.now().plus(RENEW_BEFORE))
          && namesAll(existing, names(host))) {
        return new DevCertificate(cert, key, existing);
      }
    }
    Files.createDirectories(dir);
    Generated g = generate(names(host));
    writeAtomically(key, g.keyPem(), true);
    writeAtomically(cert, g.certPem(), false);
    return new DevCertificate(cert, key, read(cert));
  }

  public Path certChainPem() {
    return certChainPem;
  }

  public Path privateKeyPem() {
    return privateKeyPem;
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /** SHA-256 fingerprint of the certificate ({@code AB:CD:...}). */
  public String fingerprint() {
    return ServerTls.sha256Fingerprint(certificate);
  }

  private static List<String> names(String host) {
    List<String> names = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
    if (host != null && !host.isBlank() && !host.equals("0.0.0.0") && !host.equals("::")
        && !names.contains(host)) {
      names.add(host);
    }
    return names;
  }

  /** Whether the certificate already names every host (a changed server.host needs a new one). */
  private static boolean namesAll(X509Certificate cert, List<String> names) {
    List<String> present = new ArrayList<>();
    try {
      if (cert.getSubjectAlternativeNames() != null) {
        for (List<?> san : cert.getSubjectAlternativeNames()) {
          present.add(normalized(String.valueOf(san.get(1))));
        }
      }
    } catch (java.security.cert.CertificateParsingException e) {
      return false;
    }
    for (String name : names) {
      if (!present.contains(normalized(name))) {
        return false;
      }
    }
    return true;
  }

  /** IP literals in one canonical form ({@code ::1} and {@code 0:0:0:0:0:0:0:1} are equal). */
  private static String normalized(String name) {
    if (isIpLiteral(name)) {
      try {
        return InetAddress.getByName(name).getHostAddress();
      } catch (UnknownHostException e) {
        return name;
      }
    }
    return name.toLowerCase(java.util.Locale.ROOT);
  }

  private record Generated(String certPem, String keyPem) {}

  private static Generated generate(List<String> names) throws IOException {
    try {
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
      kpg.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair keys = kpg.generateKeyPair();
      Instant now = Instant.now();
      X500Name subject = new X500Name("CN=Parley development certificate");
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              subject,
              new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE),
              Date.from(now.minus(Duration.ofHours(1))),
              Date.from(now.plus(VALIDITY)),
              subject,
              keys.getPublic());
      List<GeneralName> sans = new ArrayList<>();
      for (String name : names) {
        sans.add(
            isIpLiteral(name)
                ? new GeneralName(GeneralName.iPAddress, name)
                : new GeneralName(GeneralName.dNSName, name));
      }
      builder.addExtension(
          Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      X509CertificateHolder holder =
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
      return new Generated(pem(holder), pem(new JcaPKCS8Generator(keys.getPrivate(), null)));
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot generate a development certificate: " + e.getMessage(), e);
    }
  }

  private static boolean isIpLiteral(String name) {
    if (name.indexOf(':') >= 0) {
      return true;
    }
    if (!name.matches("[0-9.]+")) {
      return false;
    }
    try {
      InetAddress.getByName(name); // a dotted quad parses without a lookup
      return true;
    } catch (UnknownHostException e) {
      return false;
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

  private static X509Certificate read(Path cert) {
    try (InputStream in = Files.newInputStream(cert)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (IOException | GeneralSecurityException e) {
      return null;
    }
  }

  private static void writeAtomically(Path target, String text, boolean secret) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp);
    if (secret) {
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException notPosix) {
        // Windows: the data directory's ACL is all we have
      }
    }
    Files.writeString(tmp, text, StandardCharsets.US_ASCII);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
