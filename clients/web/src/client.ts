import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FullJitterBackoff } from "./backoff.js";
import { codecFor, offeredSubprotocols, type Encoding, type FrameCodec } from "./codec.js";
import { EventOrderer, type Gap } from "./orderer.js";
import { Outbox, type OutboxEntry } from "./outbox.js";
import { IndexedDbStorage, MemoryStorage, type ClientStorage, type PersistedState } from "./storage.js";
import {
  ClientFrameSchema,
  Direction,
  ErrorCode,
  PresenceStatus,
  SendMessageSchema,
  type Authenticated,
  type Conversation,
  type ConversationList,
  type ConversationResult,
  type HistoryPage,
  type MemberList,
  type PresenceNotice,
  type Profile,
  type ReceiptList,
  type ReceiptNotice,
  type SendMessage,
  type SendResult,
  type ServerFrame,
  type SyncResult,
  type TypingNotice,
} from "./gen/parley/v1/client_pb.js";
import { ConversationKind, type Event } from "./gen/parley/v1/events_pb.js";

/** The client's connection, as an application shows it. */
export type ConnectionState = "new" | "connecting" | "connected" | "reconnecting" | "closed";

/** Why the client asks the token provider for a token. */
export type TokenReason =
  /** Opening a connection with no reason to doubt the last token. */
  | "connect"
  /** The current token expires soon. */
  | "refresh"
  /** The server rejected or expired the last token: fetch a new one. */
  | "rejected";

/** A typed protocol error: program against `code`, show `message` to humans. */
export class ParleyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs = 0,
  ) {
    super(message);
    this.name = "ParleyError";
  }

  /** Whether the same request may succeed later (the outbox retries these). */
  get retryable(): boolean {
    return (
      this.code === ErrorCode.RATE_LIMITED ||
      this.code === ErrorCode.UNAVAILABLE ||
      this.code === ErrorCode.SHUTTING_DOWN
    );
  }
}

/** Configuration of a {@link ParleyClient}. */
export interface ParleyClientOptions {
  /** The WebSocket endpoint, e.g. `wss://chat.example.com/v1/ws`. */
  url: string;
  /** Supplies the bearer token (a JWT from the application's backend); called again whenever a fresh one is needed. */
  token: (reason: TokenReason) => Promise<string> | string;
  /** `auto` (default) offers `parley.v1.proto` with `parley.v1.json` as fallback. */
  encoding?: Encoding;
  /**
   * Where the device id, sync cursor, positions and outbox survive a page reload. Default: an
   * IndexedDB database named `parley:<storageName>` (or memory where IndexedDB is missing).
   */
  storage?: ClientStorage;
  /** Name of the default IndexedDB database (use one per signed-in user). Default `default`. */
  storageName?: string;
  /** Device id to use; by default the server assigns one on first connect and it is persisted. */
  deviceId?: string;
  /** Sent in `Authenticate.client`. */
  clientName?: string;
  /** A request without an answer in this time fails (and a ping closes the connection). Default 15 s. */
  requestTimeoutMs?: number;
  /** An application-level ping after this much silence. Default 25 s. */
  pingIntervalMs?: number;
  /** Reconnect backoff: base and cap of the full-jitter window. Defaults 500 ms and 30 s. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Events per sync page. Default 200. */
  syncPageLimit?: number;
  /** Acknowledge received events with `MarkDelivered` automatically. Default true. */
  autoMarkDelivered?: boolean;
  /** The WebSocket implementation (defaults to the global one). */
  WebSocket?: typeof WebSocket;
}

/** What a {@link ParleyClient} reports; subscribe with `client.on(name, fn)`. */
export interface ParleyEventMap {
  /** The connection state changed. */
  state: ConnectionState;
  /** The next event of a conversation: exactly once, in seq order per conversation. */
  event: Event;
  /** A conversation as reported by a sync (new, or changed while this device was away). */
  conversation: Conversation;
  /** The user is no longer a member; drop local state for it. */
  conversationRemoved: string;
  /** A sync completed: the device has caught up with everything it missed. */
  synced: void;
  typing: TypingNotice;
  presence: PresenceNotice;
  receipt: ReceiptNotice;
  /** The set of unacknowledged messages changed (what an app shows as queued). */
  outbox: readonly SendMessage[];
  sendCompleted: { message: SendMessage; result: SendResult };
  sendFailed: { message: SendMessage; error: ParleyError };
  /** A problem the application may want to log or show; the client carries on. */
  error: ParleyError;
}

type Listener<T> = (value: T) => void;
type Request = NonNullable<MessageInitShape<typeof ClientFrameSchema>["request"]>;
type Failure = "server" | "timeout" | "connectionLost" | "closed";

interface ResponseHandler {
  onFrame(frame: ServerFrame): void;
  onFailure(error: ParleyError, kind: Failure): void;
}

