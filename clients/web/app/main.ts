// Parley demo chat: a small single-page app on the browser SDK, served by the server at / in
// development mode. Plain DOM code, no framework: the point is to show the SDK, not a UI library.
import {
  ConversationKind,
  ErrorCode,
  ParleyClient,
  ParleyError,
  PresenceStatus,
  ReceiptKind,
  textOf,
  type ConnectionState,
  type Conversation,
  type Event,
  type SendMessage,
} from "../src/index.js";

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

interface Chat {
  conv: Conversation;
  /** Loaded events by seq (history pages and live events). */
  events: Map<bigint, Event>;
  /** Lowest seq loaded; history before it is fetched on scroll. 0n: nothing loaded yet. */
  oldest: bigint;
  historyLoaded: boolean;
  hasMore: boolean;
  loading: boolean;
  typing: Map<string, ReturnType<typeof setTimeout>>;
  receipts: Map<string, { delivered: bigint; read: bigint }>;
  members: string[];
  lastActivity: number;
}

const SESSION_KEY = "parley.demo.user";
const PAGE = 30;

let client: ParleyClient | null = null;
let me = "";
let connection: ConnectionState = "new";
let connectedOnce = false;
let online = navigator.onLine;
const chats = new Map<string, Chat>();
const presence = new Map<string, boolean>();
let activeId: string | null = null;
let pending: readonly SendMessage[] = [];
let toastTimer: ReturnType<typeof setTimeout> | undefined;
let readTimer: ReturnType<typeof setTimeout> | undefined;
let editing: { seq: bigint } | null = null;

const root = document.getElementById("root")!;

// ---------------------------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------------------------

type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((e: never) => void) | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function initials(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, " ").trim().slice(0, 2).toUpperCase() || "?";
}

/** A stable pleasant color per name. */
function hue(name: string): number {
  let x = 0;
  for (const ch of name) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  return x % 360;
}

function avatar(name: string, dot?: boolean): HTMLElement {
  return h(
    "div",
    { class: "avatar", style: `--h:${hue(name)}` },
    initials(name),
    dot === undefined ? null : h("span", { class: `dot ${dot ? "on" : "off"}`, "data-presence": dot ? "online" : "offline" }),
  );
}

function time(ms: bigint | number): string {
  const d = new Date(Number(ms));
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString([], { month: "short", day: "numeric" });
}

function toast(text: string): void {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = text;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 4000);
}

function describe(e: unknown): string {
  if (e instanceof ParleyError) {
    if (e.code === ErrorCode.NOT_FOUND) return "Not found — has that person signed in to Parley yet?";
    return e.message;
  }
  return String(e);
}

// ---------------------------------------------------------------------------------------------
// Sign in
// ---------------------------------------------------------------------------------------------

async function devToken(user: string): Promise<string> {
  const r = await fetch("/v1/dev/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user_id: user }),
  });
  if (r.status === 404) throw new Error("Sign-in by name needs the server in development mode.");
  const body = await r.json();
  if (!r.ok) throw new Error(body?.error?.message ?? `sign-in failed (${r.status})`);
  return body.token as string;
}

function renderSignIn(error = ""): void {
  const input = h("input", {
    id: "signin-name",
    placeholder: "Your name, e.g. alice",
    autocomplete: "username",
    autocapitalize: "off",
    spellcheck: "false",
    maxlength: "64",
    required: true,
  });
  const form = h(
    "form",
    {
      class: "signin-card",
      onsubmit: (e: SubmitEvent) => {
        e.preventDefault();
        const name = input.value.trim();
        if (name) void signIn(name);
      },
    },
    h("div", { class: "brand" }, h("span", { class: "logo" }, "P"), "Parley"),
    h("p", { class: "muted" }, "Real-time chat on the Parley server. Pick any name to sign in (development mode)."),
    input,
    h("button", { type: "submit", id: "signin-button", class: "primary" }, "Sign in"),
    error ? h("p", { class: "error" }, error) : null,
  );
  root.replaceChildren(h("div", { class: "signin" }, form));
  input.focus();
}

