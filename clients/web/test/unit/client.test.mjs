// ParleyClient against a scripted in-memory server (a fake WebSocket class passed through
// options.WebSocket): the guarantees that need precise control over what the server does —
// lost acknowledgements, holes in the live stream, token refresh, restarts with a stored outbox.
// The real server and browser are covered by test/e2e (BrowserChatIT).
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ClientFrameSchema, ServerFrameSchema, EventSchema, MemoryStorage, ParleyClient } from "../../dist/sdk/parley.js";

/** A Parley server in miniature: stores sends idempotently, answers what the test scripts. */
class FakeServer {
  sockets = [];
  received = [];
  stored = new Map(); // client_msg_id -> seq
  refuse = false;
  dropAfterStoringNextSend = false;
  onRequest = null; // (socket, frame) => true when handled

  WebSocket() {
    const server = this;
    return class FakeWebSocket {
      constructor(url, protocols) {
        this.url = url;
        this.protocol = "";
        this.readyState = 0;
        server.sockets.push(this);
        setTimeout(() => {
          if (server.refuse) return this.serverClose(1006);
          this.protocol = protocols[0];
          this.readyState = 1;
          this.onopen?.({});
        }, 1);
      }
      send(data) {
        const frame = fromBinary(ClientFrameSchema, data);
        server.received.push(frame);
        setTimeout(() => server.handle(this, frame), 1);
      }
      close(code = 1000, reason = "") {
        if (this.readyState === 3) return;
        this.readyState = 3;
        setTimeout(() => this.onclose?.({ code, reason }), 1);
      }
      /** The server ends the connection (as a network loss would). */
      serverClose(code = 1006) {
        this.readyState = 3;
        this.onclose?.({ code, reason: "" });
      }
      push(init) {
        if (this.readyState !== 1) return;
        const bytes = toBinary(ServerFrameSchema, create(ServerFrameSchema, init));
        this.onmessage?.({ data: bytes.slice().buffer });
      }
    };
  }

  get current() {
    return this.sockets.at(-1);
  }

  requests(kind) {
    return this.received.filter((f) => f.request.case === kind).map((f) => f.request.value);
  }

  handle(ws, frame) {
    if (ws.readyState !== 1) return;
    if (this.onRequest?.(ws, frame)) return;
    const reply = (payload) => ws.push({ requestId: frame.requestId, payload });
    const r = frame.request;
    switch (r.case) {
      case "authenticate":
        return reply({ case: "authenticated", value: { userId: "alice", deviceId: "d1", expiresAtMs: BigInt(Date.now() + 3_600_000), serverTimeMs: BigInt(Date.now()) } });
      case "sync":
        return reply({ case: "syncResult", value: { cursor: `cursor-${this.requests("sync").length}`, complete: true } });
      case "sendMessage": {
        const duplicate = this.stored.has(r.value.clientMsgId);
        if (!duplicate) this.stored.set(r.value.clientMsgId, BigInt(this.stored.size + 1));
        if (this.dropAfterStoringNextSend) {
          this.dropAfterStoringNextSend = false;
          return ws.serverClose(1006); // durable, but the acknowledgement is lost
        }
        return reply({ case: "sendResult", value: { conversationId: r.value.conversationId, seq: this.stored.get(r.value.clientMsgId), messageId: `m${r.value.clientMsgId}`, duplicate } });
      }
      case "refreshToken":
        return reply({ case: "tokenRefreshed", value: { expiresAtMs: BigInt(Date.now() + 7_200_000) } });
      default:
        return reply({ case: "ack", value: {} });
    }
  }
}

const clients = [];
// A failed assertion must not leave a client reconnecting forever (the runner would never end).
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(server, extra = {}) {
  const tokens = [];
  const c = new ParleyClient({
    url: "ws://fake/v1/ws",
    token: (reason) => {
      tokens.push(reason);
      return `token-${tokens.length}`;
    },
    WebSocket: server.WebSocket(),
    storage: new MemoryStorage(),
    backoffBaseMs: 5,
    backoffCapMs: 20,
    requestTimeoutMs: 2_000,
    ...extra,
  });
  c.tokens = tokens;
  clients.push(c);
  return c;
}

