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

/** Marks the prototype of every copy of `SocketError` (ESM and CJS builds, two installed versions). */
const BRAND = Symbol.for('resilient-websocket.SocketError');

/** What `JSON.stringify` makes of a `SocketError`. */
export interface SocketErrorJSON {
  readonly name: 'SocketError';
  readonly code: SocketErrorCode;
  readonly message: string;
  /** The cause's message, or the cause itself when it is not an `Error`. */
  readonly cause?: unknown;
  readonly close?: CloseRecord;
}

/**
 * The one error class this library reports. Network trouble never throws: it reaches you as an `error`
 * event carrying a `SocketError`, and as the `error` field of the close record.
 *
 * `instanceof SocketError` holds for errors made by any copy of the package, so an error from the CommonJS
 * build passes the check of the ESM one (see {@link isSocketError}). `JSON.stringify` keeps its `name`,
 * `code`, `message`, `cause` and `close` (not `data`, which may be large or binary).
 */
export class SocketError extends Error {
  override readonly name = 'SocketError';
  /** The stable code; switch on this, not on the message. */
  readonly code: SocketErrorCode;
  /** The raw payload, for `DECODE_FAILED` and `ENCODE_FAILED`. */
  declare readonly data?: unknown;
  /** The final close record, for `CLOSED`. */
  declare readonly close?: CloseRecord;

  static {
    (this.prototype as { [BRAND]?: true })[BRAND] = true;
  }

  /** Recognises a `SocketError` of any copy of this package, by a brand registered with `Symbol.for`. */
  static override [Symbol.hasInstance](value: unknown): value is SocketError {
    // A subclass keeps the ordinary prototype check.
    return this === SocketError ? isSocketError(value) : super[Symbol.hasInstance](value);
  }

  constructor(code: SocketErrorCode, message: string, options?: { cause?: unknown; data?: unknown; close?: CloseRecord }) {
    super(message, options?.cause === undefined ? undefined : options);
    this.code = code;
    if (options?.data !== undefined) this.data = options.data;
    if (options?.close) this.close = options.close;
  }

  /** The serialisable part, for logs: an `Error`'s own `message` is not enumerable, so `JSON.stringify` would drop it. */
  toJSON(): SocketErrorJSON {
    const { cause } = this;
    // JSON.stringify leaves out the fields that are undefined.
    return { name: this.name, code: this.code, message: this.message, cause: cause instanceof Error ? cause.message : cause, close: this.close };
  }
}

/**
 * Whether `value` is a `SocketError` from any copy of this package (the ESM and CJS builds each have their own
 * class). `value instanceof SocketError` gives the same answer; this also narrows in plain JavaScript checks.
 */
export function isSocketError(value: unknown): value is SocketError {
  return value != null && (value as { [BRAND]?: unknown })[BRAND] === true;
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
