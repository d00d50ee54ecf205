import type { CloseRecord, DropReason, SendResult, SocketErrorCode, StateName, WireData } from '../index.js';

/**
 * What the handles of one shared connection say to each other over their BroadcastChannel. Every message names
 * its sender (`from`): a handle id for `hello` and `send`, and for what a leader says, the id of its leadership
 * (new each time a handle leads). The ones meant for one handle name it in `to`; a `send` names the leadership
 * it is for. All of it is structured-clone data: errors travel as `{ code, message }` and are rebuilt on arrival.
 */
export type Relay =
  /** A handle joined: the leader answers with `leader`. */
  | { readonly t: 'hello'; readonly from: string }
  /**
   * The leader took over (or answers `hello`): its leadership id, when it began on the clock every tab shares
   * (`since`, which orders leaderships), and the state of its connection.
   */
  | { readonly t: 'leader'; readonly from: string; readonly since: number; readonly state: StateName; readonly attempt: number; readonly protocol: string }
  /** The leader leaves (close, dispose, pagehide): its connection is going away; the next leader follows. */
  | { readonly t: 'retire'; readonly from: string }
  /** An event of the leader's connection, for every handle (`message` and `drop` have their own kinds). */
  | { readonly t: 'event'; readonly from: string; readonly type: RelayedType; readonly event: unknown; readonly attempt: number }
  /** A message from the server, numbered per leadership (`from`) so that each handle delivers it once and in order. */
  | { readonly t: 'message'; readonly from: string; readonly seq: number; readonly data: unknown }
  /** A follower's message for the leader to send; `ttlMs` is what is left of its time-to-live. */
  | { readonly t: 'send'; readonly from: string; readonly to: string; readonly id: number; readonly data: WireData; readonly ttlMs: number | undefined }
  /** What the leader's `send()` did with message `id` of handle `to`. */
  | { readonly t: 'ack'; readonly from: string; readonly to: string; readonly id: number; readonly result: SendResult }
  /** Message `id` of handle `to`, accepted earlier, was dropped. */
  | { readonly t: 'drop'; readonly from: string; readonly to: string; readonly id: number; readonly reason: DropReason }
  /** The leader's queue was flushed: every message it accepted is settled except `pending` ([handle, id] pairs). */
  | { readonly t: 'flushed'; readonly from: string; readonly pending: readonly (readonly [string, number])[] }
  /** The leader leaves with messages of handle `to` still queued: they go back to it, to be sent by the next leader. */
  | { readonly t: 'returned'; readonly from: string; readonly to: string; readonly ids: readonly number[] };

/** The connection events relayed as they are (after their errors are made cloneable). */
export type RelayedType = 'state' | 'open' | 'close' | 'error' | 'reconnecting' | 'hold' | 'heartbeat';

/** A `SocketError` as it crosses the channel. */
export interface ErrorSummary {
  readonly code: SocketErrorCode;
  readonly message: string;
}

/**
 * The channel and lock name of a shared connection: one per (url, key). A URL is compared as written after
 * `new URL()` normalisation, so `ws://h/` and `ws://h` share.
 */
export function sharedName(url: string | URL | undefined, key: string): string {
  return `resilient-websocket:${JSON.stringify([url === undefined ? null : new URL(String(url)).href, key])}`;
}

/** Where a follower is in the numbered message stream of the current leader. */
export interface Cursor {
  readonly leader: string | undefined;
  readonly next: number;
}

/**
 * Whether message `seq` from `leader` is delivered, and the cursor after it. A new leader starts a new stream;
 * a number already seen is a duplicate; a gap (only possible if the channel lost messages) is skipped over,
 * with `gap` set so it can be reported.
 */
export function acceptMessage(cursor: Cursor, leader: string, seq: number): { deliver: boolean; cursor: Cursor; gap: number } {
  if (cursor.leader !== leader) return { deliver: true, cursor: { leader, next: seq + 1 }, gap: 0 };
  if (seq < cursor.next) return { deliver: false, cursor, gap: 0 };
  return { deliver: true, cursor: { leader, next: seq + 1 }, gap: seq - cursor.next };
}

/** Copies a close record so it can cross the channel (its error becomes a summary). */
export function cloneableClose<T extends CloseRecord>(record: T): T {
  const error = record.error;
  return (error ? { ...record, error: { code: error.code, message: error.message } } : { ...record }) as T;
}

/**
 * Now, on a clock every tab of the origin shares (High Resolution Time's time origin plus `now()`): a leadership
 * that began later reads a larger value, whichever tab it is in.
 */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A random handle id. */
export function handleId(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}
