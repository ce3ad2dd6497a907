package io.parley.client;

/**
 * The WebSocket subprotocol, i.e. the frame encoding. Both carry the same protobuf messages; the
 * binary encoding is smaller and faster, the JSON one is easier to inspect.
 */
public enum Subprotocol {
  /** {@code parley.v1.proto}: one protobuf message per binary frame. The default. */
  PROTO("parley.v1.proto"),
  /** {@code parley.v1.json}: the canonical protobuf JSON mapping, one message per text frame. */
  JSON("parley.v1.json");

  private final String wireName;

  Subprotocol(String wireName) {
    this.wireName = wireName;
  }

  /** The name sent in {@code Sec-WebSocket-Protocol}. */
  public String wireName() {
    return wireName;
  }
}