async function signIn(user: string): Promise<void> {
  try {
    await devToken(user); // fail early with a readable message
  } catch (e) {
    renderSignIn(String((e as Error).message ?? e));
    return;
  }
  localStorage.setItem(SESSION_KEY, user);
  me = user;
  startClient(user);
}

function signOut(): void {
  localStorage.removeItem(SESSION_KEY);
  void client?.close();
  client = null;
  chats.clear();
  presence.clear();
  activeId = null;
  connectedOnce = false;
  renderSignIn();
}

// ---------------------------------------------------------------------------------------------
// Client wiring
// ---------------------------------------------------------------------------------------------

function startClient(user: string): void {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const c = new ParleyClient({
    url: `${scheme}://${location.host}/v1/ws`,
    token: () => devToken(user),
    storageName: user,
    clientName: "parley-web-demo/0.1",
    // ?encoding=json shows the JSON subprotocol in the browser's network panel.
    encoding: new URLSearchParams(location.search).get("encoding") === "json" ? "json" : "auto",
  });
  client = c;
  renderShell();
  c.on("state", (s) => {
    connection = s;
    if (s === "connected") connectedOnce = true;
    else if (presence.size) {
      // Unknown while disconnected; the server pushes current states again after reconnecting.
      presence.clear();
      renderList();
      renderHeader();
    }
    renderBanner();
  });
  c.on("synced", () => void refreshConversations());
  c.on("conversation", (conv) => upsertConversation(conv, true));
  c.on("conversationRemoved", (id) => {
    chats.delete(id);
    if (activeId === id) activeId = null;
    renderAll();
  });
  c.on("event", onEvent);
  c.on("typing", (n) => {
    const chat = chats.get(n.conversationId);
    if (!chat || n.userId === me) return;
    clearTimeout(chat.typing.get(n.userId));
    if (n.typing) chat.typing.set(n.userId, setTimeout(() => {
      chat.typing.delete(n.userId);
      renderHeader();
      renderList();
    }, 7000));
    else chat.typing.delete(n.userId);
    renderHeader();
    renderList();
  });
  c.on("presence", (n) => {
    presence.set(n.userId, n.status === PresenceStatus.ONLINE);
    renderList();
    renderHeader();
  });
  c.on("receipt", (n) => {
    const chat = chats.get(n.conversationId);
    if (!chat) return;
    const r = chat.receipts.get(n.userId) ?? { delivered: 0n, read: 0n };
    if (n.kind === ReceiptKind.READ) r.read = r.read > n.seq ? r.read : n.seq;
    if (n.kind === ReceiptKind.DELIVERED || n.kind === ReceiptKind.READ) {
      r.delivered = r.delivered > n.seq ? r.delivered : n.seq;
    }
    chat.receipts.set(n.userId, r);
    if (n.conversationId === activeId) renderMessages();
  });
  c.on("outbox", (p) => {
    pending = p;
    renderList();
    if (activeId) renderMessages();
  });
  c.on("sendFailed", ({ error }) => toast(`Message not sent: ${describe(error)}`));
  c.on("error", (e) => console.warn("parley:", e.message));
  addEventListener("online", () => {
    online = true;
    renderBanner();
  });
  addEventListener("offline", () => {
    online = false;
    renderBanner();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && activeId) scheduleRead();
  });
  void c.connect();
}

async function refreshConversations(): Promise<void> {
  if (!client) return;
  try {
    let token = "";
    do {
      const page = await client.listConversations(token, 100);
      for (const conv of page.conversations) upsertConversation(conv, true);
      token = page.nextPageToken;
    } while (token);
    const peers = [...chats.values()].flatMap((c) => (c.conv.peerUserId ? [c.conv.peerUserId] : c.members));
    await client.subscribePresence([...new Set(peers)].filter((u) => u !== me));
  } catch (e) {
    console.warn("parley: listing conversations failed", e);
  }
  renderAll();
}

function chatTitle(c: Conversation): string {
  if (c.kind === ConversationKind.DIRECT) return c.peerUserId || "Direct chat";
  return c.metadata?.title || "Group";
}

