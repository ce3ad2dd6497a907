package io.parley.server.gateway.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.parley.server.config.ParleyConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SSLException;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of TLS: a Netty {@link SslContext} built from the configured PEM chain and key,
 * restricted to TLS 1.3 and 1.2 and advertising ALPN {@code http/1.1} (the gateway speaks HTTP/1.1
 * and WebSocket only). It uses the OpenSSL engine (BoringSSL from netty-tcnative) when it loads on
 * this platform and the JDK engine otherwise; which one is in use is logged and reported by {@link
 * #provider()}. Immutable and thread-safe; one instance serves every listener.
 */
public final class ServerTls {
  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final SslContext context;
  private final SslProvider provider;
  private final String fingerprint;

  private ServerTls(SslContext context, SslProvider provider, String fingerprint) {
    this.context = context;
    this.provider = provider;
    this.fingerprint = fingerprint;
  }

  /**
   * Loads the configured certificate chain and key.
   *
   * @throws IllegalArgumentException when TLS is disabled or the files do not load
   */
  public static ServerTls create(ParleyConfig.Tls tls) {
    Objects.requireNonNull(tls, "tls");
    if (!tls.enabled()) {
      throw new IllegalArgumentException("TLS is not enabled");
    }
    SslProvider provider = preferredProvider();
    try {
      SslContext context = build(tls.certChainPem(), tls.privateKeyPem(), provider);
      String fingerprint = sha256Fingerprint(leafCertificate(tls.certChainPem()));
      log.info(
          "TLS enabled with the {} provider ({}), certificate {} SHA-256 fingerprint {}",
          provider,
          String.join(", ", PROTOCOLS),
          tls.selfSigned() ? "(self-signed, development)" : tls.certChainPem(),
          fingerprint);
      return new ServerTls(context, provider, fingerprint);
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException(
          "cannot load TLS certificate " + tls.certChainPem() + " and key " + tls.privateKeyPem()
              + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * Checks that the pair loads as a server certificate chain and matching key.
   *
   * @return null when it does, otherwise what is wrong (for a configuration error message)
   */
  public static String check(Path certChainPem, Path privateKeyPem) {
    try {
      build(certChainPem, privateKeyPem, SslProvider.JDK);
      X509Certificate leaf = leafCertificate(certChainPem);
      if (!keyMatches(leaf, readPrivateKey(privateKeyPem))) {
        return "the private key in "
            + privateKeyPem
            + " does not belong to the first certificate in "
            + certChainPem
            + " (the chain must start with the server's own certificate)";
      }
      return null;
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      String detail = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
      return "cannot load the certificate chain and private key (" + detail + ")";
    }
  }

  /** A new handler for one connection; the handshake must finish within {@code timeout}. */
  public SslHandler newHandler(ByteBufAllocator alloc, Duration timeout) {
    SslHandler handler = context.newHandler(alloc);
    handler.setHandshakeTimeoutMillis(Math.max(1, timeout.toMillis()));
    return handler;
  }

  /** The TLS engine in use: {@link SslProvider#OPENSSL} or {@link SslProvider#JDK}. */
  public SslProvider provider() {
    return provider;
  }

  /** SHA-256 fingerprint of the leaf certificate, upper-case hex pairs separated by colons. */
  public String fingerprint() {
    return fingerprint;
  }

  /**
   * Whether the key belongs to the certificate, proven by signing a challenge with the key and
   * verifying it with the certificate's public key (the JDK engine does not check this when the
   * context is built, so a mismatch would only show up as failing handshakes).
   */
  private static boolean keyMatches(X509Certificate leaf, PrivateKey key)
      throws GeneralSecurityException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC", "ECDSA" -> "SHA256withECDSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          case "Ed448" -> "Ed448";
          default -> null;
        };
    if (algorithm == null) {
      return true; // unknown key type: leave the verdict to the TLS engine
    }
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(challenge);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm);
    try {
      verifier.initVerify(leaf.getPublicKey());
    } catch (InvalidKeyException differentKeyType) {
      return false;
    }
    verifier.update(challenge);
    return verifier.verify(signature);
  }

  /** Reads a PEM private key in PKCS#8, PKCS#1 (RSA) or SEC1 (EC) form. */
  private static PrivateKey readPrivateKey(Path pem) throws IOException {
    try (PEMParser parser = new PEMParser(Files.newBufferedReader(pem))) {
      Object o = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      if (o instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new IOException("no unencrypted private key in " + pem);
    }
  }

  private static SslProvider preferredProvider() {
    if (OpenSsl.isAvailable() && SslProvider.isAlpnSupported(SslProvider.OPENSSL)) {
      return SslProvider.OPENSSL;
    }
    Throwable cause = OpenSsl.unavailabilityCause();
    log.info(
        "OpenSSL TLS engine not available ({}); using the JDK provider",
        cause == null ? "no ALPN support" : cause.toString());
    return SslProvider.JDK;
  }

  private static SslContext build(Path certChainPem, Path privateKeyPem, SslProvider provider)
      throws SSLException {
    return SslContextBuilder.forServer(certChainPem.toFile(), privateKeyPem.toFile())
        .sslProvider(provider)
        .protocols(PROTOCOLS)
        .applicationProtocolConfig(
            new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                // The only combination both the OpenSSL and the JDK engine support.
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                ApplicationProtocolNames.HTTP_1_1))
        .build();
  }

  private static X509Certificate leafCertificate(Path certChainPem)
      throws IOException, CertificateException {
    try (InputStream in = Files.newInputStream(certChainPem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  /** SHA-256 over the DER encoding, as {@code AB:CD:...} (the form browsers and openssl show). */
  public static String sha256Fingerprint(X509Certificate certificate) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest).toUpperCase(Locale.ROOT);
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot fingerprint certificate", e);
    }
  }
}
