package io.parley.server.bench.peer;

/** The wire protocol {@code parley bench fanout --dialect} speaks. */
public enum PeerDialect {
  /** Parley's own {@code parley.v1.proto}: persistence, auth, server-assigned seqs. */
  PARLEY,
  /** Socket.IO 4 (Engine.IO v4 over WebSocket) against {@code bench/peers/socketio-server.js}. */
  SOCKETIO,
  /** The NATS protocol over nats-server's WebSocket listener. */
  NATS
}
