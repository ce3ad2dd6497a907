package io.parley.server.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The development-mode secrets, kept in the data directory so that tokens and the admin key survive
 * restarts: {@value #SIGNING_KEY_FILE} holds a random 256-bit HS256 key (base64) and {@value
 * #ADMIN_KEY_FILE} a random admin API key (43 URL-safe characters). Both files are created with
 * permissions 600. Immutable; the static methods are safe to call from several processes at once
 * (a file is created exclusively, a loser reads the winner's key).
 *
 * @param hmacSecret the HS256 key in base64, as {@code auth.hmac_secret} expects it
 * @param adminApiKey the admin API key
 */
public record DevKeys(String hmacSecret, String adminApiKey, Path signingKeyFile, Path adminKeyFile) {
  /** File name of the HS256 signing key in the data directory. */
  public static final String SIGNING_KEY_FILE = "dev-signing.key";

  /** File name of the admin API key in the data directory. */
  public static final String ADMIN_KEY_FILE = "dev-admin.key";

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  public DevKeys {
    Objects.requireNonNull(hmacSecret, "hmacSecret");
    Objects.requireNonNull(adminApiKey, "adminApiKey");
    Objects.requireNonNull(signingKeyFile, "signingKeyFile");
    Objects.requireNonNull(adminKeyFile, "adminKeyFile");
  }

  /**
   * Reads the keys from {@code dataDir}, generating any that is missing (and the directory itself).
   *
   * @throws IOException when the directory or a file cannot be created or read, or a file holds
   *     something that is not a usable key (the message names the file)
   */
  public static DevKeys loadOrCreate(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Path signing = dataDir.resolve(SIGNING_KEY_FILE);
    Path admin = dataDir.resolve(ADMIN_KEY_FILE);
    createIfMissing(signing, Base64.getEncoder().encodeToString(randomBytes(32)));
    createIfMissing(admin, Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(32)));
    return read(signing, admin);
  }

  /**
   * Reads the keys from {@code dataDir} without creating anything.
   *
   * @return empty when either file does not exist
   * @throws IOException when a file exists but cannot be read or holds no usable key
   */
  public static Optional<DevKeys> loadExisting(Path dataDir) throws IOException {
    Path signing = dataDir.resolve(SIGNING_KEY_FILE);
    Path admin = dataDir.resolve(ADMIN_KEY_FILE);
    if (!Files.exists(signing) || !Files.exists(admin)) {
      return Optional.empty();
    }
    return Optional.of(read(signing, admin));
  }

  private static DevKeys read(Path signing, Path admin) throws IOException {
    String secret = Files.readString(signing, StandardCharsets.US_ASCII).strip();
    try {
      HmacSecrets.decode(secret);
    } catch (IllegalArgumentException e) {
      throw new IOException(
          signing + " does not hold a usable key (" + e.getMessage() + "); delete it to regenerate");
    }
    String adminKey = Files.readString(admin, StandardCharsets.US_ASCII).strip();
    if (adminKey.length() < 32) {
      throw new IOException(
          admin + " does not hold a usable admin key (under 32 characters); delete it to regenerate");
    }
    return new DevKeys(secret, adminKey, signing, admin);
  }

  /**
   * Writes the key to a private temporary file first, then links it into place: the key file
   * appears complete or not at all, and an existing key is never replaced.
   */
  private static void createIfMissing(Path file, String content) throws IOException {
    if (Files.exists(file)) {
      return;
    }
    boolean posix = file.getFileSystem().supportedFileAttributeViews().contains("posix");
    FileAttribute<?>[] attrs =
        posix
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
            : new FileAttribute<?>[0];
    Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp", attrs);
    try {
      if (posix) {
        // the umask can only remove bits, but set exactly 600 regardless of it
        Files.setPosixFilePermissions(tmp, OWNER_ONLY);
      }
      Files.writeString(tmp, content + "\n", StandardCharsets.US_ASCII);
      try {
        Files.createLink(file, tmp);
      } catch (FileAlreadyExistsException raced) {
        // another process created it first: keep theirs
      } catch (UnsupportedOperationException | IOException noHardLinks) {
        if (!Files.exists(file)) {
          Files.move(tmp, file);
        }
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  /** Hides both secrets: only the file locations are printed. */
  @Override
  public String toString() {
    return "DevKeys[signingKeyFile=" + signingKeyFile + ", adminKeyFile=" + adminKeyFile + "]";
  }
}
