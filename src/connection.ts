import { SocketError } from './errors.js';
import type { CloseRecord } from './machine.js';
import { CLOSED, utf8Length, type WebSocketLike } from './transport.js';

/** A listener called with the socket as `this`, as both EventTarget and EventEmitter do. */
type Bound = (this: WebSocketLike, ...args: any[]) => void;

/**
 * The listeners one kind of socket gets. They are shared by every connection of every instance (no closure
 * per socket): each finds its owner through the socket itself.
 */
export interface SocketHandlers {
  readonly open: Bound;
  readonly message: Bound;
  readonly error: Bound;
  readonly close: Bound;
  /** `ws` only: the server answered the upgrade with an HTTP status instead of 101. */
  readonly 'unexpected-response'?: Bound;
}

/**
 * Node `ws` has its own events, which skip the wrapper objects its addEventListener builds (a closure and an
 * event object per listener and per event); everything else gets the WHATWG interface.
 */
export function isEmitter(socket: WebSocketLike): boolean {
  return typeof socket.on === 'function' && typeof socket.off === 'function';
}

const TYPES = ['open', 'message', 'error', 'close'] as const;
// Listening to it tells ws that we handle a refused upgrade (it then emits no error; retiring ends the request).
const WS_TYPES = [...TYPES, 'unexpected-response'] as const;

/** Listens to a socket's open, message, error and close events with `ws` or WHATWG handlers, per its kind. */
export function listen(socket: WebSocketLike, handlers: { ws: SocketHandlers; dom: SocketHandlers }, binaryType: string): void {
  try {
    socket.binaryType = binaryType;
  } catch {
    // Some implementations have a read-only binaryType; the codec still gets what arrives.
  }
  if (isEmitter(socket)) for (const type of WS_TYPES) socket.on!(type, handlers.ws[type]!);
  else for (const type of TYPES) socket.addEventListener(type, handlers.dom[type]);
}

/**
 * Detaches a socket for good: removes the listeners, leaves `absorb` to take its late errors (a `ws` socket
 * with no error listener would throw them), and forces it down.
 */
export function retire(socket: WebSocketLike, handlers: { ws: SocketHandlers; dom: SocketHandlers }, absorb: Bound): void {
  const isWs = isEmitter(socket);
  if (isWs) for (const type of WS_TYPES) socket.off!(type, handlers.ws[type]!);
  else for (const type of TYPES) socket.removeEventListener(type, handlers.dom[type]);
  if (isWs) socket.on!('error', absorb);
  else socket.addEventListener('error', absorb);
  if (socket.readyState === CLOSED) return;
  try {
    if (typeof socket.terminate === 'function') socket.terminate();
    else socket.close();
  } catch (error) {
    absorb.call(socket, error);
  }
}

/** The library's error for an `error` event (a WHATWG event, or the Error `ws` emits). */
export function socketError(event: { error?: unknown; message?: string } | Error): SocketError {
  const cause = (event as { error?: unknown }).error ?? event;
  // Browsers deliberately give error events no detail; the close event that follows says how it ended.
  const detail = cause instanceof Error ? cause.message : (event as { message?: string }).message ?? 'no detail (see the close event)';
  return new SocketError('SOCKET_ERROR', `WebSocket error: ${detail}`, { cause });
}

/** The close record of a connection that ended by itself: by a close frame (`server`) or without (`network`). */
export function closeRecord(code: unknown, reason: unknown, wasClean: boolean, error: SocketError | undefined): CloseRecord {
  const c = typeof code === 'number' ? code : 1006;
  const record = { code: c, reason: String(reason ?? ''), wasClean, cause: c === 1006 ? 'network' : 'server' } as const;
  return error ? { ...record, error } : record;
}

/** A `Retry-After` header (seconds, or an HTTP date) in milliseconds from now; `undefined` if absent or bad. */
export function retryAfterMs(header: unknown, now = Date.now()): number | undefined {
  const value = String(Array.isArray(header) ? header[0] : header ?? '').trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = value ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The close code for a protocol error that `ws` detected in the peer's frames (its `WS_ERR_*` errors carry it
 * under a private symbol): 1002 protocol error, 1007 invalid data, 1009 too big. `undefined` for other errors.
 */
export function protocolErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
  const key = Object.getOwnPropertySymbols(error).find((symbol) => symbol.description === 'status-code');
  const status = key && (error as Record<symbol, unknown>)[key];
  if (typeof status === 'number') return status;
  return code === 'WS_ERR_INVALID_UTF8' ? 1007 : code.endsWith('_LENGTH') ? 1009 : 1002;
}

/** Checks the arguments of `close()`; throws a TypeError or RangeError that says what to change. */
export function checkClose(code: unknown, reason: unknown): void {
  if (typeof code !== 'number') throw new TypeError(`close(): code must be a number, got ${typeof code}.`);
  if (!Number.isInteger(code) || (code !== 1000 && code !== 1001 && (code < 3000 || code > 4999))) {
    // RFC 6455 §7.4: other codes are reserved for the protocol or must not be sent by an endpoint.
    throw new RangeError(`close(): code must be 1000, 1001 or 3000-4999, got ${code}.`);
  }
  if (typeof reason !== 'string') throw new TypeError(`close(): reason must be a string, got ${typeof reason}.`);
  const bytes = utf8Length(reason);
  if (bytes > 123) {
    // RFC 6455 §5.5: a control frame payload is at most 125 bytes, 2 of which carry the code.
    throw new RangeError(`close(): reason must be at most 123 UTF-8 bytes, got ${bytes}.`);
  }
}
