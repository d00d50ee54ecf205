/**
 * What only Node needs, kept out of browser bundles (package.json `imports`, `#platform`: `browser` →
 * `platform.browser.ts`): `ws` where it is installed (else the runtime's own WebSocket), its own event API
 * (cheaper than its EventTarget wrappers), refused upgrades with their HTTP status and `Retry-After`, the close
 * code of a protocol error, constructor options (headers, TLS, proxy), protocol pings, and the live-socket
 * registry that `resilient-websocket/node` shuts down.
 */
import { createRequire } from 'node:module';
import { OWNER, ROUTE, type Owner } from './connection.js';
import { liveSockets } from './registry.js';
import type { TransportOptions, WebSocketConstructor, WebSocketLike } from './transport.js';

/** `ws` where it is installed, else the runtime's own WebSocket (Node 22+, Deno, Bun). */
export const defaultWebSocket: () => WebSocketConstructor | undefined = () => {
  try {
    return createRequire(import.meta.url)('ws') as WebSocketConstructor;
  } catch {
    return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  }
};

type Ws = WebSocketLike & { _closeFrameReceived?: boolean; _closeFrameSent?: boolean; [OWNER]: Owner };
/** A refused upgrade as `ws` reports it. */
type Response = { statusCode?: number; headers?: Record<string, unknown> };

const HANDLERS: Record<string, (this: Ws, ...args: any[]) => void> = {
  open() {
    this[OWNER][ROUTE](this, 'open');
  },
  message(data: { toString(): string }, isBinary: boolean) {
    this[OWNER][ROUTE](this, 'message', isBinary ? data : data.toString());
  },
  error(error: unknown) {
    this[OWNER][ROUTE](this, 'error', error);
  },
  close(code: number, reason: unknown) {
    // ws's own close event has no wasClean: it is both close frames exchanged (or, elsewhere, a code other than 1006).
    this[OWNER][ROUTE](this, 'close', code, String(reason), '_closeFrameReceived' in this ? this._closeFrameReceived === true && this._closeFrameSent === true : code !== 1006);
  },
  // Listening to it tells ws that we handle a refused upgrade (retiring the socket aborts the request).
  'unexpected-response'(_request: unknown, response: Response) {
    const status = response.statusCode ?? 0;
    this[OWNER][ROUTE](this, 'refused', { status, ...retryAfter(response.headers?.['retry-after']) });
  },
  pong() {
    this[OWNER][ROUTE](this, 'pong');
  },
};

/** Whether a socket has Node-style events (`ws`): those get the listeners above. */
const isWs = (socket: WebSocketLike): boolean => typeof socket.on === 'function' && typeof socket.off === 'function';

/** Listens to a `ws` socket; `false` for any other kind. */
export function listen(socket: WebSocketLike): boolean {
  if (!isWs(socket)) return false;
  for (const type in HANDLERS) socket.on!(type, HANDLERS[type]!);
  return true;
}

/** Removes the listeners of a `ws` socket and leaves `absorb` to take its late errors; `false` for any other kind. */
export function unlisten(socket: WebSocketLike, absorb: (this: WebSocketLike, error: unknown) => void): boolean {
  if (!isWs(socket)) return false;
  for (const type in HANDLERS) socket.off!(type, HANDLERS[type]!);
  // A ws socket with no error listener would throw a late error.
  socket.on!('error', absorb);
  return true;
}

/** Whether the socket can send protocol pings (and hears their pongs). */
export const canPing = (socket: WebSocketLike): boolean => isWs(socket) && typeof socket.ping === 'function';

/** Creates the socket, with `ws`'s options where the implementation takes them (headers, TLS, proxy, limits). */
export function create(Ctor: WebSocketConstructor, url: string, protocols: unknown, headers: unknown, transport: unknown, maxMessageBytes: number | undefined): WebSocketLike {
  // Browsers and WHATWG implementations take a URL and protocols only.
  if (typeof Ctor.prototype?.terminate !== 'function') return new Ctor(url, protocols as string[]);
  const given = transport as TransportOptions | undefined;
  const maxPayload = given?.maxPayload ?? maxMessageBytes;
  const options: TransportOptions = { ...given };
  if (headers) options.headers = { ...given?.headers, ...(headers as Record<string, string>) };
  if (maxPayload !== undefined) options.maxPayload = maxPayload;
  return new Ctor(url, protocols as string[], options);
}

/** A `Retry-After` header (seconds, or an HTTP date) in milliseconds from now, as `{ retryAfterMs }`, or `{}`. */
export function retryAfter(header: unknown, now = Date.now()): { retryAfterMs?: number } {
  const value = String(Array.isArray(header) ? header[0] : (header ?? '')).trim();
  const at = /^\d+$/.test(value) ? now + Number(value) * 1000 : value ? Date.parse(value) : NaN;
  return at >= 0 ? { retryAfterMs: Math.max(0, at - now) } : {};
}

/**
 * The close code for a protocol error that `ws` found in the peer's frames (its `WS_ERR_*` errors carry it
 * under a symbol): 1002 protocol error, 1007 invalid data, 1009 too big. `undefined` for other errors.
 */
export function protocolErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
  const key = Object.getOwnPropertySymbols(error).find((symbol) => symbol.description === 'status-code');
  const status = key && (error as Record<symbol, unknown>)[key];
  return typeof status === 'number' ? status : code === 'WS_ERR_INVALID_UTF8' ? 1007 : code.endsWith('_LENGTH') ? 1009 : 1002;
}

/** Keeps the live registry that `resilient-websocket/node` shuts down: a socket is in it from its first attempt to its final close. */
export const track = (socket: object, isLive: boolean): unknown => (isLive ? liveSockets().add(socket as never) : liveSockets().delete(socket as never));

/** Each function or object seen in options, by a number, so equal options make equal keys. */
const ids = new WeakMap<object, number>();
let lastId = 0;
/** Resolved options by what they hold: sockets given equal options share one copy (at most 64 kinds kept). */
const shared = new Map<string, object>();

function keyOf(options: Record<string, any>, isTop: boolean): string {
  let key = '';
  for (const name of Object.keys(options)) {
    const value = options[name];
    const kind = typeof value;
    if (isTop && (name === 'heartbeat' || name === 'queue') && value) key += `${name}{${keyOf(value, false)}}`;
    else if (value !== null && (kind === 'object' || kind === 'function')) {
      let id = ids.get(value);
      if (id === undefined) ids.set(value, (id = ++lastId));
      key += `${name}#${id}`;
    } else key += `${name}=${kind === 'string' ? JSON.stringify(value) : `${kind}:${String(value)}`}`;
    key += ';';
  }
  return key;
}

/**
 * The resolved options of a socket, or an equal copy another socket already holds: a process with thousands of
 * sockets made by one helper holds one copy of their options. Options with a `signal` (one per socket, by nature)
 * are never shared.
 */
export function intern<T extends object>(options: T): T {
  if ((options as { signal?: unknown }).signal) return options;
  const key = keyOf(options, true);
  const found = shared.get(key);
  if (found) return found as T;
  if (shared.size < 64) shared.set(key, options);
  return options;
}
