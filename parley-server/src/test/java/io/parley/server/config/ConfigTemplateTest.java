package io.parley.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTemplateTest {
  @TempDir Path tmp;

  @Test
  void templateLoadsBackToTheDefaults() throws Exception {
    Path file = tmp.resolve("parley.yaml");
    Files.writeString(file, ConfigTemplate.render());
    Map<String, String> env =
        Map.of(
            "PARLEY_AUTH_HMAC_SECRET", ConfigLoaderTest.SECRET,
            "PARLEY_ADMIN_API_KEY", ConfigLoaderTest.ADMIN_KEY);

    ParleyConfig loaded = new ConfigLoader(env).load(new ConfigOverrides(file, null, null, null));

    assertThat(loaded)
        .isEqualTo(
            ConfigLoaderTest.expectedDefaults(
                false, ConfigLoaderTest.SECRET, ConfigLoaderTest.ADMIN_KEY));
  }

  @Test
  void templateHasEveryKeyWithAComment() throws Exception {
    String template = ConfigTemplate.render();
    JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(template);
    List<String> paths = new ArrayList<>();
    root.properties()
        .forEach(
            s ->
                s.getValue()
                    .properties()
                    .forEach(
                        k -> {
                          String path = s.getKey() + "." + k.getKey();
                          if (k.getValue().isObject()) {
                            k.getValue().properties().forEach(n -> paths.add(path + "." + n.getKey()));
                          } else {
                            paths.add(path);
                          }
                        }));

    assertThat(paths)
        .containsExactlyElementsOf(ConfigSchema.KEYS.stream().map(ConfigKey::path).toList());
    for (ConfigKey key : ConfigSchema.KEYS) {
      String indent = key.group().isEmpty() ? "  " : "    ";
      assertThat(template)
          .contains(indent + "# " + key.comment() + "\n" + indent + key.leaf() + ":");
    }
  }

  @Test
  void operationsGuideDocumentsEveryKeyAndVariable() throws Exception {
    String guide = Files.readString(Path.of("..", "docs", "operations.md"));
    for (ConfigKey key : ConfigSchema.KEYS) {
      assertThat(guide).as(key.path()).contains("`" + key.path() + "`").contains("`" + key.envVar() + "`");
    }
  }
}
