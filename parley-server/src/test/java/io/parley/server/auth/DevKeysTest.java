package io.parley.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevKeysTest {
  @TempDir Path tmp;

  @Test
  void generatesKeysInOwnerOnlyFilesUnderTheDataDir() throws IOException {
    Path dataDir = tmp.resolve("parley-data");
    DevKeys keys = DevKeys.loadOrCreate(dataDir);

    assertThat(keys.signingKeyFile()).isEqualTo(dataDir.resolve("dev-signing.key"));
    assertThat(keys.adminKeyFile()).isEqualTo(dataDir.resolve("dev-admin.key"));
    assertThat(HmacSecrets.decode(keys.hmacSecret())).hasSize(32);
    assertThat(keys.adminApiKey()).hasSizeGreaterThanOrEqualTo(32);
    for (Path file : new Path[] {keys.signingKeyFile(), keys.adminKeyFile()}) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
    }
    try (var files = Files.list(dataDir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("dev-signing.key", "dev-admin.key");
    }
  }

  @Test
  void reusesTheSameKeysOnRestart() throws IOException {
    DevKeys first = DevKeys.loadOrCreate(tmp);
    DevKeys second = DevKeys.loadOrCreate(tmp);
    assertThat(second.hmacSecret()).isEqualTo(first.hmacSecret());
    assertThat(second.adminApiKey()).isEqualTo(first.adminApiKey());
    assertThat(DevKeys.loadExisting(tmp)).contains(first);
  }

  @Test
  void differentDataDirsGetDifferentKeys() throws IOException {
    DevKeys a = DevKeys.loadOrCreate(tmp.resolve("a"));
    DevKeys b = DevKeys.loadOrCreate(tmp.resolve("b"));
    assertThat(a.hmacSecret()).isNotEqualTo(b.hmacSecret());
    assertThat(a.adminApiKey()).isNotEqualTo(b.adminApiKey());
  }

  @Test
  void loadExistingCreatesNothing() throws IOException {
    assertThat(DevKeys.loadExisting(tmp.resolve("missing"))).isEmpty();
    assertThat(tmp.resolve("missing")).doesNotExist();
  }

  @Test
  void corruptKeyFileIsReportedByName() throws IOException {
    Files.writeString(tmp.resolve("dev-signing.key"), "too-short\n");
    assertThatThrownBy(() -> DevKeys.loadOrCreate(tmp))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("dev-signing.key")
        .hasMessageContaining("delete it");
  }

  @Test
  void toStringDoesNotRevealSecrets() throws IOException {
    DevKeys keys = DevKeys.loadOrCreate(tmp);
    assertThat(keys.toString())
        .doesNotContain(keys.hmacSecret())
        .doesNotContain(keys.adminApiKey());
  }
}