interface Pending {
  request: Request;
  handler: ResponseHandler;
  needsAuth: boolean;
  retryOnReconnect: boolean;
  requestId: bigint;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** One WebSocket and the codec the server chose for it. */
interface Connection {
  ws: WebSocket;
  codec: FrameCodec | null;
  lastReceivedMs: number;
}

const CLOSE_TOKEN_EXPIRED = 4001;
const CLOSE_DEACTIVATED = 4003;
const STATE_PERSIST_DELAY_MS = 250;
const MAX_GAP_PAGE = 500;
const DELIVERED_DELAY_MS = 200;
const TYPING_RESEND_MS = 3_000;
const TYPING_IDLE_MS = 5_000;

/**
 * The Parley browser client: one WebSocket to the server, kept open across network loss, with the
 * guarantees of the Java SDK (whose ClientEngine this mirrors):
 *
 * - **Connection.** The token provider supplies a token for every connection and before expiry
 *   (refresh); lost connections come back with exponential backoff and full jitter, at once when
 *   the browser reports it is online again, after `GoAway` as the server asks.
 * - **Delivery.** Authentication asks for `sync_first`, so a (re)connecting device gets everything
 *   it missed through `Sync` and then the live stream with no gap; an {@link EventOrderer} makes
 *   that exactly once and in seq order per conversation, filling holes from history.
 * - **Sending.** `send()` puts the message in an {@link Outbox} persisted to IndexedDB before it
 *   is transmitted; it is retried with the same `client_msg_id` until the server acknowledges it,
 *   across reconnects and page reloads, so it is delivered exactly once.
 *
 * Everything runs on the page's event loop; no method blocks.
 */
export class ParleyClient {
  private readonly opts: Required<
    Omit<ParleyClientOptions, "storage" | "deviceId" | "WebSocket" | "storageName">
  >;
  private readonly WS: typeof WebSocket;
  private readonly storage: ClientStorage;
  private readonly backoff: FullJitterBackoff;
  private readonly orderer = new EventOrderer();
  private readonly outbox = new Outbox();
  private readonly channels = new Set<string>();
  private readonly inFlight = new Map<bigint, Pending>();
  private readonly waiting: Pending[] = [];
  private readonly sessionRequests = new Map<string, Request>();
  private readonly listeners = new Map<keyof ParleyEventMap, Set<Listener<never>>>();
  private readonly earlySends: OutboxEntry["waiters"][number][] = [];
  private readonly earlyMessages: SendMessage[] = [];
  private readonly deliveredMarks = new Map<string, bigint>();
  private readonly typingSent = new Map<string, number>();
  private readonly typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

  private _state: ConnectionState = "new";
  private _userId = "";
  private _deviceId: string;
  private nextRequestId = 1n;
  private ready = false;
  private started = false;
  private closing = false;
  private everConnected = false;
  private conn: Connection | null = null;
  private token = "";
  private authenticated = false;
  private generation = 0;
  private failedAttempts = 0;
  private goAwayDelayMs = -1;
  private retryHintMs = 0;
  private tokenReason: TokenReason = "connect";
  private clockOffsetMs = 0;
  private refreshing = false;
  private refreshedExpiresAtMs = 0n;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private outboxTimer: ReturnType<typeof setTimeout> | undefined;
  private outboxTimerAtMs = Infinity;
  private stateTimer: ReturnType<typeof setTimeout> | undefined;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private deliveredTimer: ReturnType<typeof setTimeout> | undefined;
  private outboxWriteInFlight = false;
  private outboxDirty = false;
  private syncCursor = "";
  private syncing = false;
  private resyncRequested = false;
  private cursorResetTried = false;
  private readonly loaded: Promise<void>;
  private readonly onOnline = () => this.networkBack();
  private readonly onOffline = () => this.networkLost();

  constructor(options: ParleyClientOptions) {
    this.opts = {
      url: options.url,
      token: options.token,
      encoding: options.encoding ?? "auto",
      clientName: options.clientName ?? "parley-web/0.1",
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      pingIntervalMs: options.pingIntervalMs ?? 25_000,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffCapMs: options.backoffCapMs ?? 30_000,
      syncPageLimit: options.syncPageLimit ?? 200,
      autoMarkDelivered: options.autoMarkDelivered ?? true,
    };
    const ws = options.WebSocket ?? globalThis.WebSocket;
    if (!ws) throw new Error("no WebSocket implementation: pass options.WebSocket");
    this.WS = ws;
    this.storage =
      options.storage ??
      (typeof indexedDB !== "undefined"
        ? new IndexedDbStorage(`parley:${options.storageName ?? "default"}`)
        : new MemoryStorage());
    this.backoff = new FullJitterBackoff(this.opts.backoffBaseMs, this.opts.backoffCapMs);
    this._deviceId = options.deviceId ?? "";
    this.loaded = this.loadState();
  }

  // ------------------------------------------------------------------------------------------
  // Public API
  // ------------------------------------------------------------------------------------------

  get state(): ConnectionState {
    return this._state;
  }

  /** The authenticated user (empty before the first connection). */
  get userId(): string {
    return this._userId;
  }

  get deviceId(): string {
    return this._deviceId;
  }

  /** The subprotocol the server chose for the current connection (empty while disconnected). */
  get subprotocol(): string {
    return this.conn?.codec?.subprotocol ?? "";
  }

  /** Messages sent and not yet acknowledged by the server, oldest first. */
  get pending(): readonly SendMessage[] {
    return this.ready ? this.outbox.messages() : this.earlyMessages.slice();
  }

