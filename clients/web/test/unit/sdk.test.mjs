// Unit tests of the SDK's pure parts (node's test runner, on the built ESM bundle dist/sdk/parley.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary, toJsonString, fromJsonString } from "@bufbuild/protobuf";
import {
  EventOrderer,
  Outbox,
  FullJitterBackoff,
  EventSchema,
  SendMessageSchema,
  ServerFrameSchema,
  ClientFrameSchema,
} from "../../dist/sdk/parley.js";

const ev = (conversationId, seq) => create(EventSchema, { conversationId, seq: BigInt(seq) });
const seqs = (events) => events.map((e) => Number(e.seq));

test("orderer delivers in order, drops duplicates and buffers behind a hole", () => {
  const o = new EventOrderer();
  o.track("c", 0n);
  assert.deepEqual(seqs(o.offerAll([ev("c", 1), ev("c", 1), ev("c", 3)])), [1]);
  assert.deepEqual(o.takeGaps(), [{ conversationId: "c", afterSeq: 1n, beforeSeq: 3n }]);
  assert.deepEqual(o.takeGaps(), [], "one fetch per conversation at a time");
  assert.deepEqual(seqs(o.offerAll([ev("c", 2)])), [2, 3]);
  assert.equal(o.lastDelivered("c"), 3n);
  assert.equal(o.hasGaps(), false);
});

test("orderer starts an unknown conversation at its first event", () => {
  const o = new EventOrderer();
  assert.deepEqual(seqs(o.offerAll([ev("x", 41), ev("x", 42)])), [41, 42]);
});

test("orderer gap fill delivers what history returned, and skips events the log no longer holds", () => {
  const o = new EventOrderer();
  o.track("c", 5n);
  o.offerAll([ev("c", 9)]);
  const [gap] = o.takeGaps();
  assert.deepEqual(seqs(o.fill(gap, [ev("c", 6), ev("c", 7), ev("c", 8)])), [6, 7, 8, 9]);
  o.offerAll([ev("c", 12)]);
  const [gap2] = o.takeGaps();
  // The log returned nothing although nothing was delivered meanwhile: resume at 12.
  assert.deepEqual(seqs(o.fill(gap2, [])), [12]);
});

test("orderer: any interleaving of duplicated events yields each seq exactly once, in order", () => {
  for (let round = 0; round < 200; round++) {
    const o = new EventOrderer();
    o.track("c", 0n);
    const n = 1 + Math.floor(Math.random() * 30);
    const offered = [];
    for (let s = 1; s <= n; s++) for (let k = 0; k < 1 + Math.floor(Math.random() * 3); k++) offered.push(ev("c", s));
    offered.sort(() => Math.random() - 0.5);
    const out = o.offerAll(offered);
    assert.deepEqual(seqs(out), Array.from({ length: n }, (_, i) => i + 1));
  }
});

test("outbox sends one message per conversation at a time, keeps client_msg_id, retries later", () => {
  const box = new Outbox();
  const m = (conversationId, clientMsgId) => create(SendMessageSchema, { conversationId, clientMsgId });
  assert.equal(box.add(m("a", "1"), null, true), true);
  assert.equal(box.add(m("a", "1"), null, true), false, "same client_msg_id joins the entry");
  box.add(m("a", "2"), null, true);
  box.add(m("b", "3"), null, false);
  assert.deepEqual(box.takeSendable(0).map((e) => e.message.clientMsgId), ["1"], "b is not durable yet");
  box.markDurable(["3"]);
  assert.deepEqual(box.takeSendable(0).map((e) => e.message.clientMsgId), ["3"]);
  box.retryAt("1", 100);
  assert.deepEqual(box.takeSendable(50), []);
  assert.equal(box.nextRetryAtMs(50), 100);
  assert.deepEqual(box.takeSendable(100).map((e) => e.message.clientMsgId), ["1"]);
  box.remove("1");
  assert.deepEqual(box.takeSendable(100).map((e) => e.message.clientMsgId), ["2"]);
  box.connectionLost();
  assert.deepEqual(box.messages().map((x) => x.clientMsgId), ["2", "3"]);
});

test("full-jitter backoff stays within [0, min(cap, base*2^n)]", () => {
  const b = new FullJitterBackoff(100, 5000, () => 0.999999);
  assert.equal(b.ceilingMs(0), 100);
  assert.equal(b.ceilingMs(3), 800);
  assert.equal(b.ceilingMs(60), 5000);
  assert.equal(b.delayMs(3), 800);
  assert.equal(new FullJitterBackoff(100, 5000, () => 0).delayMs(10), 0);
  assert.throws(() => new FullJitterBackoff(0, 10));
});

test("frames round-trip through binary and the JSON mapping the server speaks", () => {
  const frame = create(ClientFrameSchema, {
    requestId: 7n,
    request: { case: "sendMessage", value: { conversationId: "g1", clientMsgId: "c1", contentType: "text/plain", body: new TextEncoder().encode("hi") } },
  });
  assert.deepEqual(fromBinary(ClientFrameSchema, toBinary(ClientFrameSchema, frame)), frame);
  const json = JSON.parse(toJsonString(ClientFrameSchema, frame));
  assert.equal(json.requestId, "7");
  assert.equal(json.sendMessage.body, "aGk=");
  const server = fromJsonString(
    ServerFrameSchema,
    '{"requestId":"7","sendResult":{"conversationId":"g1","seq":"12","messageId":"m1","timestampMs":"1764340000000"},"someFutureField":1}',
    { ignoreUnknownFields: true },
  );
  assert.equal(server.payload.case, "sendResult");
  assert.equal(server.payload.value.seq, 12n);
});