/** Takes a server snapshot of a conversation; unread and last message come from it when it is not older. */
function upsertConversation(conv: Conversation, render: boolean): Chat {
  let chat = chats.get(conv.id);
  if (!chat) {
    chat = {
      conv,
      events: new Map(),
      oldest: 0n,
      historyLoaded: false,
      hasMore: true,
      loading: false,
      typing: new Map(),
      receipts: new Map(),
      members: [],
      lastActivity: Number(conv.lastMessage?.timestampMs ?? conv.createdAtMs),
    };
    chats.set(conv.id, chat);
  } else if (conv.lastSeq >= chat.conv.lastSeq) {
    chat.conv = conv;
    chat.lastActivity = Math.max(chat.lastActivity, Number(conv.lastMessage?.timestampMs ?? conv.createdAtMs));
  }
  if (conv.id === activeId && chat.conv.unreadCount > 0n) scheduleRead();
  if (render) renderList();
  return chat;
}

function onEvent(e: Event): void {
  const chat = chats.get(e.conversationId);
  if (!chat) {
    // A conversation we were just added to: fetch how it looks to us, then apply the event.
    client?.getConversation(e.conversationId).then(
      (conv) => {
        upsertConversation(conv, false);
        if (conv.peerUserId) void client?.subscribePresence(peersToFollow());
        renderAll();
      },
      () => {},
    );
    return;
  }
  chat.events.set(e.seq, e);
  const news = e.seq > chat.conv.lastSeq;
  if (news) chat.conv.lastSeq = e.seq;
  if (e.kind.case === "messagePosted") {
    chat.conv.lastMessage = e;
    chat.lastActivity = Math.max(chat.lastActivity, Number(e.timestampMs));
    if (e.actorUserId !== me) {
      chat.typing.delete(e.actorUserId);
      if (news) chat.conv.unreadCount += 1n;
    }
  }
  if (e.conversationId === activeId) {
    scheduleRead();
    renderMessages();
    renderHeader();
  }
  renderList();
}

function peersToFollow(): string[] {
  const peers = [...chats.values()].flatMap((c) => (c.conv.peerUserId ? [c.conv.peerUserId] : c.members));
  return [...new Set(peers)].filter((u) => u && u !== me);
}

/** Marks the open conversation read (debounced) while the page is visible. */
function scheduleRead(): void {
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    const chat = activeId ? chats.get(activeId) : undefined;
    if (!chat || !client || document.hidden || connection !== "connected") return;
    const seq = chat.conv.lastSeq;
    if (chat.conv.unreadCount === 0n && chat.conv.readSeq >= seq) return;
    chat.conv.unreadCount = 0n;
    chat.conv.readSeq = seq;
    renderList();
    client.markRead(chat.conv.id, seq).catch(() => {});
  }, 150);
}

// ---------------------------------------------------------------------------------------------
// Opening a conversation, history
// ---------------------------------------------------------------------------------------------

async function openChat(id: string): Promise<void> {
  activeId = id;
  editing = null;
  root.querySelector(".app")?.classList.add("chat-open");
  const chat = chats.get(id)!;
  renderChatPane();
  renderList();
  if (!chat.historyLoaded) await loadOlder(chat, true);
  scheduleRead();
  if (!client) return;
  client.getReceipts(id).then(
    (list) => {
      for (const r of list.receipts) chat.receipts.set(r.userId, { delivered: r.deliveredSeq, read: r.readSeq });
      if (activeId === id) renderMessages();
    },
    () => {},
  );
  if (chat.conv.kind !== ConversationKind.DIRECT && chat.members.length === 0) {
    client.listMembers(id).then(
      (m) => {
        chat.members = m.members.map((x) => x.userId);
        if (activeId === id) renderHeader();
        void client?.subscribePresence(peersToFollow());
      },
      () => {},
    );
  }
}

