import { redactUrl } from './errors.js';
import type { WireData } from './options.js';

/**
 * The part of a WebSocket this library uses: the WHATWG interface that browsers, `ws` and most
 * polyfills share. `ping`, `terminate` and `on` are used when present (Node `ws`).
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: WireData): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
  /** Node `ws` only: drops the TCP connection at once. */
  terminate?(): void;
  /** Node `ws` only: sends a protocol ping frame. */
  ping?(data?: unknown): void;
  on?(type: string, listener: (...args: any[]) => void): unknown;
  off?(type: string, listener: (...args: any[]) => void): unknown;
}

/**
 * What the `transport` option hands to the WebSocket constructor: `ws`'s `ClientOptions`, described here
 * structurally so that browser builds need neither `ws` nor its types. Unknown keys pass through.
 */
export interface TransportOptions {
  /** An `http.Agent`, e.g. a proxy agent. */
  agent?: unknown;
  ca?: unknown;
  cert?: unknown;
  key?: unknown;
  pfx?: unknown;
  passphrase?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
  /** The largest message `ws` accepts, in bytes; larger ones end the connection with 1009. */
  maxPayload?: number;
  perMessageDeflate?: boolean | object;
  followRedirects?: boolean;
  maxRedirects?: number;
  handshakeTimeout?: number;
  family?: number;
  localAddress?: string;
  origin?: string;
  headers?: Record<string, string>;
  [option: string]: unknown;
}

/** A WebSocket constructor; the third argument carries the transport options (headers too) where supported. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: TransportOptions) => WebSocketLike;

/** The longest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** `readyState` values (RFC 6455 via the WHATWG spec). */
export const OPEN = 1;
export const CLOSED = 3;

/** Checks a URL and returns it as `ws:`/`wss:` (http and https map onto them); throws a TypeError otherwise. */
export function checkUrl(value: unknown): string {
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    // The runtime's own error quotes the whole URL (Node puts it in `input`): a token in the query would leak.
  }
  const protocol = url?.protocol.replace(/^http/, 'ws');
  if (protocol !== 'ws:' && protocol !== 'wss:') {
    const shown = url ? redactUrl(url) : String(value).replace(/[?#].*$/s, '').replace(/\/\/[^/]*@/, '//').slice(0, 80);
    throw new TypeError(`ReconnectingSocket: url must be an absolute ws:, wss:, http: or https: URL, got ${JSON.stringify(shown)}.`);
  }
  url!.protocol = protocol;
  return url!.href;
}

let encoder: TextEncoder | undefined;

/** The UTF-8 byte length of a string (a lone surrogate counts as U+FFFD, as it goes on the wire). */
export const utf8Length = (text: string): number => (encoder ??= new TextEncoder()).encode(text).length;

/** Byte size of wire data. */
export function byteSize(data: WireData): number {
  return typeof data === 'string' ? utf8Length(data) : ((data as ArrayBufferLike).byteLength ?? (data as Blob).size);
}
