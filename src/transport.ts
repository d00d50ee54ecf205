import IsomorphicWebSocket from 'isomorphic-ws';
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

/** The default constructor: `ws` in Node, the native WebSocket in browsers, chosen by isomorphic-ws. */
export function defaultWebSocket(): WebSocketConstructor | undefined {
  return (IsomorphicWebSocket as unknown as WebSocketConstructor | undefined) ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/** Whether the constructor accepts handshake headers: only `ws`-style implementations (with `terminate`) do. */
export function supportsHeaders(Ctor: WebSocketConstructor): boolean {
  return typeof (Ctor.prototype as Partial<WebSocketLike> | undefined)?.terminate === 'function';
}

/** The UTF-8 byte length of a string without allocating. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Byte size of wire data. */
export function byteSize(data: WireData): number {
  if (typeof data === 'string') return utf8Length(data);
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return (data as ArrayBufferLike | ArrayBufferView).byteLength ?? 0;
}
