/**
 * What a client keeps across page loads: the device id, the sync cursor, its position in each
 * conversation, which conversations are channels, and the outbox (serialized SendMessages).
 */
export interface PersistedState {
  deviceId: string;
  syncCursor: string;
  /** conversation id → last delivered seq (decimal string: portable across storage engines). */
  positions: Record<string, string>;
  channels: string[];
}

/** Where a client keeps {@link PersistedState} and its outbox. */
export interface ClientStorage {
  load(): Promise<{ state: PersistedState | null; outbox: Uint8Array[] }>;
  saveState(state: PersistedState): Promise<void>;
  saveOutbox(messages: Uint8Array[]): Promise<void>;
  close(): void;
}

/** Keeps nothing beyond the page's lifetime (tests, or apps that want no persistence). */
export class MemoryStorage implements ClientStorage {
  private state: PersistedState | null = null;
  private outbox: Uint8Array[] = [];
  async load() {
    return { state: this.state, outbox: this.outbox };
  }
  async saveState(state: PersistedState) {
    this.state = structuredClone(state);
  }
  async saveOutbox(messages: Uint8Array[]) {
    this.outbox = messages.slice();
  }
  close() {}
}

const STORE = "kv";

/**
 * Keeps the state in an IndexedDB database (one per `name`, e.g. per signed-in user), so a page
 * reload neither loses pending sends nor replays events already shown. The outbox write
 * completes (transaction `complete`) before the client transmits the message, the same rule the
 * Java SDK follows with its state directory.
 */
export class IndexedDbStorage implements ClientStorage {
  private db: Promise<IDBDatabase> | null = null;

  constructor(private readonly name: string) {}

  private open(): Promise<IDBDatabase> {
    if (!this.db) {
      this.db = new Promise((resolve, reject) => {
        const req = indexedDB.open(this.name, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
        req.onblocked = () => reject(new Error(`IndexedDB ${this.name} is blocked by another tab`));
      });
    }
    return this.db;
  }

  async load() {
    const db = await this.open();
    const tx = db.transaction(STORE, "readonly");
    const store = tx.objectStore(STORE);
    const [state, outbox] = await Promise.all([
      request<PersistedState | undefined>(store.get("state")),
      request<Uint8Array[] | undefined>(store.get("outbox")),
    ]);
    return { state: state ?? null, outbox: outbox ?? [] };
  }

  saveState(state: PersistedState) {
    return this.put("state", state);
  }

  saveOutbox(messages: Uint8Array[]) {
    return this.put("outbox", messages);
  }

  private async put(key: string, value: unknown): Promise<void> {
    const db = await this.open();
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).put(value, key);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
    });
  }

  close() {
    this.db?.then((db) => db.close()).catch(() => {});
    this.db = null;
  }
}

function request<T>(req: IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result as T);
    req.onerror = () => reject(req.error);
  });
}
