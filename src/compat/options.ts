import type { CloseEvent } from './events.js';

/** What `send()` takes. */
export type Message = string | ArrayBuffer | Blob | ArrayBufferView;

/** The URL, or a function (sync or async) called before every attempt, so tokens stay fresh. */
export type UrlProvider = string | URL | (() => string | URL | Promise<string | URL>);

/** Subprotocols, or a function (sync or async) called before every attempt. `null` means none. */
export type ProtocolsProvider = null | string | string[] | (() => string | string[] | null | Promise<string | string[] | null>);

/** The options of reconnecting-websocket 4.4 and partysocket, with their defaults and meaning. */
export interface Options {
  /**
   * The WebSocket class. Without it: the global `WebSocket` (browsers, Node 22+), else `ws`.
   * @default undefined
   */
  WebSocket?: any;
  /**
   * No retry waits longer than this, in milliseconds.
   * @default 10000
   */
  maxReconnectionDelay?: number;
  /**
   * The delay before the first retry, in milliseconds; retry n waits
   * `min(maxReconnectionDelay, minReconnectionDelay × reconnectionDelayGrowFactor^(n - 1))`. The default is
   * drawn once per instance, so a crowd of clients does not retry in step.
   * @default 1000 + Math.random() * 4000
   */
  minReconnectionDelay?: number;
  /**
   * How fast the delay grows from one retry to the next.
   * @default 1.3
   */
  reconnectionDelayGrowFactor?: number;
  /**
   * `retryCount` starts again from 0 only once a connection has stayed open this long, in milliseconds.
   * @default 5000
   */
  minUptime?: number;
  /**
   * An attempt not open within this time, in milliseconds, fails (`error` with message `'TIMEOUT'`) and is retried.
   * @default 4000
   */
  connectionTimeout?: number;
  /**
   * Retries after the first attempt before giving up; `reconnect()` starts again.
   * @default Infinity
   */
  maxRetries?: number;
  /**
   * Most messages held while not open. Further ones are dropped: `send()` returns `false` (partysocket), and a
   * `drop` event and a one-time warning report it.
   * @default Infinity
   */
  maxEnqueuedMessages?: number;
  /**
   * Do not connect until `reconnect()` is called.
   * @default false
   */
  startClosed?: boolean;
  /**
   * Decides whether a close you did not ask for is followed by a retry (partysocket).
   * @default () => true
   */
  shouldReconnectOnClose?: (event: CloseEvent) => boolean;
  /**
   * Logs what happens, through `debugLogger`.
   * @default false
   */
  debug?: boolean;
  /**
   * Where `debug` output goes (partysocket).
   * @default console.log
   */
  debugLogger?: (...args: any[]) => void;
}

/** The documented defaults of both libraries (`minReconnectionDelay` is drawn per instance). */
export const DEFAULTS = {
  maxReconnectionDelay: 10_000,
  reconnectionDelayGrowFactor: 1.3,
  minUptime: 5_000,
  connectionTimeout: 4_000,
  maxRetries: Infinity,
  maxEnqueuedMessages: Infinity,
  startClosed: false,
} as const;

/** Our option names in the core's error messages, and theirs. */
const CORE_NAMES: Record<string, string> = { connectTimeoutMs: 'connectionTimeout', stableAfterMs: 'minUptime', 'queue.maxMessages': 'maxEnqueuedMessages' };

/** A core option error retold with the names the caller used. */
export function renamed(error: unknown): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError)) return error;
  const message = error.message.replace('ReconnectingSocket', 'ReconnectingWebSocket').replace(/"([\w.]+)"/, (_, name: string) => `"${CORE_NAMES[name] ?? name}"`);
  return error instanceof RangeError ? new RangeError(message) : new TypeError(message);
}

/** Throws unless every named option is absent or a number >= 0. */
export function checkDelays(options: Options): void {
  for (const name of ['minReconnectionDelay', 'maxReconnectionDelay', 'reconnectionDelayGrowFactor'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value >= 0)) {
      throw new RangeError(`ReconnectingWebSocket: option "${name}" must be a number >= 0, got ${typeof value === 'number' ? value : typeof value}.`);
    }
  }
}

/** Throws unless a fixed URL can be connected to (function providers are checked at each attempt). */
export function checkUrl(url: string | URL): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(String(url)).protocol;
  } catch {
    // Reported below without quoting the value, which may carry a token.
  }
  if (!protocol || !/^(wss?|https?):$/.test(protocol)) {
    throw new TypeError(`ReconnectingWebSocket: url must be an absolute ws:, wss:, http: or https: URL, got ${protocol ? `a ${protocol} URL` : 'an unparseable string'}.`);
  }
}
