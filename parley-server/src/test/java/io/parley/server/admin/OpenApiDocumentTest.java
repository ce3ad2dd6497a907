package io.parley.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.parley.server.gateway.http.HttpReply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Keeps the OpenAPI document complete and its copy under docs/ current. */
class OpenApiDocumentTest {
  private static final Path MODULE = Path.of(System.getProperty("basedir", "."));
  private static final Path RESOURCE = MODULE.resolve("src/main/resources/openapi.yaml");
  private static final Path DOCS_COPY = MODULE.resolve("../docs/openapi.yaml");
  private static final Set<String> HTTP_METHODS =
      Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  private static JsonNode document() throws IOException {
    return new ObjectMapper(new YAMLFactory()).readTree(RESOURCE.toFile());
  }

  /** "METHOD template" for every route of the admin router. */
  private static Set<String> routerOperations() {
    AdminHarness h = new AdminHarness();
    Set<String> ops = new TreeSet<>();
    for (PathRouter.Route<AdminHandler> r : h.endpoint.routes()) {
      ops.add(r.method() + " " + r.template());
    }
    return ops;
  }

  /** "METHOD path" for every operation the document describes under {@code prefix}. */
  private static Set<String> documentedOperations(JsonNode doc, String prefix) {
    Set<String> ops = new TreeSet<>();
    for (Map.Entry<String, JsonNode> path : doc.get("paths").properties()) {
      if (!path.getKey().startsWith(prefix)) {
        continue;
      }
      for (Iterator<String> m = path.getValue().fieldNames(); m.hasNext(); ) {
        String method = m.next();
        if (HTTP_METHODS.contains(method)) {
          ops.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey());
        }
      }
    }
    return ops;
  }

  @Test
  void docsCopyIsIdenticalToTheServedDocument() throws IOException {
    assertThat(Files.readString(DOCS_COPY))
        .as("docs/openapi.yaml must be a copy of parley-server/src/main/resources/openapi.yaml")
        .isEqualTo(Files.readString(RESOURCE));
  }

  @Test
  void everyAdminRouteIsDocumentedAndNothingElse() throws IOException {
    assertThat(documentedOperations(document(), "/v1/admin/"))
        .containsExactlyElementsOf(routerOperations());
  }

  @Test
  void documentIsOpenApi3WithTheAdminKeySecurityScheme() throws IOException {
    JsonNode doc = document();
    assertThat(doc.get("openapi").asText()).startsWith("3.0");
    JsonNode scheme = doc.at("/components/securitySchemes/adminApiKey");
    assertThat(scheme.get("type").asText()).isEqualTo("http");
    assertThat(scheme.get("scheme").asText()).isEqualTo("bearer");
    assertThat(doc.at("/security/0").has("adminApiKey")).isTrue();
    assertThat(doc.at("/components/schemas/Error/required").toString())
        .contains("code")
        .contains("message");
  }

  @Test
  void operationalEndpointsAreDocumentedWithoutAdminAuth() throws IOException {
    JsonNode doc = document();
    for (String op :
        new String[] {
          "/v1/dev/token/post",
          "/healthz/get",
          "/readyz/get",
          "/metrics/get",
          "/v1/openapi.yaml/get"
        }) {
      String pointer =
          "/paths/"
              + op.substring(0, op.lastIndexOf('/')).replace("/", "~1")
              + op.substring(op.lastIndexOf('/'));
      JsonNode operation = doc.at(pointer);
      assertThat(operation.isMissingNode()).as(op).isFalse();
      assertThat(operation.get("security")).as(op + " security").isEmpty();
    }
  }

  @Test
  void everyPathParameterOfARouteIsDeclared() throws IOException {
    JsonNode paths = document().get("paths");
    for (PathRouter.Route<AdminHandler> r : new AdminHarness().endpoint.routes()) {
      Set<String> declared = new HashSet<>();
      JsonNode pathItem = paths.get(r.template());
      collectPathParams(pathItem.get("parameters"), declared);
      collectPathParams(
          pathItem.get(r.method().toLowerCase(Locale.ROOT)).get("parameters"), declared);
      Set<String> inTemplate = new HashSet<>();
      for (String segment : r.segments()) {
        if (segment.startsWith("{")) {
          inTemplate.add(segment.substring(1, segment.length() - 1));
        }
      }
      assertThat(declared).as(r.method() + " " + r.template()).isEqualTo(inTemplate);
    }
  }

  private static void collectPathParams(JsonNode params, Set<String> into) throws IOException {
    if (params == null) {
      return;
    }
    JsonNode doc = document();
    for (JsonNode p : params) {
      JsonNode resolved = p.has("$ref") ? doc.at(p.get("$ref").asText().substring(1)) : p;
      if (resolved.get("in").asText().equals("path")) {
        into.add(resolved.get("name").asText());
      }
    }
  }

  @Test
  void endpointServesTheDocumentAsYaml() throws IOException {
    OpenApiEndpoint endpoint = new OpenApiEndpoint();
    HttpReply reply =
        endpoint
            .handle(AdminHarness.httpCall("GET", OpenApiEndpoint.PATH, new byte[0], Map.of()))
            .join();
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.contentType()).isEqualTo("application/yaml");
    assertThat(reply.body()).isEqualTo(Files.readAllBytes(RESOURCE));
  }

  @Test
  void endpointRejectsOtherMethodsAndPaths() {
    OpenApiEndpoint endpoint = new OpenApiEndpoint();
    HttpReply post =
        endpoint
            .handle(AdminHarness.httpCall("POST", OpenApiEndpoint.PATH, new byte[0], Map.of()))
            .join();
    assertThat(post.status()).isEqualTo(405);
    assertThat(post.headers()).containsEntry("Allow", "GET");
    HttpReply other =
        endpoint
            .handle(AdminHarness.httpCall("GET", "/v1/openapi.json", new byte[0], Map.of()))
            .join();
    assertThat(other.status()).isEqualTo(404);
  }
}
