package io.parley.server.gateway.ws;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The WebSocket subprotocols of the Parley wire protocol: {@code parley.v1.proto} carries one
 * protobuf message per binary frame, {@code parley.v1.json} carries the canonical protobuf JSON
 * mapping of the same messages, one per text frame. Immutable.
 */
public enum Subprotocol {
  /** Binary frames holding protobuf-encoded {@code ClientFrame}/{@code ServerFrame}. */
  PROTO("parley.v1.proto"),
  /** Text frames holding the protobuf JSON mapping of {@code ClientFrame}/{@code ServerFrame}. */
  JSON("parley.v1.json");

  private final String wireName;

  Subprotocol(String wireName) {
    this.wireName = wireName;
  }

  /** The name exchanged in the {@code Sec-WebSocket-Protocol} header. */
  public String wireName() {
    return wireName;
  }

  /** Whether frames of this subprotocol are binary (else text). */
  public boolean binary() {
    return this == PROTO;
  }

  /**
   * Picks the first subprotocol the client offered that the server supports (the client's order
   * expresses its preference).
   */
  public static Optional<Subprotocol> select(List<String> offered) {
    for (String name : offered) {
      for (Subprotocol p : values()) {
        if (p.wireName.equals(name.trim())) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  /** The supported names, comma separated, for error messages. */
  public static String supportedNames() {
    return Arrays.stream(values()).map(Subprotocol::wireName).collect(Collectors.joining(", "));
  }
}
