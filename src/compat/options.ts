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
   * The WebSocket class, read at each attempt. Without it: the global `WebSocket` (browsers, Node 22+).
   * @default globalThis.WebSocket
   */
  WebSocket?: any;
  /**
   * No retry waits longer than this, in milliseconds.
   * @default 10000
   */
  maxReconnectionDelay?: number;
  /**
   * The delay before the first retry, in milliseconds; retry n waits
   * `min(maxReconnectionDelay, minReconnectionDelay × reconnectionDelayGrowFactor^(n - 1))`.
   * @default 3000 (partysocket); 1000 + Math.random() * 4000, drawn per socket (reconnecting-websocket)
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
   * An attempt not open within this time, in milliseconds, fails (`close` with reason `'timeout'`, then `error`
   * with message `'TIMEOUT'`) and is retried.
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
   * `drop` event reports it.
   * @default Infinity
   */
  maxEnqueuedMessages?: number;
  /**
   * Do not connect until `reconnect()` is called.
   * @default false
   */
  startClosed?: boolean;
  /**
   * Decides whether a close you did not ask for is followed by a retry (partysocket; reconnecting-websocket has
   * no such option and ignores it).
   * @default () => true
   */
  shouldReconnectOnClose?: (event: CloseEvent) => boolean;
  /**
   * Logs what happens, through `debugLogger`: `('RWS>', 'connect', retryCount)` as each attempt starts, and
   * the engine's own lines.
   * @default false
   */
  debug?: boolean;
  /**
   * Where `debug` output goes (partysocket).
   * @default console.log
   */
  debugLogger?: (...args: any[]) => void;
}

/** A core option error retold with the names the caller used (the same error object, its message rewritten). */
export function renamed(error: Error): Error {
  error.message = error.message.replace('ReconnectingSocket', 'ReconnectingWebSocket').replace('"connectTimeoutMs"', '"connectionTimeout"').replace('"stableAfterMs"', '"minUptime"');
  return error;
}