async function loadOlder(chat: Chat, first = false): Promise<void> {
  if (!client || chat.loading || (!first && !chat.hasMore)) return;
  chat.loading = true;
  const list = document.getElementById("messages");
  const before = list ? list.scrollHeight - list.scrollTop : 0;
  try {
    const page = await client.history(chat.conv.id, { fromSeq: first ? 0n : chat.oldest, limit: PAGE });
    for (const e of page.events) {
      chat.events.set(e.seq, e);
      if (chat.oldest === 0n || e.seq < chat.oldest) chat.oldest = e.seq;
    }
    chat.hasMore = page.hasMore;
    chat.historyLoaded = true;
  } catch (e) {
    toast(`Could not load history: ${describe(e)}`);
  } finally {
    chat.loading = false;
  }
  if (activeId !== chat.conv.id) return;
  renderMessages(first ? "bottom" : undefined);
  const after = document.getElementById("messages");
  if (after && !first) after.scrollTop = after.scrollHeight - before;
  // A short first page on a tall screen leaves nothing to scroll: keep loading.
  if (after && chat.hasMore && after.scrollHeight <= after.clientHeight + 40) void loadOlder(chat);
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

function renderShell(): void {
  root.replaceChildren(
    h(
      "div",
      { class: "app" },
      h(
        "aside",
        { class: "sidebar" },
        h(
          "header",
          { class: "side-head" },
          avatar(me),
          h("div", { class: "me" }, h("div", { class: "me-name", id: "me-name" }, me), h("div", { class: "conn", id: "conn-state" })),
          h("button", { class: "icon", title: "New conversation", id: "new-chat", onclick: () => renderNewChat() }, "✎"),
          h("button", { class: "icon", title: "Sign out", id: "sign-out", onclick: () => signOut() }, "⎋"),
        ),
        h("div", { id: "banner", class: "banner hidden" }),
        h("nav", { id: "conv-list", class: "conv-list" }),
      ),
      h("main", { class: "chat", id: "chat" }),
    ),
    h("div", { id: "toast", class: "toast", role: "status" }),
    h("div", { id: "modal" }),
  );
  renderBanner();
  renderList();
  renderChatPane();
}

function renderAll(): void {
  renderList();
  renderHeader();
  renderMessages();
}

function renderBanner(): void {
  const el = document.getElementById("banner");
  const st = document.getElementById("conn-state");
  if (!el || !st) return;
  let text = "";
  let kind = "";
  if (!online) {
    text = "You are offline. Messages you send are queued and go out when you're back.";
    kind = "offline";
  } else if (connection === "reconnecting" || (connection === "connecting" && connectedOnce)) {
    text = "Reconnecting…";
    kind = "reconnecting";
  } else if (connection === "connecting") {
    text = "Connecting…";
    kind = "connecting";
  }
  el.textContent = text;
  el.className = `banner ${text ? kind : "hidden"}`;
  el.setAttribute("data-state", text ? kind : "connected");
  st.textContent = connection === "connected" ? "online" : kind === "offline" ? "offline" : "reconnecting…";
  st.className = `conn ${connection === "connected" ? "ok" : "down"}`;
  st.setAttribute("data-state", connection);
  st.setAttribute("data-subprotocol", client?.subprotocol ?? "");
}

function pendingFor(id: string): SendMessage[] {
  return pending.filter((m) => m.conversationId === id);
}

function preview(chat: Chat): string {
  const queued = pendingFor(chat.conv.id);
  if (queued.length) return `Queued: ${textOf(queued[queued.length - 1].body)}`;
  if (chat.typing.size) return "typing…";
  const last = chat.conv.lastMessage;
  if (!last || last.kind.case !== "messagePosted") return chat.conv.kind === ConversationKind.GROUP ? "Group created" : "Say hello 👋";
  const who = last.actorUserId === me ? "You: " : chat.conv.kind === ConversationKind.GROUP ? `${last.actorUserId}: ` : "";
  return who + textOf(last.kind.value.body);
}

function renderList(): void {
  const nav = document.getElementById("conv-list");
  if (!nav) return;
  const sorted = [...chats.values()].sort((a, b) => b.lastActivity - a.lastActivity);
  if (sorted.length === 0) {
    nav.replaceChildren(
      h(
        "div",
        { class: "empty" },
        h("p", {}, "No conversations yet."),
        h("button", { class: "primary", onclick: () => renderNewChat() }, "Start a conversation"),
      ),
    );
    return;
  }
  nav.replaceChildren(
    ...sorted.map((chat) => {
      const c = chat.conv;
      const title = chatTitle(c);
      const isDirect = c.kind === ConversationKind.DIRECT;
      const unread = Number(c.unreadCount);
      const last = c.lastMessage;
      return h(
        "button",
        {
          class: `conv${c.id === activeId ? " active" : ""}${unread ? " has-unread" : ""}`,
          "data-id": c.id,
          "data-title": title,
          onclick: () => void openChat(c.id),
        },
        isDirect ? avatar(title, presence.get(c.peerUserId) ?? false) : h("div", { class: "avatar group", style: `--h:${hue(title)}` }, "#"),
        h(
          "div",
          { class: "conv-main" },
          h("div", { class: "conv-top" }, h("span", { class: "conv-title" }, title), last ? h("span", { class: "conv-time" }, time(last.timestampMs)) : null),
          h(
            "div",
            { class: "conv-bottom" },
            h("span", { class: `conv-preview${chat.typing.size ? " typing" : ""}` }, preview(chat)),
            unread ? h("span", { class: "badge", "data-unread": String(unread) }, unread > 99 ? "99+" : String(unread)) : null,
          ),
        ),
      );
    }),
  );
}

function renderChatPane(): void {
  const pane = document.getElementById("chat");
  if (!pane) return;
  if (!activeId || !chats.get(activeId)) {
    pane.replaceChildren(
      h("div", { class: "placeholder" }, h("div", { class: "logo big" }, "P"), h("p", {}, "Select a conversation or start a new one.")),
    );
    return;
  }
  const id = activeId;
  const input = h("textarea", {
    id: "composer-input",
    rows: "1",
    placeholder: "Message",
    onkeydown: (e: KeyboardEvent) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        submit();
      } else if (e.key === "Escape" && editing) {
        editing = null;
        input.value = "";
        renderComposerMode();
      }
    },
    oninput: () => {
      input.style.height = "auto";
      input.style.height = `${Math.min(140, input.scrollHeight)}px`;
      if (!editing) client?.typing(id, input.value.length > 0);
    },
  });
  const submit = () => {
    const text = input.value.trim();
    if (!text || !client) return;
    input.value = "";
    input.style.height = "auto";
    if (editing) {
      const seq = editing.seq;
      editing = null;
      renderComposerMode();
      client.edit(id, seq, text).catch((e) => toast(`Edit failed: ${describe(e)}`));
      return;
    }
    client.typing(id, false);
    client.send(id, text).catch(() => {}); // failures arrive as sendFailed
    const list = document.getElementById("messages");
    if (list) requestAnimationFrame(() => (list.scrollTop = list.scrollHeight));
  };
  const messages = h("div", {
    id: "messages",
    class: "messages",
    onscroll: () => {
      const chat = chats.get(id);
      const el = document.getElementById("messages")!;
      if (chat && el.scrollTop < 120) void loadOlder(chat);
    },
  });
  pane.replaceChildren(
    h("header", { class: "chat-head", id: "chat-head" }),
    messages,
    h(
      "form",
      {
        class: "composer",
        id: "composer",
        onsubmit: (e: SubmitEvent) => {
          e.preventDefault();
          submit();
        },
      },
      h("div", { id: "composer-mode", class: "composer-mode hidden" }),
      h("div", { class: "composer-row" }, input, h("button", { type: "submit", class: "send", id: "send-button", title: "Send" }, "➤")),
    ),
  );
  renderHeader();
  renderMessages("bottom");
  if (matchMedia("(min-width: 720px)").matches) input.focus();
}

