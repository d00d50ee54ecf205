import { listen as listenWs, unlisten as unlistenWs } from '#platform';
import { SocketError } from './errors.js';
import type { CloseRecord } from './machine.js';
import type { WebSocketLike } from './transport.js';

/**
 * What an inner socket reports: `open`, `message` (the data), `error` (the event or error), `close` (code,
 * reason, wasClean), `refused` (`ws`: the HTTP status of a refused upgrade and its Retry-After), `pong` (`ws`),
 * `late` (an error of a socket already retired).
 */
export type Route = (socket: WebSocketLike, type: string, value?: unknown, reason?: string, wasClean?: boolean) => void;

/**
 * The inner socket carries its owner under OWNER, and the owner takes its events with its ROUTE method: one set of
 * listeners serves every socket of every instance, of every copy of the package (ESM and CommonJS, two versions).
 */
export const OWNER = Symbol.for('resilient-websocket.owner');
export const ROUTE = Symbol.for('resilient-websocket.route');
/** What the listeners call: the socket's owner, with its route. */
export type Owner = { [ROUTE]: Route };
type Routed = WebSocketLike & { [OWNER]?: Owner };

const TYPES = ['open', 'message', 'error', 'close'];

/** The one WHATWG listener. Some EventTarget polyfills call it without `this`: the event's target names the socket then. */
function onEvent(this: Routed | undefined, event: { type: string; target: Routed; data?: unknown; code?: number; reason?: string; wasClean?: boolean }): void {
  const { type } = event;
  const socket = this ?? event.target;
  socket[OWNER]?.[ROUTE](socket, type, type === 'message' ? event.data : type === 'close' ? event.code : event, event.reason, !!event.wasClean);
}

/** Takes the late errors of a retired socket. */
function absorb(this: WebSocketLike, error: unknown): void {
  // A socket retired before it was listened to has no owner: its late errors are simply taken.
  (this as Routed)[OWNER]?.[ROUTE](this, 'late', error);
}

/** Listens to a socket, with `ws`'s own events where it has them; its events go to its owner's route. */
export function listen(socket: WebSocketLike, owner: Owner, binaryType: string): void {
  (socket as Routed)[OWNER] = owner;
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
