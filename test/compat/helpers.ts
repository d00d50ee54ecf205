import { WebSocket as WS } from 'ws';
import PartySocket from '../../src/compat/partysocket-ws.js';
import ReconnectingWebSocket from '../../src/compat/reconnecting-websocket.js';
import type { Options, ProtocolsProvider, UrlProvider } from '../../src/compat/options.js';
import { waitFor } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

export { WS };

/** Either compat class: what the two have in common. */
export type CompatClass = typeof PartySocket | typeof ReconnectingWebSocket;
export type Compat = PartySocket | ReconnectingWebSocket;

/** The two flavours, for `describe.each`: the name, the class, and `readyState` right after `close()`. */
export const FLAVOURS = [
  { name: 'partysocket', Class: PartySocket as CompatClass, afterClose: 3 },
  { name: 'reconnecting-websocket', Class: ReconnectingWebSocket as CompatClass, afterClose: 2 },
] as const;

/**
 * Small real timings for loopback tests: no jitter (a fixed minReconnectionDelay), retries after 40, 80, 160 ms,
 * capped at 200 ms. Node 20 has no global WebSocket (and the originals fall back to none): `ws` is given.
 */
export const FAST: Options = {
  WebSocket: WS,
  minReconnectionDelay: 40,
  reconnectionDelayGrowFactor: 2,
  maxReconnectionDelay: 200,
  connectionTimeout: 2_000,
  minUptime: 5_000,
};

/** Creates a compat socket with `FAST` under `options`; it is closed once the current test finishes. */
export function create<C extends CompatClass>(Class: C, url: UrlProvider, protocols?: ProtocolsProvider, options: Options = {}): InstanceType<C> {
  const socket = new Class(url, protocols, { ...FAST, ...options }) as InstanceType<C>;
  cleanup(() => socket.close());
  return socket;
}

/** One dispatched event, as a test sees it. */
export interface Seen {
  type: string;
  readyState: number;
  code?: number;
  reason?: string;
  wasClean?: boolean;
  data?: unknown;
  message?: string;
  error?: unknown;
  target?: unknown;
  at: number;
}

/** Records every open/message/close/error/drop event with the readyState seen inside the listener. */
export function record(socket: Compat, types: readonly string[] = ['open', 'message', 'close', 'error', 'drop']) {
  const seen: Seen[] = [];
  for (const type of types) {
    socket.addEventListener(type, (event: any) => {
      seen.push({
        type,
        readyState: socket.readyState,
        code: event.code,
        reason: event.reason,
        wasClean: event.wasClean,
        data: event.data,
        message: event.message,
        error: event.error,
        target: event.target,
        at: Date.now(),
      });
    });
  }
  return {
    seen,
    types: () => seen.map((event) => event.type),
    of: (type: string) => seen.filter((event) => event.type === type),
    waitFor: (type: string, count = 1, timeoutMs = 5_000) => waitFor(() => seen.filter((event) => event.type === type).length >= count, timeoutMs, `${count} '${type}' event(s)`),
  };
}

/** Resolves once `socket.readyState` is `state`. */
export function waitForState(socket: Compat, state: number, timeoutMs = 5_000): Promise<unknown> {
  return waitFor(() => socket.readyState === state, timeoutMs, `readyState ${state}`);
}
