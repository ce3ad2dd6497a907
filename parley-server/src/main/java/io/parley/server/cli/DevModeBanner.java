package io.parley.server.cli;

import io.parley.server.auth.DevKeys;
import io.parley.server.config.ParleyConfig;
import java.nio.file.Path;

/** The clearly labelled notice printed when the server starts in development mode. */
final class DevModeBanner {
  private DevModeBanner() {}

  static String render(ParleyConfig config, int port) {
    String host = config.server().host();
    String shown = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    String base = "http://" + shown + ":" + port;
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
}