function renderComposerMode(): void {
  const el = document.getElementById("composer-mode");
  if (!el) return;
  el.className = `composer-mode${editing ? "" : " hidden"}`;
  el.replaceChildren(
    editing
      ? h("span", {}, "Editing message · ", h("a", { href: "#", onclick: (e: MouseEvent) => {
          e.preventDefault();
          editing = null;
          (document.getElementById("composer-input") as HTMLTextAreaElement).value = "";
          renderComposerMode();
        } }, "cancel"))
      : "",
  );
}

function renderHeader(): void {
  const head = document.getElementById("chat-head");
  const chat = activeId ? chats.get(activeId) : undefined;
  if (!head || !chat) return;
  const c = chat.conv;
  const title = chatTitle(c);
  const isDirect = c.kind === ConversationKind.DIRECT;
  let sub: string;
  if (chat.typing.size) {
    const names = [...chat.typing.keys()];
    sub = isDirect ? "typing…" : `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…`;
  } else if (isDirect) {
    sub = presence.get(c.peerUserId) ? "online" : "offline";
  } else {
    sub = chat.members.length ? chat.members.join(", ") : `${c.memberCount} members`;
  }
  head.replaceChildren(
    h(
      "button",
      {
        class: "icon back",
        title: "Back",
        onclick: () => {
          activeId = null;
          root.querySelector(".app")?.classList.remove("chat-open");
          renderList();
          renderChatPane();
        },
      },
      "‹",
    ),
    isDirect ? avatar(title, presence.get(c.peerUserId) ?? false) : h("div", { class: "avatar group", style: `--h:${hue(title)}` }, "#"),
    h(
      "div",
      { class: "chat-title" },
      h("div", { class: "title", id: "chat-title" }, title),
      h("div", { class: `sub${chat.typing.size ? " typing" : ""}`, id: "chat-sub" }, sub),
    ),
  );
}

