package io.parley.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The build's version, read from a resource that Maven fills in at build time. */
final class Version implements IVersionProvider {
  static String current() {
    Properties p = new Properties();
    try (InputStream in = Version.class.getResourceAsStream("/io/parley/server/version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      return "unknown";
    }
    return p.getProperty("version", "unknown");
  }

  static String describe() {
    return "parley " + current() + " (Java " + Runtime.version() + ", " + System.getProperty("java.vm.name") + ")";
  }

  @Override
  public String[] getVersion() {
    return new String[] {describe()};
  }
}
