import type { SocketError } from './errors.js';
import type { CloseRecord, Hold, StateName } from './machine.js';

/** Payload of `open`. */
export interface SocketOpenEvent {
  /** Retries it took since the last stable connection (0 for a first connection). */
  readonly attempt: number;
  /** The subprotocol the server selected ('' if none). */
  readonly protocol: string;
}

/** Payload of `message`: the decoded message. */
export interface SocketMessageEvent<In> {
  readonly data: In;
}

/**
 * Payload of `close`: how the connection ended, and what happens next. Exactly one per attempt that started
 * (the url provider was called, or the inner WebSocket created); none for an attempt that never began.
 */
export interface SocketCloseEvent extends CloseRecord {
  /** A new attempt will follow (now, after `delayMs`, or when a held retry is released). */
  readonly willReconnect: boolean;
  /** Milliseconds until the next attempt; `undefined` when none is scheduled. */
  readonly delayMs: number | undefined;
}

/** Payload of `error`. */
export interface SocketErrorEvent {
  readonly error: SocketError;
}

/** Payload of `state`. */
export interface SocketStateEvent {
  readonly from: StateName;
  readonly to: StateName;
}

/** Payload of `reconnecting`: a retry was scheduled. */
export interface SocketReconnectingEvent {
  readonly attempt: number;
  readonly delayMs: number;
}

/**
 * Payload of `hold`: a retry is planned but waits for a signal (`offline`: the network to return, `hidden`: the
 * page to become visible with `pauseWhenHidden`, `pagehide`: the page to leave the back-forward cache).
 */
export interface SocketHoldEvent {
  readonly attempt: number;
  readonly hold: Hold;
}

/** Why a message was not sent: the queue was full, its TTL passed, you closed or disposed, or the socket refused it. */
export type DropReason = 'overflow' | 'expired' | 'closed' | 'disposed' | 'failed';

/** Payload of `drop`. */
export interface SocketDropEvent<Out> {
  readonly message: Out;
  readonly reason: DropReason;
}

/** Payload of `heartbeat`: a pong arrived. */
export interface SocketHeartbeatEvent {
  readonly rttMs: number;
}

/**
 * Payload of `end`: the socket is closed for good (`close()`, the reconnect policy gave up, or `dispose()`). It
 * comes once per run, after that run's last `close` and `state` events, unless a listener of those started the
 * socket again (`connect()`, `reconnect()`): then this run's end is skipped, and the new run ends later.
 */
export interface SocketEndEvent {
  /** The final close record: how the last connection ended (or the close asked for, if none had started). */
  readonly close: CloseRecord;
  /** Whether it was `dispose()` (nothing more will ever happen) rather than a close. */
  readonly isDisposed: boolean;
}

/** Every event and its payload. */
export type SocketEvents<In, Out> = {
  open: SocketOpenEvent;
  message: SocketMessageEvent<In>;
  close: SocketCloseEvent;
  error: SocketErrorEvent;
  state: SocketStateEvent;
  reconnecting: SocketReconnectingEvent;
  hold: SocketHoldEvent;
  drop: SocketDropEvent<Out>;
  heartbeat: SocketHeartbeatEvent;
  end: SocketEndEvent;
};

/**
 * What `send()` did: `sent` (handed to the open socket; lost without report if the connection dies while it is
 * in flight), `queued` (held until open, then sent in order, or else reported by exactly one `drop` event),
 * `dropped` (the queue was full, see the `drop` event), `rejected` (queue full under the `reject` policy, no
 * event), `closed` (you closed the socket, or it gave up), `disposed`, `failed` (the codec could not encode it,
 * or the open socket refused it; see `error`).
 */
export type SendResult = 'sent' | 'queued' | 'dropped' | 'rejected' | 'closed' | 'disposed' | 'failed';
