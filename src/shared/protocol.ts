import type { DropReason, SendResult, StateName, WireData } from '../index.js';
import type { ResumeSnapshot } from '../resume/types.js';

/**
 * What the handles of one shared connection say to each other over their BroadcastChannel. A handle has an id
 * (`from`, `to`); each time a handle leads, its leadership gets an id of its own (`l`), which everything the
 * leader says carries and every `send` is addressed to: what was meant for an earlier leadership of a tab is
 * never taken for a later one. All of it is structured-clone data: errors travel as `{ code, message }`.
 */
export type Relay =
  /** A handle joined, came back, or lost its leader: the leader answers with `leader`. */
  | { readonly t: 'hello' }
  /** A leadership began (or answers `hello`): when, on the clock all tabs share, and the state of its connection. */
  | { readonly t: 'leader'; readonly l: number; readonly since: number; readonly state: StateName; readonly attempt: number; readonly protocol: string }
  /**
   * The leadership ends (close, dispose, pagehide): said last, after every answer. A resumable connection hands
   * its session over (`s`): the next leadership continues it.
   */
  | { readonly t: 'retire'; readonly l: number; readonly s?: Handover }
  /** An event of the leader's connection, for every handle; `message` carries the server's wire data. */
  | { readonly t: 'event'; readonly l: number; readonly type: RelayedType; readonly event: any; readonly attempt: number }
  /** Handle `from`'s message `id` for leadership `to` to send; `ttlMs` is what is left of its time-to-live. */
  | { readonly t: 'send'; readonly from: number; readonly to: number; readonly id: number; readonly data: WireData; readonly ttlMs: number | undefined }
  /** What leadership `l` did with message `id` of handle `to`; `w`: it had been written (a drop of a resumable connection). */
  | { readonly t: 'ack'; readonly l: number; readonly to: number; readonly id: number; readonly result: Answer; readonly w?: boolean };

/** An announcement: a leadership began, or answers a `hello`. */
export type Announcement = Extract<Relay, { t: 'leader' }>;

/** The connection events relayed to every handle. */
export type RelayedType = 'state' | 'open' | 'close' | 'error' | 'reconnecting' | 'hold' | 'heartbeat' | 'message';

/**
 * A leader's answer for a message: its socket's `send()` result; `sent` once a queued one went out; a drop reason
 * when its queue dropped it (or, resumable, `lost`); `back` when it leaves with the message still queued (the next
 * leader sends it). A resumable connection also answers `delivered` (the server acknowledged it) and `adopted`
 * (a leadership that continues the session holds the message now, from the `retire` of the one before).
 */
export type Answer = SendResult | DropReason | 'lost' | 'back' | 'delivered' | 'adopted';

/**
 * How long a handle waits for the last words (`retire`) of a leader that is gone before it takes it as crashed:
 * it then sends again what that leader had not answered for (with a resumable `Socket`: drops it, `lost`, and a
 * tab that got the lock leads without its session).
 */
export const RETIRE_GRACE_MS = 500;

/** A message in the leader's connection: whose it is (a handle id), its number there, and its encoded form. */
export interface Envelope {
  readonly tab: number;
  readonly id: number;
  readonly data: WireData;
}

/** A resumable connection's session and the messages it holds, handed from one leadership to the next. */
export type Handover = ResumeSnapshot<Envelope>;

/**
 * The channel and lock name of a shared connection: one per (url, key). A URL is compared as written after
 * `new URL()` normalisation, so `ws://h/` and `ws://h` share.
 */
export function sharedName(url: string | URL | undefined, key: string): string {
  return `resilient-websocket:${JSON.stringify([url === undefined ? null : new URL(String(url)).href, key])}`;
}

/**
 * Now, on the clock every tab of the origin shares (High Resolution Time: time origin plus `now()`): a leadership
 * that began later reads a larger value, whichever tab it is in.
 */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

/** An event with its `error` (a `SocketError`, on `error` events and close records) made cloneable. */
export function cloneable(event: any): unknown {
  const error = event.error;
  return error ? { ...event, error: { code: error.code, message: error.message } } : event;
}