interface Msg {
  seq: bigint;
  author: string;
  text: string;
  at: bigint;
  clientMsgId: string;
  edited: boolean;
  deleted: boolean;
  reactions: Map<string, Set<string>>;
}

type Row = { kind: "msg"; msg: Msg } | { kind: "system"; text: string; seq: bigint } | { kind: "queued"; m: SendMessage };

function rows(chat: Chat): Row[] {
  const out: Row[] = [];
  const bySeq = new Map<bigint, Msg>();
  const posted = new Set<string>();
  const seqs = [...chat.events.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const seq of seqs) {
    const e = chat.events.get(seq)!;
    const k = e.kind;
    switch (k.case) {
      case "messagePosted": {
        const m: Msg = {
          seq,
          author: e.actorUserId,
          text: textOf(k.value.body),
          at: e.timestampMs,
          clientMsgId: k.value.clientMsgId,
          edited: false,
          deleted: false,
          reactions: new Map(),
        };
        bySeq.set(seq, m);
        posted.add(m.clientMsgId);
        out.push({ kind: "msg", msg: m });
        break;
      }
      case "messageEdited": {
        const m = bySeq.get(k.value.targetSeq);
        if (m) {
          m.text = textOf(k.value.body);
          m.edited = true;
        }
        break;
      }
      case "messageDeleted": {
        const m = bySeq.get(k.value.targetSeq);
        if (m) m.deleted = true;
        break;
      }
      case "reactionAdded": {
        const m = bySeq.get(k.value.targetSeq);
        if (m) {
          const set = m.reactions.get(k.value.reaction) ?? new Set();
          set.add(e.actorUserId);
          m.reactions.set(k.value.reaction, set);
        }
        break;
      }
      case "reactionRemoved": {
        const set = bySeq.get(k.value.targetSeq)?.reactions.get(k.value.reaction);
        set?.delete(e.actorUserId);
        break;
      }
      case "conversationCreated":
        out.push({ kind: "system", seq, text: `${e.actorUserId || "Someone"} created ${k.value.kind === ConversationKind.DIRECT ? "this chat" : "the group"}` });
        break;
      case "memberJoined":
        if (k.value.userId !== e.actorUserId || chat.conv.kind !== ConversationKind.DIRECT) {
          if (chat.conv.kind !== ConversationKind.DIRECT) out.push({ kind: "system", seq, text: `${k.value.userId} joined` });
        }
        break;
      case "memberLeft":
        out.push({ kind: "system", seq, text: `${k.value.userId} left` });
        break;
      default:
        break;
    }
  }
  for (const m of pendingFor(chat.conv.id)) if (!posted.has(m.clientMsgId)) out.push({ kind: "queued", m });
  return out;
}

