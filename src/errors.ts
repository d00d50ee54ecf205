import type { CloseRecord } from './machine.js';

/**
 * What went wrong, as a stable machine-readable code.
 *
 * - `CONNECT_TIMEOUT`: an attempt did not open within `connectTimeoutMs`.
 * - `CLOSE_TIMEOUT`: the peer did not answer the close frame within `closeTimeoutMs`.
 * - `HEARTBEAT_TIMEOUT`: no pong arrived within the heartbeat deadline.
 * - `PROVIDER_FAILED`: the `url`, `protocols` or `headers` provider threw, rejected or returned a bad value.
 * - `SOCKET_ERROR`: the underlying WebSocket reported an error.
 * - `DECODE_FAILED` / `ENCODE_FAILED`: the codec could not decode an incoming or encode an outgoing message.
 * - `LISTENER_THREW`: one of your event listeners threw; the others still ran.
 * - `CALLBACK_THREW`: one of your option callbacks (`shouldReconnect`, `delay`, `random`, `heartbeat.isPong`)
 *   threw; the built-in behaviour was used instead.
 * - `SEND_FAILED`: the open WebSocket refused a message (wrong data type, say); it was not sent.
 * - `ABORTED`, `DISPOSED`, `CLOSED`, `TIMEOUT`: `opened()` ended before the socket opened: the signal aborted,
 *   the socket was disposed, it closed for good (`close()`, or the reconnect policy gave up; the error's `close`
 *   is the final close record), or `timeoutMs` passed. `messages()` never rejects: it simply ends.
 */
export type SocketErrorCode =
  | 'CONNECT_TIMEOUT'
  | 'CLOSE_TIMEOUT'
  | 'HEARTBEAT_TIMEOUT'
  | 'PROVIDER_FAILED'
  | 'SOCKET_ERROR'
  | 'DECODE_FAILED'
  | 'ENCODE_FAILED'
  | 'LISTENER_THREW'
  | 'CALLBACK_THREW'
  | 'SEND_FAILED'
  | 'ABORTED'
  | 'DISPOSED'
  | 'CLOSED'
  | 'TIMEOUT';

/**
 * The one error class this library reports. Network trouble never throws: it reaches you as an `error`
 * event carrying a `SocketError`, and as the `error` field of the close record.
 */
export class SocketError extends Error {
  override readonly name = 'SocketError';
  /** The stable code; switch on this, not on the message. */
  readonly code: SocketErrorCode;
  /** The raw payload, for `DECODE_FAILED` and `ENCODE_FAILED`. */
  declare readonly data?: unknown;
  /** The final close record, for `CLOSED`. */
  declare readonly close?: CloseRecord;

  constructor(code: SocketErrorCode, message: string, options?: { cause?: unknown; data?: unknown; close?: CloseRecord }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options && 'data' in options) this.data = options.data;
    if (options?.close) this.close = options.close;
  }
}

/** Strips credentials, query string and fragment so a URL can appear in messages and logs. */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/** The message of an error, or the thing itself as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reports an error nobody listens for: `reportError` where the runtime has it (browsers), else `console.error`. */
export function reportUncaught(error: unknown): void {
  ((globalThis as { reportError?: (e: unknown) => void }).reportError ?? console.error)(error);
}
