import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ClientFrame,
  type ServerFrame,
} from "./gen/parley/v1/client_pb.js";

/** The WebSocket subprotocols of Parley v1, in the SDK's order of preference. */
export const PROTO = "parley.v1.proto";
export const JSON_SUBPROTOCOL = "parley.v1.json";

/** Which encoding to offer: protobuf with JSON as fallback (default), or only one of them. */
export type Encoding = "auto" | "proto" | "json";

/** The `Sec-WebSocket-Protocol` values to offer for an encoding; the server picks the first it supports. */
export function offeredSubprotocols(encoding: Encoding): string[] {
  switch (encoding) {
    case "proto":
      return [PROTO];
    case "json":
      return [JSON_SUBPROTOCOL];
    default:
      return [PROTO, JSON_SUBPROTOCOL];
  }
}

/** Encodes client frames and decodes server frames for the negotiated subprotocol. */
export interface FrameCodec {
  readonly subprotocol: string;
  encode(frame: ClientFrame): Uint8Array | string;
  /** Throws on a malformed frame or a frame of the wrong WebSocket type. */
  decode(data: ArrayBuffer | string): ServerFrame;
}

const protoCodec: FrameCodec = {
  subprotocol: PROTO,
  encode: (frame) => toBinary(ClientFrameSchema, frame),
  decode(data) {
    if (typeof data === "string") throw new Error("text frame on parley.v1.proto");
    return fromBinary(ServerFrameSchema, new Uint8Array(data));
  },
};

const jsonCodec: FrameCodec = {
  subprotocol: JSON_SUBPROTOCOL,
  encode: (frame) => toJsonString(ClientFrameSchema, frame),
  decode(data) {
    if (typeof data !== "string") throw new Error("binary frame on parley.v1.json");
    // Newer servers may add fields: the protocol promises that unknown fields are ignored.
    return fromJsonString(ServerFrameSchema, data, { ignoreUnknownFields: true });
  },
};

/** The codec for the subprotocol the server selected (an empty selection means none was agreed). */
export function codecFor(subprotocol: string): FrameCodec {
  if (subprotocol === PROTO) return protoCodec;
  if (subprotocol === JSON_SUBPROTOCOL) return jsonCodec;
  throw new Error(`the server selected an unknown subprotocol '${subprotocol}'`);
}