/** Sent, delivered or read, as far as every other member is concerned. */
function tickState(chat: Chat, seq: bigint): "sent" | "delivered" | "read" {
  const others = [...chat.receipts.entries()].filter(([u]) => u !== me);
  if (others.length === 0) return "sent";
  if (others.every(([, r]) => r.read >= seq)) return "read";
  if (others.every(([, r]) => r.delivered >= seq || r.read >= seq)) return "delivered";
  return "sent";
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Status icons as inline SVG, so they look the same whatever fonts the device has. */
function tickIcon(state: "queued" | "sent" | "delivered" | "read"): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", state === "queued" ? "0 0 16 16" : "0 0 20 12");
  svg.setAttribute("class", "tick-icon");
  svg.setAttribute("aria-hidden", "true");
  const paths =
    state === "queued"
      ? ["M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13Z", "M8 4.5V8l2.5 1.5"]
      : state === "sent"
        ? ["M2 6.5l3.5 3.5L12 2.5"]
        : ["M1 6.5l3.5 3.5L11 2.5", "M8 9.5l.5.5L15 2.5"];
  for (const d of paths) {
    const p = document.createElementNS(SVG_NS, "path");
    p.setAttribute("d", d);
    svg.append(p);
  }
  return svg;
}

/**
 * Message elements of the open conversation by key, with a signature of what they show: a
 * re-render reuses unchanged elements, so a receipt or a new message does not rebuild the list
 * under the user's pointer (hover menus, text selection and clicks survive).
 */
let rowCache = new Map<string, { sig: string; el: HTMLElement }>();
let rowCacheChat = "";

/** Makes `parent`'s children exactly `nodes`, touching only what differs. */
function reconcile(parent: HTMLElement, nodes: Node[]): void {
  nodes.forEach((n, i) => {
    const current = parent.childNodes[i];
    if (current !== n) parent.insertBefore(n, current ?? null);
  });
  while (parent.childNodes.length > nodes.length) parent.lastChild!.remove();
}

function renderMessages(scroll?: "bottom"): void {
  const list = document.getElementById("messages");
  const chat = activeId ? chats.get(activeId) : undefined;
  if (!list || !chat) return;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  const prevTop = list.scrollTop;
  const group = chat.conv.kind !== ConversationKind.DIRECT;
  const children: Node[] = [];
  if (rowCacheChat !== chat.conv.id) {
    rowCache = new Map();
    rowCacheChat = chat.conv.id;
  }
  const nextCache = new Map<string, { sig: string; el: HTMLElement }>();
  if (chat.historyLoaded && !chat.hasMore) children.push(h("div", { class: "history-start" }, "This is the beginning of the conversation"));
  else if (chat.loading || !chat.historyLoaded) children.push(h("div", { class: "history-start loading" }, "Loading…"));
  let prevAuthor = "";
  for (const row of rows(chat)) {
    if (row.kind === "system") {
      children.push(h("div", { class: "system", "data-seq": row.seq.toString() }, row.text));
      prevAuthor = "";
      continue;
    }
    if (row.kind === "queued") {
      children.push(
        h(
          "div",
          { class: "msg mine queued", "data-client-id": row.m.clientMsgId },
          h(
            "div",
            { class: "bubble" },
            h("div", { class: "text" }, textOf(row.m.body)),
            h("div", { class: "meta" }, h("span", { class: "ticks queued", "data-state": "queued", title: "Waiting for the network" }, tickIcon("queued"))),
          ),
        ),
      );
      continue;
    }
    const m = row.msg;
    const mine = m.author === me;
    const state = mine ? tickState(chat, m.seq) : null;
    const reactions = [...m.reactions.entries()].filter(([, s]) => s.size > 0);
    const cont = prevAuthor === m.author;
    prevAuthor = m.author;
    const sig = JSON.stringify([m.text, m.edited, m.deleted, state, cont, reactions.map(([r, u]) => [r, [...u].sort()])]);
    const key = `m${m.seq}`;
    const cached = rowCache.get(key);
    if (cached && cached.sig === sig) {
      children.push(cached.el);
      nextCache.set(key, cached);
      continue;
    }
    const actions = m.deleted
      ? null
      : h(
          "div",
          { class: "actions" },
          ...["👍", "❤️", "😂"].map((r) =>
            h("button", {
              class: "react",
              title: `React ${r}`,
              "data-reaction": r,
              onclick: () => {
                const mineAlready = m.reactions.get(r)?.has(me);
                const op = mineAlready ? client?.unreact(chat.conv.id, m.seq, r) : client?.react(chat.conv.id, m.seq, r);
                op?.catch((e) => toast(describe(e)));
              },
            }, r),
          ),
          mine
            ? h("button", {
                class: "edit",
                title: "Edit",
                onclick: () => {
                  editing = { seq: m.seq };
                  const input = document.getElementById("composer-input") as HTMLTextAreaElement;
                  input.value = m.text;
                  input.focus();
                  renderComposerMode();
                },
              }, "✎")
            : null,
          mine
            ? h("button", {
                class: "delete",
                title: "Delete",
                onclick: () => {
                  if (confirm("Delete this message for everyone?")) client?.delete(chat.conv.id, m.seq).catch((e) => toast(describe(e)));
                },
              }, "🗑")
            : null,
        );
    const el = h(
        "div",
        {
          class: `msg${mine ? " mine" : ""}${m.deleted ? " deleted" : ""}${cont ? " cont" : ""}`,
          "data-seq": m.seq.toString(),
          "data-author": m.author,
          "data-client-id": m.clientMsgId,
          tabindex: "0",
        },
        group && !mine && !cont ? h("div", { class: "author", style: `--h:${hue(m.author)}` }, m.author) : null,
        h(
          "div",
          { class: "bubble" },
          h("div", { class: "text" }, m.deleted ? "This message was deleted" : m.text),
          h(
            "div",
            { class: "meta" },
            m.edited && !m.deleted ? h("span", { class: "edited" }, "edited") : null,
            h("span", { class: "time" }, time(m.at)),
            state ? h("span", { class: `ticks ${state}`, "data-state": state, title: state }, tickIcon(state)) : null,
          ),
          actions,
        ),
        reactions.length
          ? h(
              "div",
              { class: "reactions" },
              ...reactions.map(([r, users]) =>
                h("span", { class: `chip${users.has(me) ? " mine" : ""}`, "data-reaction": r, title: [...users].join(", ") }, `${r} ${users.size}`),
              ),
            )
          : null,
      );
    children.push(el);
    nextCache.set(key, { sig, el });
  }
  rowCache = nextCache;
  reconcile(list, children);
  if (scroll === "bottom" || atBottom) list.scrollTop = list.scrollHeight;
  else list.scrollTop = prevTop;
}