async function until(condition, what) {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const event = (seq) =>
  create(EventSchema, { conversationId: "g", seq: BigInt(seq), actorUserId: "bob", kind: { case: "messagePosted", value: { clientMsgId: `b${seq}` } } });

test("authenticates with sync_first and resumes from the stored cursor after a restart", async () => {
  const server = new FakeServer();
  const storage = new MemoryStorage();
  const a = client(server, { storage });
  const synced = new Promise((resolve) => a.on("synced", resolve));
  await a.connect();
  const [auth] = server.requests("authenticate");
  assert.equal(auth.syncFirst, true);
  assert.equal(auth.token, "token-1");
  await synced;
  assert.equal(server.requests("sync")[0].cursor, "");
  await a.close();

  const b = client(server, { storage });
  await b.connect();
  await until(() => server.requests("sync").length === 2, "the second sync");
  assert.equal(server.requests("sync")[1].cursor, "cursor-1", "resumes from the persisted cursor");
  assert.equal(server.requests("authenticate")[1].deviceId, "d1", "keeps the device id");
  await b.close();
});

test("a send whose acknowledgement was lost is retried with the same client_msg_id and stored once", async () => {
  const server = new FakeServer();
  const c = client(server);
  const states = [];
  c.on("state", (s) => states.push(s));
  await c.connect();
  server.dropAfterStoringNextSend = true;
  const result = await c.send("g", "hello");
  const sends = server.requests("sendMessage");
  assert.equal(sends.length, 2, "sent again after the reconnect");
  assert.equal(sends[0].clientMsgId, sends[1].clientMsgId);
  assert.equal(server.stored.size, 1);
  assert.equal(result.duplicate, true);
  assert.ok(states.includes("reconnecting"), `states: ${states}`);
  assert.equal(c.pending.length, 0);
  await c.close();
});

test("live events come exactly once and in order; a hole is filled from history", async () => {
  const server = new FakeServer();
  server.onRequest = (ws, f) => {
    if (f.request.case === "sync") {
      ws.push({ requestId: f.requestId, payload: { case: "syncResult", value: { cursor: "c", complete: true, deltas: [{ conversation: { id: "g", lastSeq: 0n } }] } } });
      return true;
    }
    if (f.request.case === "getHistory") {
      const from = Number(f.request.value.fromSeq);
      const events = [];
      for (let s = from + 1; s <= from + f.request.value.limit; s++) events.push(event(s));
      ws.push({ requestId: f.requestId, payload: { case: "history", value: { conversationId: "g", events } } });
      return true;
    }
    return false;
  };
  const c = client(server);
  const seen = [];
  c.on("event", (e) => seen.push(Number(e.seq)));
  let synced = false;
  c.on("synced", () => (synced = true));
  await c.connect();
  await until(() => synced, "sync");
  const ws = server.current;
  ws.push({ payload: { case: "event", value: event(1) } });
  ws.push({ payload: { case: "event", value: event(1) } });
  ws.push({ payload: { case: "eventBatch", value: { events: [event(4), event(5)] } } });
  await until(() => seen.length === 5, "the gap fill");
  ws.push({ payload: { case: "event", value: event(3) } });
  ws.push({ payload: { case: "event", value: event(6) } });
  await until(() => seen.length === 6, "event 6");
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  const [gap] = server.requests("getHistory");
  assert.equal(gap.fromSeq, 1n);
  assert.equal(gap.limit, 2);
  await until(() => server.requests("markDelivered").length > 0, "the delivered receipt");
  await c.close();
});

test("SessionExpiring makes the client fetch a fresh token and send RefreshToken", async () => {
  const server = new FakeServer();
  const c = client(server);
  await c.connect();
  server.current.push({ payload: { case: "sessionExpiring", value: { expiresAtMs: BigInt(Date.now() + 30_000) } } });
  await until(() => server.requests("refreshToken").length === 1, "RefreshToken");
  assert.deepEqual(c.tokens, ["connect", "refresh"]);
  assert.equal(server.requests("refreshToken")[0].token, "token-2");
  assert.equal(server.sockets.length, 1, "no reconnect needed");
  await c.close();
});

test("messages queued while the server is unreachable survive a restart and go out once", async () => {
  const server = new FakeServer();
  server.refuse = true;
  const storage = new MemoryStorage();
  const a = client(server, { storage });
  void a.connect().catch(() => {});
  const first = a.send("g", "one").catch((e) => e);
  const second = a.send("g", "two").catch((e) => e);
  await until(() => a.pending.length === 2, "two pending messages");
  await new Promise((r) => setTimeout(r, 30)); // the outbox write
  await a.close();
  assert.match(String((await first).message), /stays in the outbox/);
  await second;
  const ids = a.pending.map((m) => m.clientMsgId);

  server.refuse = false;
  const b = client(server, { storage });
  const done = [];
  b.on("sendCompleted", ({ message }) => done.push(message.clientMsgId));
  await b.connect();
  await until(() => done.length === 2, "both sends");
  assert.equal(server.stored.size, 2);
  assert.deepEqual(server.requests("sendMessage").map((m) => new TextDecoder().decode(m.body)), ["one", "two"], "in order");
  assert.equal(ids.length, 0, "a closed client reports no pending messages");
  await b.close();
});
