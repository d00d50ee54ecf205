/** A message the server keeps for resending, as the store holds it. */
export interface StoredMessage {
  /** The payload: text as a string (or bytes with `binary: false`), binary as bytes. */
  readonly data: string | Uint8Array;
  readonly binary: boolean;
  /** When it was sent (`Date.now()`), for `maxAgeMs`. */
  readonly at: number;
}

/**
 * A session while no connection holds it: everything a server needs to continue it. Plain data, so a store on
 * a database can serialise it (`identity` must then be serialisable too: a user id, say).
 */
export interface SessionRecord {
  /** The session's id: a hash of its token (the token itself is never stored). */
  readonly id: string;
  /** What `identify()` returned for the connection that created the session. */
  readonly identity: unknown;
  /** The application subprotocol the session runs ('' if none). */
  readonly protocol: string;
  /** When the session expires (`Date.now()` scale); a store may forget it then. */
  readonly expiresAt: number;
  /** Data messages received from the client. */
  readonly received: number;
  /** The highest count of server messages the client acknowledged. */
  readonly acknowledged: number;
  /** The sequence number of `messages[0]`; `first + messages.length` is the next one. */
  readonly first: number;
  /** Messages sent and not yet acknowledged, oldest first. */
  readonly messages: readonly StoredMessage[];
}

/**
 * Where sessions wait while no connection holds them. The server helper parks a session here when its
 * connection ends (and again after every change while it waits), and claims it back when a client resumes it.
 * Methods may return promises: a store on a shared database (Redis, SQL) lets any server behind a load balancer
 * resume a session another one parked. The contract:
 *
 * - `set` creates or replaces the record (by `id`).
 * - `get` returns the record, or `undefined` once it was deleted or expired.
 * - `delete` removes it and says whether it was there. It is the claim: of several servers deleting the same id,
 *   exactly one must get `true` (Redis `DEL` returning 1, SQL `DELETE` with a row count of 1), and only that one
 *   continues the session (or, at `expiresAt`, ends it and reports what it held as dropped).
 * - Keep a record until it is deleted, or at least a while past `expiresAt` (the server that parked it deletes it
 *   at `expiresAt`; a record already gone then reads as taken by another server, and its drops go unreported).
 *
 * Calls for one session never overlap: each waits for the previous one of the same server.
 */
export interface SessionStore {
  get(id: string): SessionRecord | undefined | Promise<SessionRecord | undefined>;
  set(record: SessionRecord): void | Promise<void>;
  delete(id: string): boolean | Promise<boolean>;
}

/**
 * The default store: a `Map` in this process. Sessions survive their connections, not the process; servers in
 * one process that share the instance can resume each other's sessions. `get` hides a record once it expires;
 * an unref'd timer (it never keeps the process alive) forgets it `GRACE_MS` later unless it was deleted.
 */
export class MemoryStore implements SessionStore {
  readonly #records = new Map<string, { record: SessionRecord; timer: ReturnType<typeof setTimeout> }>();

  /** How many sessions the store holds. */
  get size(): number {
    return this.#records.size;
  }

  get(id: string): SessionRecord | undefined {
    const held = this.#records.get(id);
    return held && held.record.expiresAt > Date.now() ? held.record : undefined;
  }

  set(record: SessionRecord): void {
    this.delete(record.id);
    const timer = setTimeout(() => this.delete(record.id), Math.max(0, Math.min(record.expiresAt + GRACE_MS - Date.now(), 2_147_483_647)));
    timer.unref?.();
    this.#records.set(record.id, { record, timer });
  }

  delete(id: string): boolean {
    const held = this.#records.get(id);
    if (!held) return false;
    clearTimeout(held.timer);
    this.#records.delete(id);
    return true;
  }
}

/** How long past `expiresAt` the memory store keeps a record it was not asked to delete. */
const GRACE_MS = 10_000;