// ---------------------------------------------------------------------------------------------
// New conversation
// ---------------------------------------------------------------------------------------------

function renderNewChat(): void {
  const modal = document.getElementById("modal");
  if (!modal) return;
  const people = h("input", { id: "new-people", placeholder: "Names, comma-separated (e.g. bob, carol)", autocapitalize: "off", spellcheck: "false" });
  const title = h("input", { id: "new-title", placeholder: "Group name (for two or more people)" });
  const error = h("p", { class: "error" });
  const close = () => modal.replaceChildren();
  const form = h(
    "form",
    {
      class: "dialog",
      onsubmit: async (e: SubmitEvent) => {
        e.preventDefault();
        const names = [...new Set(people.value.split(",").map((s) => s.trim()).filter((s) => s && s !== me))];
        if (!names.length || !client) return;
        try {
          let conv: Conversation;
          if (names.length === 1 && !title.value.trim()) {
            conv = (await client.openDirect(names[0])).conversation!;
          } else {
            conv = await client.createGroup(title.value.trim() || [me, ...names].join(", "), names);
          }
          upsertConversation(conv, true);
          void client.subscribePresence(peersToFollow());
          close();
          void openChat(conv.id);
        } catch (err) {
          error.textContent = describe(err);
        }
      },
    },
    h("h2", {}, "New conversation"),
    h("label", {}, "With", people),
    h("label", {}, "Group name", title),
    error,
    h("div", { class: "dialog-buttons" }, h("button", { type: "button", onclick: close }, "Cancel"), h("button", { type: "submit", class: "primary", id: "new-submit" }, "Start")),
  );
  modal.replaceChildren(h("div", { class: "backdrop", onclick: (e: MouseEvent) => e.target === e.currentTarget && close() }, form));
  people.focus();
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

const saved = localStorage.getItem(SESSION_KEY);
if (saved) {
  me = saved;
  startClient(saved);
} else {
  renderSignIn();
}
