import { listen as listenWs, setRoute as setWsRoute, unlisten as unlistenWs } from '#platform';
import { SocketError } from './errors.js';
import type { CloseRecord } from './machine.js';
import { utf8Length, type WebSocketLike } from './transport.js';

/**
 * What an inner socket reports: `open`, `message` (the data), `error` (the event or error), `close` (code,
 * reason, wasClean), `refused` (`ws`: the HTTP status of a refused upgrade and its Retry-After), `pong` (`ws`),
 * `late` (an error of a socket already retired).
 */
export type Route = (socket: WebSocketLike | undefined, type: string, value?: unknown, reason?: string, wasClean?: boolean) => void;
let route: Route;

/** Set once by the class: where the shared listeners deliver what they hear. */
export function setRoute(to: Route): void {
  setWsRoute(to);
  route = to;
}

/** The inner socket names its owner under this key: one set of listeners serves every socket of every instance. */
export const OWNER = Symbol();

const TYPES = ['open', 'message', 'error', 'close'];

/** The one WHATWG listener. Some EventTarget polyfills call it without `this`: the event's target names the socket then. */
function onEvent(this: WebSocketLike | undefined, event: { type: string; target?: WebSocketLike; data?: unknown; code?: number; reason?: string; wasClean?: boolean }): void {
  const { type } = event;
  route(this ?? event.target, type, type === 'message' ? event.data : type === 'close' ? event.code : event, event.reason, !!event.wasClean);
}

/** Takes the late errors of a retired socket. */
function absorb(this: WebSocketLike, error: unknown): void {
  route(this, 'late', error);
}

/** Listens to a socket, with `ws`'s own events where it has them. */
export function listen(socket: WebSocketLike, binaryType: string): void {
  try {
    socket.binaryType = binaryType;
  } catch {
    // Some implementations have a read-only binaryType; the codec still gets what arrives.
  }
  if (!listenWs(socket)) for (const type of TYPES) socket.addEventListener(type, onEvent);
}

/** Detaches a socket for good: removes the listeners, leaves one that absorbs late errors, and forces it down. */
export function retire(socket: WebSocketLike): void {
  if (!unlistenWs(socket, absorb)) {
    for (const type of TYPES) socket.removeEventListener(type, onEvent);
    socket.addEventListener('error', absorb);
  }
  try {
    if (socket.readyState !== 3) socket.terminate ? socket.terminate() : socket.close();
  } catch (error) {
    absorb.call(socket, error);
  }
}

/** The library's error for an `error` event (a WHATWG event, or the Error `ws` emits). */
export function socketError(event: unknown): SocketError {
  const cause = (event as { error?: unknown }).error ?? event;
  // Browsers give error events no detail; the close event that follows says how it ended.
  return new SocketError('SOCKET_ERROR', `WebSocket error: ${cause instanceof Error ? cause.message : 'no detail'}`, { cause });
}

/** The close record of a connection that ended by itself: by a close frame (`server`) or without (`network`). */
export function closeRecord(code: unknown, reason: string | undefined, wasClean: boolean | undefined, error: SocketError | undefined): CloseRecord {
  const c = typeof code === 'number' ? code : 1006;
  return { code: c, reason: reason ?? '', wasClean: !!wasClean, cause: c === 1006 ? 'network' : 'server', ...(error && { error }) };
}

/** Checks the arguments of `close()` (RFC 6455 §7.4, §5.5); throws a TypeError or RangeError that says what to change. */
export function checkClose(code: unknown, reason: unknown): void {
  if (typeof code !== 'number') throw new TypeError(`close(): code must be a number, got ${typeof code}.`);
  if (code !== 1000 && code !== 1001 && !(code >= 3000 && code <= 4999 && Number.isInteger(code))) throw new RangeError(`close(): code must be 1000, 1001 or 3000-4999, got ${code}.`);
  if (typeof reason !== 'string') throw new TypeError(`close(): reason must be a string, got ${typeof reason}.`);
  if (utf8Length(reason) > 123) throw new RangeError(`close(): reason must be at most 123 UTF-8 bytes, got ${utf8Length(reason)}.`);
}
