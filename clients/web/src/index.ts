/**
 * Parley browser SDK. Start with {@link ParleyClient}; the protocol's message types are
 * re-exported from the generated schemas (`parley.v1`).
 */
export { ParleyClient, ParleyError, newId } from "./client.js";
export type { ConnectionState, ParleyClientOptions, ParleyEventMap, TokenReason } from "./client.js";
export { EventOrderer, type Gap } from "./orderer.js";
export { Outbox } from "./outbox.js";
export { FullJitterBackoff } from "./backoff.js";
export { IndexedDbStorage, MemoryStorage, type ClientStorage, type PersistedState } from "./storage.js";
export { PROTO, JSON_SUBPROTOCOL, type Encoding } from "./codec.js";
export * from "./gen/parley/v1/client_pb.js";
export * from "./gen/parley/v1/events_pb.js";

/** The text of a `text/plain` message body. */
export function textOf(body: Uint8Array): string {
  return new TextDecoder().decode(body);
}
