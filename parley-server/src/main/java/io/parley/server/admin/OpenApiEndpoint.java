package io.parley.server.admin;

import io.parley.protocol.v1.ErrorCode;
import io.parley.server.gateway.http.HttpCall;
import io.parley.server.gateway.http.HttpEndpoint;
import io.parley.server.gateway.http.HttpReply;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Serves the OpenAPI 3 description of the HTTP API ({@code openapi.yaml} on the classpath) at
 * {@value #PATH}, without authentication. The document is read once at construction. Immutable and
 * thread-safe.
 */
public final class OpenApiEndpoint implements HttpEndpoint {
  /** Where the gateway mounts this endpoint. */
  public static final String PATH = "/v1/openapi.yaml";

  /** The classpath resource holding the document. */
  static final String RESOURCE = "/openapi.yaml";

  private static final String CONTENT_TYPE = "application/yaml";

  private final byte[] document;

  /**
   * Loads the document.
   *
   * @throws IllegalStateException when the resource is missing from the classpath (a packaging
   *     error, reported at start rather than on the first request)
   */
  public OpenApiEndpoint() {
    try (InputStream in = OpenApiEndpoint.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("classpath resource " + RESOURCE + " is missing");
      }
      this.document = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  @Override
  public CompletableFuture<HttpReply> handle(HttpCall call) {
    HttpReply reply;
    if (!call.path().equals(PATH)) {
      reply = HttpErrors.reply(ErrorCode.NOT_FOUND, "no such document " + call.path());
    } else if (call.method().equals("GET")) {
      reply = new HttpReply(200, CONTENT_TYPE, document.clone(), Map.of());
    } else {
      reply = HttpErrors.methodNotAllowed(call.method(), List.of("GET"));
    }
    return CompletableFuture.completedFuture(reply);
  }
}
