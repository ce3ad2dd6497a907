package io.parley.server.cli;

import io.parley.server.auth.DevKeys;
import io.parley.server.config.ParleyConfig;
import io.parley.server.gateway.tls.DevCertificate;
import java.nio.file.Path;

/** The clearly labelled notice printed when the server starts in development mode. */
final class DevModeBanner {
  private DevModeBanner() {}

  /**
   * @param port the bound main port
   * @param adminPort the bound port of the separate admin listener, or -1 when the admin API
   *     shares the main port
   */
  static String render(ParleyConfig config, int port, int adminPort) {
    String base = baseUrl(config, config.server().host(), port);
    String adminBase = adminPort < 0 ? base : baseUrl(config, config.admin().host(), adminPort);
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
                + adminBase
                + "/v1/admin/...",
            "  Production     ./parley config init > parley.yaml, then ./parley server --config parley.yaml",
            rule)
        + "\n";
  }

  private static String baseUrl(ParleyConfig config, String host, int port) {
    String shown = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    return (config.tls().enabled() ? "https://" : "http://") + shown + ":" + port;
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