  /** Subscribes to a report; returns the function that unsubscribes. */
  on<K extends keyof ParleyEventMap>(type: K, fn: Listener<ParleyEventMap[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set!.delete(fn as Listener<never>);
  }

  /** Starts connecting; resolves when the first connection is authenticated. */
  connect(): Promise<void> {
    if (!this.started && !this.closing) {
      this.started = true;
      if (typeof addEventListener === "function") {
        addEventListener("online", this.onOnline);
        addEventListener("offline", this.onOffline);
      }
      this.setState("connecting");
      void this.loaded.then(() => this.startAttempt());
    }
    return new Promise((resolve, reject) => {
      if (this._state === "connected") return resolve();
      const off = this.on("state", (s) => {
        if (s === "connected") {
          off();
          resolve();
        } else if (s === "closed") {
          off();
          reject(new ParleyError(ErrorCode.UNAVAILABLE, "the client is closed"));
        }
      });
    });
  }

  /** Closes the connection for good; pending messages stay persisted for the next client. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (typeof removeEventListener === "function") {
      removeEventListener("online", this.onOnline);
      removeEventListener("offline", this.onOffline);
    }
    for (const t of [this.reconnectTimer, this.refreshTimer, this.outboxTimer, this.stateTimer, this.resyncTimer, this.deliveredTimer]) {
      clearTimeout(t);
    }
    for (const t of this.typingTimers.values()) clearTimeout(t);
    clearInterval(this.pingTimer);
    const c = this.conn;
    this.conn = null;
    this.authenticated = false;
    if (c) detach(c, 1000, "client closed");
    this.setState("closed");
    const error = new ParleyError(ErrorCode.UNAVAILABLE, "the client is closed");
    this.failInFlight();
    for (const p of this.waiting.splice(0)) {
      clearTimeout(p.timer);
      p.handler.onFailure(error, "closed");
    }
    const sendError = new ParleyError(
      ErrorCode.UNAVAILABLE,
      "the client is closed; the message stays in the outbox and is sent by the next client",
    );
    if (this.ready) {
      const finalOutbox = this.outbox.messages();
      for (const e of this.outbox.drain()) e.waiters.forEach((w) => w.reject(sendError));
      try {
        await this.storage.saveState(this.snapshotState());
        await this.storage.saveOutbox(finalOutbox.map((m) => toBinary(SendMessageSchema, m)));
      } catch (e) {
        this.emit("error", persistError("state", e));
      }
    }
    for (const w of this.earlySends.splice(0)) w.reject(sendError);
    this.storage.close();
  }

  /** Sends a request and resolves with the server's answer (see the protocol reference). */
  call(request: Request, idempotent = true): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      this.request(request, true, idempotent, {
        onFrame: resolve,
        onFailure: (e) => reject(e),
      });
    });
  }

  async listConversations(pageToken = "", limit = 100): Promise<ConversationList> {
    const f = await this.call({ case: "listConversations", value: msg({ pageToken, limit }) });
    const list = expect(f, "conversationList");
    this.observe(list.conversations);
    return list;
  }

  async getConversation(conversationId: string): Promise<Conversation> {
    const f = await this.call({ case: "getConversation", value: msg({ conversationId }) });
    const c = expect(f, "conversation").conversation!;
    this.observe([c]);
    return c;
  }

  async openDirect(userId: string): Promise<ConversationResult> {
    return expect(await this.call({ case: "openDirect", value: msg({ userId }) }), "conversation");
  }

  async createGroup(title: string, memberIds: string[]): Promise<Conversation> {
    const f = await this.call(
      { case: "createGroup", value: msg({ metadata: msg({ title }), memberIds }) },
      false,
    );
    return expect(f, "conversation").conversation!;
  }

  async listMembers(conversationId: string, pageToken = "", limit = 100): Promise<MemberList> {
    const f = await this.call({ case: "listMembers", value: msg({ conversationId, pageToken, limit }) });
    return expect(f, "memberList");
  }

  /**
   * Queues a message; resolves when the server acknowledged it (durably stored). While offline it
   * waits in the outbox (and in IndexedDB), then goes out with the same `client_msg_id`.
   */
  send(
    conversationId: string,
    text: string,
    options: { contentType?: string; body?: Uint8Array; replyToSeq?: bigint; mentions?: string[]; clientMsgId?: string } = {},
  ): Promise<SendResult> {
    const message = create(SendMessageSchema, {
      conversationId,
      clientMsgId: options.clientMsgId ?? newId(),
      contentType: options.contentType ?? "text/plain",
      body: options.body ?? new TextEncoder().encode(text),
      replyToSeq: options.replyToSeq ?? 0n,
      mentions: options.mentions ?? [],
    });
    return new Promise((resolve, reject) => this.enqueueSend(message, { resolve, reject }));
  }

  async edit(conversationId: string, targetSeq: bigint, text: string): Promise<SendResult> {
    const body = new TextEncoder().encode(text);
    const f = await this.call(
      { case: "editMessage", value: msg({ conversationId, targetSeq, contentType: "text/plain", body }) },
      false,
    );
    return expect(f, "sendResult");
  }

  async delete(conversationId: string, targetSeq: bigint): Promise<SendResult> {
    const f = await this.call({ case: "deleteMessage", value: msg({ conversationId, targetSeq }) }, false);
    return expect(f, "sendResult");
  }

  async react(conversationId: string, targetSeq: bigint, reaction: string): Promise<SendResult> {
    const f = await this.call({ case: "addReaction", value: msg({ conversationId, targetSeq, reaction }) }, false);
    return expect(f, "sendResult");
  }

  async unreact(conversationId: string, targetSeq: bigint, reaction: string): Promise<SendResult> {
    const f = await this.call({ case: "removeReaction", value: msg({ conversationId, targetSeq, reaction }) }, false);
    return expect(f, "sendResult");
  }

  /**
   * A page of the log. Backward (default): events before `fromSeq` (0 = from the newest), newest
   * first — what a message view loads as the user scrolls up. Forward: events after `fromSeq`.
   */
  async history(
    conversationId: string,
    options: { fromSeq?: bigint; forward?: boolean; limit?: number } = {},
  ): Promise<HistoryPage> {
    const f = await this.call({
      case: "getHistory",
      value: msg({
        conversationId,
        fromSeq: options.fromSeq ?? 0n,
        direction: options.forward ? Direction.FORWARD : Direction.BACKWARD,
        limit: options.limit ?? 50,
      }),
    });
    return expect(f, "history");
  }

  /** Marks everything up to `seq` as read (cumulative; moves the unread count to what follows). */
  async markRead(conversationId: string, seq: bigint): Promise<void> {
    expect(await this.call({ case: "markRead", value: msg({ conversationId, seq }) }), "ack");
  }

  async markDelivered(conversationId: string, seq: bigint): Promise<void> {
    expect(await this.call({ case: "markDelivered", value: msg({ conversationId, seq }) }), "ack");
  }

  async getReceipts(conversationId: string): Promise<ReceiptList> {
    return expect(await this.call({ case: "getReceipts", value: msg({ conversationId }) }), "receipts");
  }

  /** The exact number of unread messages by others in the conversation. */
  async unreadCount(conversationId: string): Promise<bigint> {
    return (await this.getConversation(conversationId)).unreadCount;
  }

  /**
   * Reports that the user is typing (call on every keystroke) or stopped. Sends at most one notice
   * every 3 s and a `typing = false` after 5 s without a call, so apps need no timers of their own.
   */
  typing(conversationId: string, typing: boolean): void {
    clearTimeout(this.typingTimers.get(conversationId));
    this.typingTimers.delete(conversationId);
    const last = this.typingSent.get(conversationId) ?? 0;
    if (typing) {
      if (Date.now() - last >= TYPING_RESEND_MS) {
        this.typingSent.set(conversationId, Date.now());
        this.fireAndForget({ case: "sendTyping", value: msg({ conversationId, typing: true }) });
      }
      this.typingTimers.set(conversationId, setTimeout(() => this.typing(conversationId, false), TYPING_IDLE_MS));
    } else if (last !== 0) {
      this.typingSent.delete(conversationId);
      this.fireAndForget({ case: "sendTyping", value: msg({ conversationId, typing: false }) });
    }
  }

  /** Sets the user's presence; re-applied after every reconnect. */
  async setPresence(status: PresenceStatus): Promise<void> {
    expect(await this.callSessionScoped("presence", { case: "setPresence", value: msg({ status }) }), "ack");
  }

  /** Replaces the set of users whose presence this client follows; re-applied after every reconnect. */
  async subscribePresence(userIds: string[]): Promise<void> {
    const f = await this.callSessionScoped("subscribe", { case: "subscribePresence", value: msg({ userIds }) });
    expect(f, "ack");
  }

  async getProfile(userId: string): Promise<Profile> {
    return expect(await this.call({ case: "getProfile", value: msg({ userId }) }), "profile");
  }

  async updateProfile(displayName: string, avatarUrl = ""): Promise<Profile> {
    return expect(await this.call({ case: "updateProfile", value: msg({ displayName, avatarUrl }) }, false), "profile");
  }

  /** Asks the token provider for a fresh token now and hands it to the server. */
  refreshToken(): Promise<void> {
    return this.refresh();
  }

  // ------------------------------------------------------------------------------------------
  // Reports
  // ------------------------------------------------------------------------------------------

  private emit<K extends keyof ParleyEventMap>(type: K, value: ParleyEventMap[K]): void {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<ParleyEventMap[K]>)(value);
      } catch (e) {
        // An application bug must not break delivery to the other listeners or the client.
        console.error(`parley: a '${type}' listener threw`, e);
      }
    }
  }

  private setState(next: ConnectionState): void {
    if (this._state === next) return;
    this._state = next;
    this.emit("state", next);
  }

  private reportError(e: ParleyError): void {
    this.emit("error", e);
  }

  // ------------------------------------------------------------------------------------------
  // Persistence
  // ------------------------------------------------------------------------------------------

  private async loadState(): Promise<void> {
    try {
      const { state, outbox } = await this.storage.load();
      if (state) {
        if (!this._deviceId) this._deviceId = state.deviceId;
        this.syncCursor = state.syncCursor;
        for (const [id, seq] of Object.entries(state.positions)) this.orderer.track(id, BigInt(seq));
        for (const id of state.channels) this.channels.add(id);
        this.orderer.takeChanged();
      }
      for (const bytes of outbox) this.outbox.add(fromBinary(SendMessageSchema, bytes), null, true);
    } catch (e) {
      // Better to run without persistence (private browsing, quota) than not at all.
      this.reportError(persistError("state (loading)", e));
    }
    this.ready = true;
    this.earlyMessages.forEach((m, i) => this.outbox.add(m, this.earlySends[i] ?? null, false));
    this.earlyMessages.length = 0;
    this.earlySends.length = 0;
    this.persistOutbox();
    this.outboxChanged();
  }

  private snapshotState(): PersistedState {
    this.orderer.takeChanged();
    const positions: Record<string, string> = {};
    for (const [id, seq] of this.orderer.snapshot()) positions[id] = seq.toString();
    return {
      deviceId: this._deviceId,
      syncCursor: this.syncCursor,
      positions,
      channels: [...this.channels].filter((c) => c in positions),
    };
  }

  private markStateDirty(): void {
    if (!this.ready || this.closing || this.stateTimer !== undefined) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = undefined;
      if (this.closing) return;
      this.storage.saveState(this.snapshotState()).catch((e) => this.reportError(persistError("state", e)));
    }, STATE_PERSIST_DELAY_MS);
  }

  /** Writes the outbox; messages become sendable once written (at most one write in flight). */
  private persistOutbox(): void {
    if (!this.ready || this.closing) return;
    if (this.outboxWriteInFlight) {
      this.outboxDirty = true;
      return;
    }
    this.outboxWriteInFlight = true;
    const snapshot = this.outbox.messages();
    this.storage
      .saveOutbox(snapshot.map((m) => toBinary(SendMessageSchema, m)))
      // Sending anyway is better than holding messages back because storage failed.
      .catch((e) => this.reportError(persistError("outbox", e)))
      .finally(() => {
        this.outboxWriteInFlight = false;
        this.outbox.markDurable(snapshot.map((m) => m.clientMsgId));
        if (this.outboxDirty && !this.closing) {
          this.outboxDirty = false;
          this.persistOutbox();
        }
        this.pumpOutbox();
      });
  }

  private outboxChanged(): void {
    this.emit("outbox", this.pending);
  }

  // ------------------------------------------------------------------------------------------
  // Connection lifecycle
  // ------------------------------------------------------------------------------------------

  private startAttempt(): void {
    this.reconnectTimer = undefined;
    if (this.closing || !this.ready || !this.started || this.conn) return;
    const gen = ++this.generation;
    const reason = this.tokenReason;
    Promise.resolve()
      .then(() => this.opts.token(reason))
      .then(
        (t) => this.onToken(gen, t, undefined),
        (e) => this.onToken(gen, "", e),
      );
  }

  private onToken(gen: number, token: string, error: unknown): void {
    if (this.closing || gen !== this.generation || this.conn) return;
    if (error !== undefined || !token) {
      this.reportError(
        new ParleyError(ErrorCode.UNAUTHENTICATED, `the token provider failed: ${error ?? "empty token"}`),
      );
      this.scheduleReconnect();
      return;
    }
    this.token = token;
    let ws: WebSocket;
    try {
      ws = new this.WS(this.opts.url, offeredSubprotocols(this.opts.encoding));
    } catch (e) {
      this.reportError(new ParleyError(ErrorCode.BAD_REQUEST, `cannot open ${this.opts.url}: ${e}`));
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = "arraybuffer";
    const c: Connection = { ws, codec: null, lastReceivedMs: Date.now() };
    this.conn = c;
    const connectTimer = setTimeout(() => {
      if (this.conn === c && !c.codec) this.dropConnection(c, 4000, "connect timeout");
    }, this.opts.requestTimeoutMs);
    ws.onopen = () => {
      clearTimeout(connectTimer);
      if (this.conn !== c) return;
      try {
        c.codec = codecFor(ws.protocol);
      } catch (e) {
        this.reportError(new ParleyError(ErrorCode.UNSUPPORTED, String(e)));
        this.dropConnection(c, 1002, "no subprotocol");
        return;
      }
      this.authenticate(c);
    };
    ws.onmessage = (m: MessageEvent) => {
      if (this.conn !== c || !c.codec) return;
      c.lastReceivedMs = Date.now();
      let frame: ServerFrame;
      try {
        frame = c.codec.decode(m.data as ArrayBuffer | string);
      } catch (e) {
        this.reportError(new ParleyError(ErrorCode.BAD_REQUEST, `undecodable frame from the server: ${e}`));
        return;
      }
      this.handleFrame(frame);
    };
    ws.onclose = (e: CloseEvent) => {
      clearTimeout(connectTimer);
      if (this.conn === c) this.connectionClosed(e.code, e.reason);
    };
    ws.onerror = () => {
      // Always followed by a close event, which does the work.
    };
  }

  /** Gives up a connection at once, without waiting for the close handshake of a dead socket. */
  private dropConnection(c: Connection, code: number, reason: string): void {
    detach(c, code, reason);
    if (this.conn === c) this.connectionClosed(code, reason);
  }

  private networkLost(): void {
    // The browser knows the network is gone before TCP does: give up the socket now, so the app
    // shows "reconnecting" and new sends are queued rather than written into a dead connection.
    if (this.conn) this.dropConnection(this.conn, 4000, "network offline");
  }

  private networkBack(): void {
    if (this.closing || !this.started || this.conn) return;
    clearTimeout(this.reconnectTimer);
    this.failedAttempts = 0;
    this.startAttempt();
  }

  private authenticate(c: Connection): void {
    this.request(
      {
        case: "authenticate",
        value: msg({ token: this.token, deviceId: this._deviceId, client: this.opts.clientName, syncFirst: true }),
      },
      false,
      false,
      {
        onFrame: (f) => {
          if (this.conn !== c) return;
          if (f.payload.case !== "authenticated") {
            this.reportError(unexpected(f, "Authenticate"));
            this.dropConnection(c, 1002, "unexpected answer");
            return;
          }
          this.authenticatedAs(f.payload.value);
        },
        onFailure: (error, kind) => {
          if (this.conn !== c || kind === "connectionLost" || kind === "closed") return;
          if (error.code === ErrorCode.USER_DEACTIVATED) {
            this.reportError(error);
            void this.close();
            return;
          }
          if (error.code === ErrorCode.UNAUTHENTICATED || error.code === ErrorCode.TOKEN_EXPIRED) {
            this.tokenReason = "rejected";
          }
          this.retryHintMs = error.retryAfterMs;
          this.reportError(error);
          this.dropConnection(c, 1000, "authentication failed");
        },
      },
    );
  }

  private authenticatedAs(a: Authenticated): void {
    const reconnected = this.everConnected;
    this.authenticated = true;
    this.everConnected = true;
    this.failedAttempts = 0;
    this.tokenReason = "connect";
    this._userId = a.userId;
    if (a.deviceId && a.deviceId !== this._deviceId) {
      this._deviceId = a.deviceId;
      this.markStateDirty();
    }
    if (a.serverTimeMs > 0n) this.clockOffsetMs = Number(a.serverTimeMs) - Date.now();
    this.scheduleRefresh(a.expiresAtMs);
    this.startPings();
    this.setState("connected");
    const queued = this.waiting.splice(0);
    if (reconnected) this.restoreSession();
    for (const p of queued) this.transmit(p);
    this.pumpOutbox();
    this.startSync();
  }

  /** Re-applies the session-scoped requests (presence) of the previous session to the new one. */
  private restoreSession(): void {
    for (const r of this.sessionRequests.values()) {
      this.request(r, true, false, {
        onFrame: () => {},
        onFailure: (e, kind) => kind === "server" && this.reportError(e),
      });
    }
  }

  private callSessionScoped(key: string, request: Request): Promise<ServerFrame> {
    this.sessionRequests.set(key, request);
    return this.call(request);
  }

  private connectionClosed(code: number, reason: string): void {
    this.conn = null;
    this.authenticated = false;
    this.refreshing = false;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.resyncTimer);
    clearInterval(this.pingTimer);
    this.resyncTimer = undefined;
    this.syncing = false;
    this.resyncRequested = false;
    this.orderer.resetFetches();
    this.outbox.connectionLost();
    this.failInFlight();
    if (this.closing) return;
    if (code === CLOSE_DEACTIVATED) {
      this.reportError(new ParleyError(ErrorCode.USER_DEACTIVATED, `the user was deactivated${reason ? ": " + reason : ""}`));
      void this.close();
      return;
    }
    if (code === CLOSE_TOKEN_EXPIRED) this.tokenReason = "rejected";
    this.setState(this.everConnected ? "reconnecting" : "connecting");
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer !== undefined) return;
    let delay: number;
    if (this.goAwayDelayMs >= 0) {
      delay = this.goAwayDelayMs;
      this.goAwayDelayMs = -1;
    } else {
      delay = Math.max(this.backoff.delayMs(Math.min(this.failedAttempts, 30)), this.retryHintMs);
      this.failedAttempts++;
    }
    this.retryHintMs = 0;
    this.reconnectTimer = setTimeout(() => this.startAttempt(), delay);
  }

  private startPings(): void {
    clearInterval(this.pingTimer);
    const c = this.conn!;
    this.pingTimer = setInterval(() => {
      if (this.conn !== c || !this.authenticated) return;
      if (Date.now() - c.lastReceivedMs < this.opts.pingIntervalMs) return;
      this.request({ case: "ping", value: msg({ clientTimeMs: BigInt(Date.now()) }) }, true, false, {
        onFrame: () => {},
        onFailure: (_e, kind) => {
          // No answer in time: the connection is dead even if TCP has not noticed.
          if (kind === "timeout" && this.conn === c) this.dropConnection(c, 4000, "ping timeout");
        },
      });
    }, Math.max(1_000, this.opts.pingIntervalMs / 2));
  }

  // ------------------------------------------------------------------------------------------
  // Token refresh
  // ------------------------------------------------------------------------------------------

  private scheduleRefresh(expiresAtMs: bigint): void {
    clearTimeout(this.refreshTimer);
    if (expiresAtMs <= 0n) return;
    const remaining = Number(expiresAtMs) - (Date.now() + this.clockOffsetMs);
    const lead = Math.max(1_000, Math.min(60_000, remaining / 5));
    // setTimeout's limit is 2^31-1 ms; a later refresh is re-armed by the next connection anyway.
    const delay = Math.min(Math.max(0, remaining - lead), 2_147_000_000);
    this.refreshTimer = setTimeout(() => void this.refresh().catch((e) => this.reportError(toParleyError(e))), delay);
  }

  private async refresh(): Promise<void> {
    if (!this.authenticated) throw new ParleyError(ErrorCode.UNAVAILABLE, "not connected");
    if (this.refreshing) return;
    this.refreshing = true;
    const c = this.conn;
    try {
      let token: string;
      try {
        token = await this.opts.token("refresh");
        if (!token) throw new Error("empty token");
      } catch (e) {
        throw new ParleyError(ErrorCode.UNAUTHENTICATED, `the token provider failed: ${e}`);
      }
      if (c !== this.conn) return;
      const f = await new Promise<ServerFrame>((resolve, reject) =>
        this.request({ case: "refreshToken", value: msg({ token }) }, true, false, { onFrame: resolve, onFailure: reject }),
      );
      if (c !== this.conn) return;
      const refreshed = expect(f, "tokenRefreshed");
      this.token = token;
      this.refreshedExpiresAtMs = refreshed.expiresAtMs;
      this.scheduleRefresh(refreshed.expiresAtMs);
    } finally {
      this.refreshing = false;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Requests
  // ------------------------------------------------------------------------------------------

  private request(request: Request, needsAuth: boolean, retryOnReconnect: boolean, handler: ResponseHandler): void {
    if (this.closing) {
      handler.onFailure(new ParleyError(ErrorCode.UNAVAILABLE, "the client is closed"), "closed");
      return;
    }
    const p: Pending = { request, handler, needsAuth, retryOnReconnect, requestId: 0n, timer: undefined };
    p.timer = setTimeout(() => this.timedOut(p), this.opts.requestTimeoutMs);
    if ((needsAuth && !this.authenticated) || !this.conn?.codec) {
      this.waiting.push(p);
    } else {
      this.transmit(p);
    }
  }

  private transmit(p: Pending): void {
    const c = this.conn;
    if (!c?.codec) {
      this.waiting.push(p);
      return;
    }
    p.requestId = this.nextRequestId++;
    this.inFlight.set(p.requestId, p);
    const frame = create(ClientFrameSchema, { requestId: p.requestId, request: p.request });
    try {
      c.ws.send(c.codec.encode(frame) as ArrayBuffer | string);
    } catch {
      // The socket is closing; its close event fails or requeues the request.
    }
  }

  private timedOut(p: Pending): void {
    const inFlight = p.requestId !== 0n && this.inFlight.get(p.requestId) === p;
    const idx = this.waiting.indexOf(p);
    if (inFlight) this.inFlight.delete(p.requestId);
    else if (idx >= 0) this.waiting.splice(idx, 1);
    else return;
    p.handler.onFailure(
      new ParleyError(
        ErrorCode.UNAVAILABLE,
        `${this.authenticated ? "no answer within" : "not connected within"} ${this.opts.requestTimeoutMs} ms`,
      ),
      "timeout",
    );
  }

  private failInFlight(): void {
    const lost = [...this.inFlight.values()].sort((a, b) => (a.requestId < b.requestId ? -1 : 1));
    this.inFlight.clear();
    const error = new ParleyError(ErrorCode.UNAVAILABLE, this.closing ? "the client is closed" : "connection lost");
    for (const p of lost) {
      if (p.retryOnReconnect && !this.closing) {
        p.requestId = 0n;
        this.waiting.push(p);
      } else {
        clearTimeout(p.timer);
        p.handler.onFailure(error, this.closing ? "closed" : "connectionLost");
      }
    }
  }

  private fireAndForget(request: Request): void {
    if (!this.authenticated) return; // ephemeral: pointless after the fact
    this.request(request, true, false, { onFrame: () => {}, onFailure: () => {} });
  }

  private handleFrame(frame: ServerFrame): void {
    if (frame.requestId !== 0n) {
      const p = this.inFlight.get(frame.requestId);
      if (!p) return; // the answer to a request that already timed out
      this.inFlight.delete(frame.requestId);
      clearTimeout(p.timer);
      if (frame.payload.case === "error") p.handler.onFailure(toError(frame.payload.value), "server");
      else p.handler.onFrame(frame);
      return;
    }
    const push = frame.payload;
    switch (push.case) {
      case "event":
        this.liveEvents([push.value]);
        break;
      case "eventBatch":
        this.liveEvents(push.value.events);
        break;
      case "typing":
        this.emit("typing", push.value);
        break;
      case "presence":
        this.emit("presence", push.value);
        break;
      case "receipt":
        this.emit("receipt", push.value);
        break;
      case "resyncRequired":
        this.startSync();
        break;
      case "goAway":
        this.goAwayDelayMs = Number(push.value.reconnectAfterMs);
        if (this.conn) this.dropConnection(this.conn, 1001, "going away");
        break;
      case "sessionExpiring":
        // A warning about the expiry our own refresh obtained is covered by the refresh timer.
        if (push.value.expiresAtMs !== this.refreshedExpiresAtMs) {
          this.refresh().catch((e) => this.reportError(toParleyError(e)));
        }
        break;
      case "error":
        this.reportError(toError(push.value));
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sync, live events, gap filling
  // ------------------------------------------------------------------------------------------

  /** Notes channels among conversations the app fetched (their sync needs a cursor). */
  private observe(conversations: readonly Conversation[]): void {
    for (const c of conversations) if (c.kind === ConversationKind.CHANNEL && c.id) this.channels.add(c.id);
  }

  private startSync(): void {
    if (!this.authenticated || this.closing) return;
    if (this.syncing) {
      this.resyncRequested = true;
      return;
    }
    this.syncing = true;
    this.requestSyncPage(this.conn!);
  }

  private requestSyncPage(c: Connection): void {
    const channelCursors = [];
    const cursorsSent = new Set<string>();
    for (const channel of this.channels) {
      const seq = this.orderer.lastDelivered(channel);
      if (seq !== undefined) {
        cursorsSent.add(channel);
        channelCursors.push(msg({ conversationId: channel, seq }));
      }
    }
    this.request(
      { case: "sync", value: msg({ cursor: this.syncCursor, channelCursors, limit: this.opts.syncPageLimit }) },
      true,
      false,
      {
        onFrame: (f) => {
          if (c !== this.conn) return;
          if (f.payload.case !== "syncResult") {
            this.syncing = false;
            this.reportError(unexpected(f, "Sync"));
            return;
          }
          this.applySync(f.payload.value, cursorsSent);
          if (f.payload.value.complete) this.finishSync();
          else this.requestSyncPage(c);
        },
        onFailure: (e, kind) => {
          if (c !== this.conn || kind === "connectionLost" || kind === "closed") return;
          this.syncing = false;
          this.reportError(e);
          if (kind === "server" && e.code === ErrorCode.BAD_REQUEST && this.syncCursor && !this.cursorResetTried) {
            // The server no longer understands the cursor (e.g. its data was reset): start over.
            this.cursorResetTried = true;
            this.syncCursor = "";
            this.markStateDirty();
            this.startSync();
          } else if (kind === "timeout" || e.retryable) {
            this.scheduleResync(e.retryAfterMs);
          }
        },
      },
    );
  }

  private scheduleResync(hintMs: number): void {
    if (this.resyncTimer !== undefined || this.closing) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      this.startSync();
    }, Math.max(hintMs, this.backoff.delayMs(3)));
  }

  private applySync(result: SyncResult, cursorsSent: Set<string>): void {
    for (const delta of result.deltas) {
      const id = delta.conversation?.id || delta.events[0]?.conversationId || "";
      if (!id) continue;
      if (delta.removed) {
        this.deliver(this.orderer.offerAll(delta.events));
        this.forgetConversation(id);
        this.emit("conversationRemoved", id);
        continue;
      }
      const conversation = delta.conversation;
      if (conversation) {
        if (conversation.kind === ConversationKind.CHANNEL) {
          this.channels.add(id);
          // A channel's posts reach the device only through its cursor: sync once more with it.
          if (!cursorsSent.has(id)) this.resyncRequested = true;
        }
        // A conversation new to this device starts at its head; older events are history.
        if (delta.events.length === 0) this.orderer.track(id, conversation.lastSeq);
        this.emit("conversation", conversation);
      }
      this.deliver(this.orderer.offerAll(delta.events));
    }
    if (result.cursor) this.syncCursor = result.cursor;
    this.markStateDirty();
  }

  private finishSync(): void {
    this.syncing = false;
    this.cursorResetTried = false;
    this.emit("synced", undefined);
    this.fetchGaps();
    if (this.resyncRequested) {
      this.resyncRequested = false;
      this.startSync();
    }
  }

  private liveEvents(events: readonly Event[]): void {
    for (const e of events) {
      if (e.kind.case === "conversationCreated" && e.kind.value.kind === ConversationKind.CHANNEL) {
        this.channels.add(e.conversationId);
      }
    }
    this.deliver(this.orderer.offerAll(events));
    // During a sync a hole is most likely filled by the next page; look only afterwards.
    if (!this.syncing) this.fetchGaps();
  }

  private deliver(events: readonly Event[]): void {
    if (events.length === 0) return;
    for (const e of events) {
      this.emit("event", e);
      if (e.kind.case === "memberLeft" && e.kind.value.userId === this._userId) {
        // No further events reach this user; if they rejoin, tracking restarts at that point.
        this.forgetConversation(e.conversationId);
      } else if (this.opts.autoMarkDelivered && e.actorUserId && e.actorUserId !== this._userId) {
        const prev = this.deliveredMarks.get(e.conversationId) ?? 0n;
        if (e.seq > prev) this.deliveredMarks.set(e.conversationId, e.seq);
      }
    }
    this.markStateDirty();
    if (this.deliveredMarks.size > 0 && this.deliveredTimer === undefined) {
      // Coalesced: one MarkDelivered per conversation for a burst of events.
      this.deliveredTimer = setTimeout(() => {
        this.deliveredTimer = undefined;
        for (const [id, seq] of this.deliveredMarks) {
          this.request({ case: "markDelivered", value: msg({ conversationId: id, seq }) }, true, true, {
            onFrame: () => {},
            onFailure: () => {},
          });
        }
        this.deliveredMarks.clear();
      }, DELIVERED_DELAY_MS);
    }
  }

  private forgetConversation(id: string): void {
    this.orderer.forget(id);
    this.channels.delete(id);
    this.markStateDirty();
  }

  private fetchGaps(): void {
    if (!this.authenticated) return;
    const c = this.conn;
    for (const gap of this.orderer.takeGaps()) {
      this.request(
        {
          case: "getHistory",
          value: msg({
            conversationId: gap.conversationId,
            fromSeq: gap.afterSeq,
            direction: Direction.FORWARD,
            limit: Number(min(BigInt(MAX_GAP_PAGE), gap.beforeSeq - gap.afterSeq - 1n)),
          }),
        },
        true,
        false,
        {
          onFrame: (f) => {
            if (c !== this.conn) return;
            const events = f.payload.case === "history" ? f.payload.value.events : [];
            this.deliver(this.orderer.fill(gap as Gap, events));
            this.fetchGaps();
          },
          onFailure: (e, kind) => {
            if (c !== this.conn || kind === "connectionLost" || kind === "closed") return;
            if (kind === "server" && e.code === ErrorCode.NOT_FOUND) {
              this.forgetConversation(gap.conversationId);
              return;
            }
            this.orderer.fillFailed(gap.conversationId);
            // A sync from the cursor also returns the missing events.
            this.scheduleResync(e.retryAfterMs);
          },
        },
      );
    }
  }

  // ------------------------------------------------------------------------------------------
  // Outbox
  // ------------------------------------------------------------------------------------------

  private enqueueSend(message: SendMessage, waiter: OutboxEntry["waiters"][number]): void {
    if (this.closing) {
      waiter.reject(new ParleyError(ErrorCode.UNAVAILABLE, "the client is closed"));
      return;
    }
    if (!this.ready) {
      this.earlyMessages.push(message);
      this.earlySends.push(waiter);
      this.outboxChanged();
      return;
    }
    if (this.outbox.add(message, waiter, false)) this.persistOutbox();
    this.outboxChanged();
    this.pumpOutbox();
  }

  private pumpOutbox(): void {
    if (!this.authenticated || this.closing) return;
    const now = Date.now();
    for (const e of this.outbox.takeSendable(now)) this.transmitSend(e);
    const next = this.outbox.nextRetryAtMs(now);
    if (next !== Infinity && next < this.outboxTimerAtMs) {
      clearTimeout(this.outboxTimer);
      this.outboxTimerAtMs = next;
      this.outboxTimer = setTimeout(() => {
        this.outboxTimer = undefined;
        this.outboxTimerAtMs = Infinity;
        this.pumpOutbox();
      }, Math.max(0, next - now));
    }
  }

  private transmitSend(entry: OutboxEntry): void {
    const id = entry.message.clientMsgId;
    this.request({ case: "sendMessage", value: entry.message }, true, false, {
      onFrame: (f) => {
        if (f.payload.case !== "sendResult") {
          this.rejected(id, unexpected(f, "SendMessage"));
          return;
        }
        const result = f.payload.value;
        const done = this.outbox.remove(id);
        if (done) {
          done.waiters.forEach((w) => w.resolve(result));
          this.emit("sendCompleted", { message: done.message, result });
          this.persistOutbox();
          this.outboxChanged();
        }
        this.pumpOutbox();
      },
      onFailure: (e, kind) => {
        switch (kind) {
          case "connectionLost":
          case "closed":
            break; // kept in the outbox; sent again on the next connection
          case "timeout":
            this.outbox.retryAt(id, Date.now());
            this.pumpOutbox();
            break;
          case "server":
            if (e.retryable || e.code === ErrorCode.UNAUTHENTICATED || e.code === ErrorCode.TOKEN_EXPIRED) {
              const delay = e.retryAfterMs > 0 ? e.retryAfterMs : this.backoff.delayMs(Math.min(entry.attempts, 10));
              this.outbox.retryAt(id, Date.now() + delay);
              this.pumpOutbox();
            } else {
              this.rejected(id, e);
            }
        }
      },
    });
  }

  private rejected(clientMsgId: string, e: ParleyError): void {
    const done = this.outbox.remove(clientMsgId);
    if (done) {
      done.waiters.forEach((w) => w.reject(e));
      this.emit("sendFailed", { message: done.message, error: e });
      this.persistOutbox();
      this.outboxChanged();
    }
    this.pumpOutbox();
  }
}

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

/**
 * Marks a plain object as a message initializer: `create` of the enclosing frame fills in the
 * message type from the oneof case, so requests are written as plain objects.
 */
function msg<T extends object>(init: T): T {
  return init;
}

type PayloadCase = NonNullable<ServerFrame["payload"]["case"]>;
type PayloadOf<K extends PayloadCase> = Extract<ServerFrame["payload"], { case: K }>["value"];

function expect<K extends PayloadCase>(f: ServerFrame, kind: K): PayloadOf<K> {
  if (f.payload.case !== kind) throw unexpected(f, kind);
  return f.payload.value as PayloadOf<K>;
}

function unexpected(f: ServerFrame, request: string): ParleyError {
  return new ParleyError(ErrorCode.INTERNAL, `unexpected answer ${f.payload.case} to ${request}`);
}

function toError(e: { code: ErrorCode; message: string; retryAfterMs: bigint }): ParleyError {
  const code = ErrorCode[e.code] === undefined ? ErrorCode.INTERNAL : e.code;
  return new ParleyError(code, e.message || ErrorCode[code], Number(e.retryAfterMs));
}

function toParleyError(e: unknown): ParleyError {
  return e instanceof ParleyError ? e : new ParleyError(ErrorCode.INTERNAL, String(e));
}

function persistError(what: string, e: unknown): ParleyError {
  return new ParleyError(ErrorCode.INTERNAL, `could not persist the ${what}: ${e}`);
}

function detach(c: Connection, code: number, reason: string): void {
  c.ws.onopen = c.ws.onmessage = c.ws.onclose = c.ws.onerror = null;
  try {
    // Browsers only let applications send 1000 or 3000-4999.
    c.ws.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
  } catch {
    // already closed
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** A random client_msg_id (the idempotency key of a send). */
export function newId(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}
