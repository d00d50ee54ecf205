import type { DropReason, RawMessage, ReconnectingSocketOptions, SocketError, SocketEvents, SocketOpenEvent, WireData } from '../index.js';
import type { ResumeError } from './errors.js';

/**
 * How the server answered on this connection:
 * - `new`: a fresh session (the first connection, or one after a session ended);
 * - `resumed`: the session of the previous connection continued (`recovered: true`);
 * - `unknown`: the server no longer has the session (it expired, ended, or the server restarted): a fresh one;
 * - `refused`: the server has the session but would not let this connection resume it: a fresh one;
 * - `unsupported`: the server did not agree to the resume protocol: this connection runs plain, as a
 *   `ReconnectingSocket` would.
 */
export type ResumeOutcome = 'new' | 'resumed' | 'unknown' | 'refused' | 'unsupported';

/** Payload of `open`: the core's, and what became of the session. */
export interface ResumeOpenEvent extends SocketOpenEvent {
  /** The session of the previous connection continued: nothing it held was lost in either direction but what `missed` and the `drop` events say. */
  readonly recovered: boolean;
  readonly resume: ResumeOutcome;
  /**
   * Server messages of a recovered session that the server could no longer resend (its buffer overflowed or
   * they expired while you were away): you will never see them; the server reported each with its own `drop`.
   */
  readonly missed: number;
}

/**
 * Why a message will not be resent: the core's reasons, and `lost` (the server no longer has the session: it
 * expired, the server restarted, or it now runs without the resume protocol).
 */
export type ResumeDropReason = DropReason | 'lost';

/** Payload of `drop`: a message that was not delivered, or whose delivery can no longer be confirmed. */
export interface ResumeDropEvent<Out> {
  readonly message: Out;
  readonly reason: ResumeDropReason;
  /** It had been written to a connection: it may have arrived; the server never acknowledged it. */
  readonly wasSent: boolean;
}

/** Payload of `delivered`: the server acknowledged the message. */
export interface ResumeDeliveredEvent<Out> {
  readonly message: Out;
}

/** Payload of `error`. */
export interface ResumeErrorEvent {
  readonly error: SocketError | ResumeError;
}

/** Every event of a `ResumableSocket` and its payload. */
export type ResumeSocketEvents<In, Out> = Omit<SocketEvents<In, Out>, 'open' | 'drop' | 'error'> & {
  open: ResumeOpenEvent;
  drop: ResumeDropEvent<Out>;
  delivered: ResumeDeliveredEvent<Out>;
  error: ResumeErrorEvent;
};

/**
 * What `handOff()` returns: the session and every message it still held, for another `ResumableSocket` to
 * continue (`resume: { session }`). Plain data: it survives structured clone (a BroadcastChannel, IndexedDB)
 * when the messages do.
 */
export interface ResumeSnapshot<Out = unknown> {
  /** The session's token; `undefined` when there was none yet (the new socket then starts a fresh one). */
  readonly token: string | undefined;
  /** Server messages received in the session. */
  readonly received: number;
  /** The sequence number of `sent[0]`. */
  readonly base: number;
  /** Written and not yet acknowledged, oldest first: the new socket resends them. */
  readonly sent: readonly { readonly message: Out; readonly data: WireData }[];
  /** Not yet written, oldest first. */
  readonly unsent: readonly { readonly message: Out; readonly data: WireData }[];
}

/** The resume protocol's own settings. */
export interface ResumeOptions<Out = unknown> {
  /**
   * How long a received message may wait for its acknowledgement, in milliseconds: acknowledgements are
   * cumulative and go out on this timer, or at once after `ackEvery` messages (or 256 KiB).
   * @default 100
   */
  ackDelayMs?: number;
  /**
   * Acknowledge at once after this many unacknowledged messages.
   * @default 64
   */
  ackEvery?: number;
  /**
   * A session handed over by another socket's `handOff()`: the first connection resumes it, and its messages
   * are held (and resent) by this socket.
   * @default undefined
   */
  session?: ResumeSnapshot<Out>;
}

/**
 * Every `ReconnectingSocket` option, plus `resume`. The `queue` group bounds everything the socket holds: the
 * messages not yet written and the ones written and not yet acknowledged, together (`maxMessages`, `maxBytes`,
 * `overflow`, and `ttlMs`, which here is the time a message has to be delivered, acknowledgement included).
 */
export type ResumableSocketOptions<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> = ReconnectingSocketOptions<In, Out> & {
  /** The resume protocol's settings. */
  resume?: ResumeOptions<Out>;
};
