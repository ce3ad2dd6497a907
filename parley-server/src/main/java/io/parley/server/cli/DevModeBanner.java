package io.parley.server.cli;

import io.parley.server.auth.DevKeys;
import io.parley.server.config.ParleyConfig;
import io.parley.server.gateway.tls.DevCertificate;
import java.nio.file.Path;

/** The clearly labelled notice printed when the server starts in development mode. */
final class DevModeBanner {
  private DevModeBanner() {}

  static String render(ParleyConfig config, int port) {
    String host = config.server().host();
    String shown = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    String base = (config.tls().enabled() ? "https://" : "http://") + shown + ":" + port;
    Path adminKey = config.storage().dataDir().resolve(DevKeys.ADMIN_KEY_FILE);
    String rule = "=".repeat(78);
    return String.join(
            "\n",
            rule,
            "  PARLEY DEVELOPMENT MODE -- not for production",
            "  (no --config given: generated keys, open dev token endpoint)",
            "",
            "  Demo & API     " + base + "/",
            "  Data dir       " + config.storage().dataDir(),
            tlsLine(config),
            "  Mint a token   ./parley token --user alice",
            "                 or: curl -X POST " + base + "/v1/dev/token -d '{\"user_id\":\"alice\"}'",
            "  Admin API key  " + adminKey,
            "                 curl -H \"Authorization: Bearer $(cat " + adminKey + ")\" "
                + base
                + "/v1/admin/...",
            "  Production     ./parley config init > parley.yaml, then ./parley server --config parley.yaml",
            rule)
        + "\n";
  }

  private static String tlsLine(ParleyConfig config) {
    if (!config.tls().selfSigned()) {
      return "  TLS            " + (config.tls().enabled() ? config.tls().certChainPem() : "off (--dev-tls turns it on)");
    }
    String fingerprint;
    try {
      fingerprint = DevCertificate.loadOrCreate(config.storage().dataDir(), config.server().host()).fingerprint();
    } catch (java.io.IOException e) {
      fingerprint = "unavailable (" + e.getMessage() + ")";
    }
    return "  TLS            self-signed " + config.tls().certChainPem()
        + "\n                 SHA-256 " + fingerprint;
  }
}
