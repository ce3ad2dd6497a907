// End-to-end scenarios of the demo chat app in real headless Chromium (Debian's chromium driven by
// playwright-core), against a running Parley server in development mode.
//
//   node test/e2e/chat.mjs --url http://127.0.0.1:8080 [--screenshots DIR]
//
// Exits non-zero when a scenario fails. Run by parley-server's BrowserChatIT, which starts a real
// server first; CHROMIUM overrides the browser binary (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const BASE = opt("url", "http://127.0.0.1:8080");
const SHOTS = opt("screenshots", "target/screenshots");
const TIMEOUT = 15_000;
const PHONE = { width: 390, height: 780 };
const DESKTOP = { width: 1180, height: 760 };

await mkdir(SHOTS, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // playwright-core gives every launch a fresh temporary profile (--user-data-dir).
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const pageErrors = [];
const users = [];
let passed = 0;
let failed = 0;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function scenario(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    for (const u of users) {
      if (u.page && !u.page.isClosed()) await shot(u.page, `failed-${u.name}`).catch(() => {});
    }
    console.log(`not ok - ${name} (${Date.now() - started} ms)\n  ${String(e?.stack ?? e).replaceAll("\n", "\n  ")}`);
    throw e;
  }
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** A user with their own browser context (own IndexedDB and localStorage), like a separate device. */
async function user(name, viewport, encoding = "") {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  context.setDefaultTimeout(TIMEOUT);
  const u = { name, context, page: null, encoding };
  users.push(u);
  u.page = await openPage(u);
  return u;
}

async function openPage(u) {
  const page = await u.context.newPage();
  page.on("pageerror", (e) => pageErrors.push(`${u.name}: ${e.message}`));
  page.on("dialog", (d) => d.accept());
  page.on("console", (m) => m.type() === "warning" || m.type() === "error" ? console.log(`  [${u.name} console] ${m.text()}`) : undefined);
  await page.goto(BASE + (u.encoding ? `/?encoding=${u.encoding}` : "/"));
  return page;
}

async function signIn(u) {
  await u.page.fill("#signin-name", u.name);
  await u.page.click("#signin-button");
  await connected(u.page);
}

async function connected(page) {
  await page.waitForSelector('#conn-state[data-state="connected"]');
}

async function openConversation(page, title) {
  await page.click(`.conv[data-title="${title}"]`);
  await page.waitForSelector(`#chat-title:text-is("${title}")`);
}

async function newConversation(page, people, title = "") {
  await page.click("#new-chat");
  await page.fill("#new-people", people.join(", "));
  if (title) await page.fill("#new-title", title);
  await page.click("#new-submit");
  await page.waitForSelector(`#chat-title:text-is("${title || people[0]}")`);
}

async function send(page, text) {
  await page.fill("#composer-input", text);
  await page.press("#composer-input", "Enter");
}

/** Texts of the acknowledged messages in the open conversation, in display order. */
function texts(page) {
  return page.$$eval(".msg:not(.queued) .text", (els) => els.map((e) => e.textContent));
}

async function waitForText(page, text) {
  await page.waitForSelector(`.msg:not(.queued) .text:text-is("${text}")`);
}

async function goBack(page) {
  // On a phone the list and the chat are separate screens.
  if (await page.isVisible(".back")) await page.click(".back");
}

const alice = await user("alice", DESKTOP);
const bob = await user("bob", PHONE);
// carol's client speaks the JSON subprotocol; the others binary protobuf.
const carol = await user("carol", DESKTOP, "json");

try {
  await scenario("sign in as any name (protobuf and JSON subprotocols)", async () => {
    await alice.page.waitForSelector("#signin-name");
    await shot(alice.page, "01-sign-in");
    // Users exist once they have signed in, so everyone signs in before being invited.
    await signIn(bob);
    await signIn(carol);
    await signIn(alice);
    const sub = (u) => u.page.getAttribute("#conn-state", "data-subprotocol");
    check((await sub(alice)) === "parley.v1.proto", `alice speaks ${await sub(alice)}`);
    check((await sub(carol)) === "parley.v1.json", `carol speaks ${await sub(carol)}`);
  });

  await scenario("alice and bob chat both ways, with typing, presence, ticks, reactions, edit and delete", async () => {
    await newConversation(alice.page, ["bob"]);
    await send(alice.page, "Hi Bob 👋");
    await waitForText(alice.page, "Hi Bob 👋");
    // Bob's conversation list shows the new chat with an unread badge and the last message.
    await bob.page.waitForSelector('.conv[data-title="alice"] .badge[data-unread="1"]');
    const preview = await bob.page.textContent('.conv[data-title="alice"] .conv-preview');
    check(preview === "Hi Bob 👋", `bob's list preview is '${preview}'`);
    await shot(bob.page, "02-conversation-list-phone");
    await openConversation(bob.page, "alice");
    await waitForText(bob.page, "Hi Bob 👋");
    // Bob read it: alice's message turns to read ticks, and bob's badge is gone.
    await alice.page.waitForSelector('.msg.mine .ticks[data-state="read"]');
    await alice.page.waitForSelector('.conv[data-title="bob"] .dot[data-presence="online"]');

    await bob.page.fill("#composer-input", "Hey");
    await bob.page.type("#composer-input", " Alice");
    await alice.page.waitForSelector('#chat-sub:text-is("typing…")');
    await bob.page.press("#composer-input", "Enter");
    await waitForText(alice.page, "Hey Alice");
    await send(alice.page, "Lunch at noon?");
    await waitForText(bob.page, "Lunch at noon?");
    await send(bob.page, "Sure, see you there");
    await waitForText(alice.page, "Sure, see you there");

    // React to bob's message; edit and delete one of alice's.
    const bobsMessage = alice.page.locator('.msg[data-author="bob"]').last();
    await bobsMessage.hover();
    await bobsMessage.locator('button.react[data-reaction="👍"]').click();
    await bob.page.waitForSelector('.msg.mine .chip[data-reaction="👍"]');
    const lunch = alice.page.locator('.msg.mine:has(.text:text-is("Lunch at noon?"))');
    await lunch.hover();
    await lunch.locator("button.edit").click();
    await alice.page.fill("#composer-input", "Lunch at 12:30?");
    await alice.page.press("#composer-input", "Enter");
    await bob.page.waitForSelector('.msg:has(.text:text-is("Lunch at 12:30?")) .edited');
    await send(alice.page, "oops, wrong chat");
    await waitForText(bob.page, "oops, wrong chat");
    const oops = alice.page.locator('.msg.mine:has(.text:text-is("oops, wrong chat"))');
    await oops.hover();
    await oops.locator("button.delete").click();
    await bob.page.waitForSelector('.msg.deleted .text:text-is("This message was deleted")');
    check(!(await texts(bob.page)).includes("oops, wrong chat"), "the deleted text is still shown to bob");
    await shot(alice.page, "03-direct-chat-desktop");
    await shot(bob.page, "04-direct-chat-phone");
  });

  await scenario("a group of three", async () => {
    await newConversation(alice.page, ["bob", "carol"], "Weekend trip");
    await send(alice.page, "Who's in for the mountains?");
    await carol.page.waitForSelector('.conv[data-title="Weekend trip"] .badge[data-unread="1"]');
    await openConversation(carol.page, "Weekend trip");
    await waitForText(carol.page, "Who's in for the mountains?");
    await send(carol.page, "Me! 🏔️");
    await goBack(bob.page);
    await bob.page.waitForSelector('.conv[data-title="Weekend trip"] .badge[data-unread="2"]');
    await openConversation(bob.page, "Weekend trip");
    await waitForText(bob.page, "Me! 🏔️");
    await send(bob.page, "Count me in");
    const expected = ["Who's in for the mountains?", "Me! 🏔️", "Count me in"];
    for (const u of [alice, bob, carol]) {
      await waitForText(u.page, "Count me in");
      const got = await texts(u.page);
      check(JSON.stringify(got) === JSON.stringify(expected), `${u.name} sees ${JSON.stringify(got)}`);
    }
    await alice.page.waitForSelector('.msg[data-author="carol"] .author');
    await shot(alice.page, "05-group-chat");
  });

  await scenario("bob is offline while alice sends 20; he gets all 20 in order, the unread count, and alice the read ticks", async () => {
    await goBack(bob.page);
    await bob.page.close();
    await openConversation(alice.page, "bob");
    await alice.page.waitForSelector('.conv[data-title="bob"] .dot[data-presence="offline"]');
    const batch = Array.from({ length: 20 }, (_, i) => `Update ${i + 1} of 20`);
    for (const text of batch) await send(alice.page, text);
    await waitForText(alice.page, batch[19]);
    const last = alice.page.locator('.msg.mine:has(.text:text-is("Update 20 of 20")) .ticks');
    check((await last.getAttribute("data-state")) === "sent", "a message to an offline device shows delivered");

    bob.page = await openPage(bob); // the session survives in the browser: no sign-in
    await connected(bob.page);
    await bob.page.waitForSelector('.conv[data-title="alice"] .badge[data-unread="20"]');
    await shot(bob.page, "06-back-online-unread");
    await openConversation(bob.page, "alice");
    await waitForText(bob.page, batch[19]);
    const got = (await texts(bob.page)).filter((t) => t.startsWith("Update "));
    check(JSON.stringify(got) === JSON.stringify(batch), `bob sees ${JSON.stringify(got)}`);
    await alice.page.waitForSelector('.msg.mine:has(.text:text-is("Update 20 of 20")) .ticks[data-state="read"]');
    const ticks = await alice.page.$$eval('.msg.mine .ticks', (els) => els.map((e) => e.getAttribute("data-state")));
    check(ticks.every((t) => t === "read"), `alice's ticks after bob read: ${ticks}`);
    await goBack(bob.page);
    await bob.page.waitForSelector('.conv[data-title="alice"]:not(.has-unread)');
  });

  await scenario("a message sent while offline is queued, then delivered exactly once", async () => {
    await openConversation(bob.page, "alice");
    await alice.context.setOffline(true);
    await alice.page.waitForSelector('#banner[data-state="offline"]');
    await send(alice.page, "Sent from the tunnel");
    await alice.page.waitForSelector('.msg.queued .ticks[data-state="queued"]');
    await shot(alice.page, "07-offline-queued");
    await alice.context.setOffline(false);
    await waitForText(alice.page, "Sent from the tunnel");
    await alice.page.waitForSelector(".msg.queued", { state: "detached" });
    await waitForText(bob.page, "Sent from the tunnel");

    // Queued, then the tab is closed before the network returns: the outbox lives in IndexedDB.
    await alice.context.setOffline(true);
    await alice.page.waitForSelector('#banner[data-state="offline"]');
    await send(alice.page, "Queued across a reload");
    await alice.page.waitForSelector('.msg.queued');
    await alice.page.waitForTimeout(300); // the outbox write is one small IndexedDB transaction
    await alice.page.close();
    await alice.context.setOffline(false);
    alice.page = await openPage(alice);
    await connected(alice.page);
    await waitForText(bob.page, "Queued across a reload");
    await bob.page.waitForTimeout(500); // a duplicate would arrive within this window
    for (const text of ["Sent from the tunnel", "Queued across a reload"]) {
      const n = (await texts(bob.page)).filter((t) => t === text).length;
      check(n === 1, `bob sees '${text}' ${n} times`);
    }
  });

  await scenario("a page reload keeps the history, and scrolling up pages back to the start", async () => {
    await bob.page.reload();
    await connected(bob.page);
    await openConversation(bob.page, "alice");
    await waitForText(bob.page, "Queued across a reload");
    // Older messages come in pages as the view scrolls up, until the start of the conversation.
    for (let i = 0; i < 20 && !(await bob.page.isVisible(".history-start:text-is('This is the beginning of the conversation')")); i++) {
      await bob.page.$eval("#messages", (el) => (el.scrollTop = 0));
      await bob.page.waitForTimeout(150);
    }
    await waitForText(bob.page, "Hi Bob 👋");
    const got = await texts(bob.page);
    check(new Set(got).size === got.length, `duplicates after reload: ${JSON.stringify(got)}`);
    check(got[0] === "Hi Bob 👋" && got.at(-1) === "Queued across a reload", `history after reload: ${JSON.stringify(got)}`);
    await shot(bob.page, "08-after-reload-phone");
  });

  check(pageErrors.length === 0, `uncaught errors in the pages: ${pageErrors.join("; ")}`);
} catch (e) {
  if (failed === 0) {
    failed++;
    console.log(`not ok - ${e?.message ?? e}`);
  }
} finally {
  await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}
