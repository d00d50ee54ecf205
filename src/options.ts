import type { Jitter } from './backoff.js';
import { checkOption } from '#checks';
import { rawCodec } from './codec.js';
import type { CloseRecord } from './machine.js';
import type { Environment } from './environment.js';
import type { TransportOptions, WebSocketConstructor } from './transport.js';

/** Wire data a WebSocket can carry. */
export type WireData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** What a provider is given before each attempt. */
export interface ProviderContext {
  /** Aborted once the attempt is over: opened, failed, timed out, or abandoned by `close()`/`dispose()`. */
  readonly signal: AbortSignal;
  /** The attempt number: 0 for the first connection, then 1, 2, … for each retry since the last stable one. */
  readonly attempt: number;
}

/** A value, or a (sync or async) function called before every attempt, so tokens stay fresh. */
export type Provider<T> = T | ((context: ProviderContext) => T | Promise<T>);

/** Turns your messages into wire data and back. */
export interface Codec<In, Out> {
  /** Encodes an outgoing message. Throwing reports `ENCODE_FAILED` and sends nothing. */
  encode(message: Out): WireData;
  /** Decodes an incoming message. Throwing reports `DECODE_FAILED` with the raw data; the socket stays open. */
  decode(data: string | ArrayBuffer | Blob): In;
}

/** Messages as they arrive without a codec (`rawCodec`): text as `string`, binary as `ArrayBuffer` or `Blob`. */
export type RawMessage = string | ArrayBuffer | Blob;

/**
 * Whether a socket can do without a codec: what arrives raw fits `In`, and `Out` is wire data.
 * `string`, `ArrayBuffer`, `unknown` and the default types can; `{ type: string }` cannot.
 */
export type IsWireTyped<In, Out> = [Out] extends [WireData] ? ([In] extends [RawMessage] ? true : [RawMessage] extends [In] ? true : false) : false;

/**
 * The options argument of `new ReconnectingSocket<In, Out>(url, options)`: optional while the message types are
 * wire data, and required with a `codec` when they are not, since raw frames are not your message types.
 */
export type ReconnectingSocketArgs<In, Out> = IsWireTyped<In, Out> extends true
  ? [options?: ReconnectingSocketOptions<In, Out>]
  : [optionsWithCodec: ReconnectingSocketOptions<In, Out> & { codec: Codec<In, Out> }];

/** What to do when the outgoing queue is full. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'reject';

/** The outgoing queue that holds messages sent while the socket is not open. */
export interface QueueOptions {
  /**
   * Most messages held at once.
   * @default 1000
   */
  maxMessages?: number;
  /**
   * Most bytes held at once (strings count their UTF-8 length).
   * @default 1048576 (1 MiB)
   */
  maxBytes?: number;
  /**
   * What happens to a message sent while the queue is full: `drop-oldest` evicts the oldest queued message
   * (a `drop` event, reason `overflow`) and queues the new one, unless the new one alone exceeds `maxBytes` (or
   * `maxMessages` is 0): then it is dropped instead, since evicting everything could still not make room; `drop-newest` discards the new one (a `drop`
   * event, `send()` returns `dropped`); `reject` refuses the new one without an event (`send()` returns
   * `rejected`, so the caller still holds it).
   * @default 'drop-oldest'
   */
  overflow?: OverflowPolicy;
  /**
   * Default time-to-live of a queued message, in milliseconds; older messages are dropped (reason
   * `expired`) instead of being sent late. `send(data, { ttlMs })` overrides it per message. Expiry is checked
   * when a message is queued and when the queue flushes, so an expired message leaves `queued` at that point.
   * @default undefined (no expiry)
   */
  ttlMs?: number;
  /**
   * Keep queueing after `close()`, so a later `reconnect()` delivers the messages.
   * @default false
   */
  queueWhileClosed?: boolean;
}

/** Liveness checking while open. */
export interface HeartbeatOptions {
  /**
   * Time between pings, in milliseconds.
   * @default 25000
   */
  intervalMs?: number;
  /**
   * How long to wait for the pong before the connection is declared dead and forced down.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * The deadline of the probe sent at once after a clock jump (sleep, throttled tab) or when a hidden page
   * becomes visible.
   * @default 3000
   */
  probeTimeoutMs?: number;
  /**
   * An application-level ping (or a function producing one). When set, it is used instead of protocol pings;
   * when unset, protocol pings are used where the socket has them (Node `ws`) and browsers do no pinging.
   * @default undefined
   */
  message?: WireData | (() => WireData);
  /**
   * Recognises the application-level pong among incoming raw messages; a matching message is not emitted as
   * `message`.
   * @default undefined (with `message` set, every incoming message counts as the pong)
   */
  isPong?: (data: unknown) => boolean;
  /**
   * Any incoming message counts as proof of life and satisfies a pending deadline.
   * @default true
   */
  anyMessageIsAlive?: boolean;
}

/**
 * Every option of `ReconnectingSocket`, with its default. The type parameters default as the socket's do: raw
 * wire data, unless `In` is a type of your own.
 */
export interface ReconnectingSocketOptions<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> {
  /**
   * Subprotocols, or a provider of them called before each attempt.
   * @default undefined
   */
  protocols?: Provider<string | string[] | undefined>;
  /**
   * Handshake headers, or a provider of them. Honoured where the runtime allows them (Node `ws`); elsewhere
   * ignored, with a one-time warning through `debug` and `console.warn` except in production builds.
   * @default undefined
   */
  headers?: Provider<Record<string, string> | undefined>;
  /**
   * Options for the WebSocket implementation's constructor, or a provider of them called before each attempt:
   * for Node `ws`, `agent` (a proxy), TLS (`ca`, `cert`, `key`, `rejectUnauthorized`, `servername`),
   * `maxPayload`, `perMessageDeflate`, `followRedirects`, `maxRedirects`, `handshakeTimeout`, `family`,
   * `localAddress`, `origin` and the rest of its `ClientOptions`. Browsers cannot take them: there it is
   * ignored, with a one-time warning except in production builds.
   * @default undefined
   */
  transport?: Provider<TransportOptions | undefined>;
  /**
   * The largest incoming message, in bytes. A larger one ends the connection with 1009, which does not
   * reconnect. Node `ws` enforces it before buffering the message (its `maxPayload`, unless `transport` sets
   * one); browsers check it on arrival.
   * @default undefined (ws: 100 MiB; browsers: no limit)
   */
  maxMessageBytes?: number;
  /**
   * Connect as soon as the instance is created. With `false`, call `connect()`.
   * @default true
   */
  autoConnect?: boolean;
  /**
   * An attempt that has not opened within this time is torn down and counts as failed.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * How long `close()` waits for the peer's close frame before forcing the socket down.
   * @default 5000
   */
  closeTimeoutMs?: number;
  /**
   * The scale of the backoff, in milliseconds: the first retry comes within this time, and (decorrelated) no
   * later retry comes sooner than this. With N clients dropped at once, the first retries make about
   * N × 100 / initialDelayMs attempts per 100 ms.
   * @default 2000
   */
  initialDelayMs?: number;
  /**
   * How fast delays grow: each decorrelated delay is drawn up to this factor times the previous one; the
   * `'full'` and `false` curves multiply their ceiling by it with each retry.
   * @default 2
   */
  delayFactor?: number;
  /**
   * No delay exceeds this, in milliseconds: after an outage of any length, everyone is back within it.
   * @default 10000
   */
  maxDelayMs?: number;
  /**
   * How retries are spread. `'decorrelated'`: the first retry uniform in [0, initialDelayMs), each later one
   * uniform in [initialDelayMs, delayFactor × previous delay), at most maxDelayMs. `'full'` (or `true`): uniform
   * in [0, min(maxDelayMs, initialDelayMs × delayFactor^(attempt - 1))). `false`: that ceiling, no randomness.
   * @default 'decorrelated'
   */
  jitter?: Jitter;
  /**
   * Consecutive retries before giving up (the socket then stays closed).
   * @default Infinity
   */
  maxRetries?: number;
  /**
   * The retry count resets only once a connection has stayed open this long.
   * @default 5000
   */
  stableAfterMs?: number;
  /**
   * Replaces the built-in backoff curve: the delay before retry number `attempt` (1, 2, …), given how the last
   * connection ended (its `status` and `retryAfterMs` when the server refused the upgrade).
   * @default undefined
   */
  delay?: (attempt: number, close: CloseRecord) => number;
  /**
   * Random source in [0, 1) for jitter.
   * @default Math.random
   */
  random?: () => number;
  /**
   * Decides whether a close reconnects; overrides the default close-code table.
   * @default defaultShouldReconnect
   */
  shouldReconnect?: (close: CloseRecord) => boolean;
  /**
   * Liveness checking; `false` turns it off.
   * @default { intervalMs: 25000, timeoutMs: 10000, probeTimeoutMs: 3000, anyMessageIsAlive: true }
   */
  heartbeat?: HeartbeatOptions | false;
  /**
   * The outgoing queue used while not open.
   * @default { maxMessages: 1000, maxBytes: 1048576, overflow: 'drop-oldest', queueWhileClosed: false }
   */
  queue?: QueueOptions;
  /**
   * Encodes outgoing and decodes incoming messages. `rawCodec` passes wire data through; `jsonCodec` speaks
   * JSON text frames.
   * @default rawCodec
   */
  codec?: Codec<In, Out>;
  /**
   * How binary messages are delivered to the codec.
   * @default 'arraybuffer'
   */
  binaryType?: 'arraybuffer' | 'blob';
  /**
   * Aborting this signal disposes the socket.
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * Online/offline, visibility and page lifecycle signals. Defaults to the browser's (window/document) where
   * they exist and to none in Node; pass `createManualEnvironment()` to drive them yourself, `null` for none.
   * @default the browser environment, or none
   */
  environment?: Environment | null;
  /**
   * Pause reconnection while the page is hidden; resume at once when it is visible again.
   * @default false
   */
  pauseWhenHidden?: boolean;
  /**
   * Let a pending retry timer not keep a Node process alive (`unref`). A closed or disposed socket never does.
   * @default false
   */
  unrefRetryTimer?: boolean;
  /**
   * The WebSocket constructor. Defaults to `ws` in Node when it is installed, and otherwise to the runtime's own
   * (browsers, Node 22 and later, Deno, Bun).
   * @default `ws` where installed (Node), else globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor;
  /**
   * Receives diagnostics: ignored inputs, absorbed late errors, warnings.
   * @default undefined
   */
  debug?: (message: string, detail?: unknown) => void;
}

/** The defaults, in one place. README and TSDoc are checked against this object by a test. */
export const DEFAULTS = {
  autoConnect: true,
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 5_000,
  initialDelayMs: 2_000,
  delayFactor: 2,
  maxDelayMs: 10_000,
  jitter: 'decorrelated',
  maxRetries: Infinity,
  stableAfterMs: 5_000,
  binaryType: 'arraybuffer',
  pauseWhenHidden: false,
  unrefRetryTimer: false,
  heartbeat: { intervalMs: 25_000, timeoutMs: 10_000, probeTimeoutMs: 3_000, anyMessageIsAlive: true },
  queue: { maxMessages: 1000, maxBytes: 1_048_576, overflow: 'drop-oldest', queueWhileClosed: false },
} as const;

/** Options after defaults are applied and every value is checked. */
export type ResolvedOptions<In = unknown, Out = unknown> = Required<
  Omit<ReconnectingSocketOptions<In, Out>, 'protocols' | 'headers' | 'transport' | 'maxMessageBytes' | 'delay' | 'signal' | 'environment' | 'WebSocket' | 'debug' | 'heartbeat' | 'queue'>
> &
  Pick<ReconnectingSocketOptions<In, Out>, 'protocols' | 'headers' | 'transport' | 'maxMessageBytes' | 'delay' | 'signal' | 'environment' | 'WebSocket' | 'debug'> & {
    heartbeat: (Required<Omit<HeartbeatOptions, 'message' | 'isPong'>> & Pick<HeartbeatOptions, 'message' | 'isPong'>) | false;
    queue: Required<Omit<QueueOptions, 'ttlMs'>> & Pick<QueueOptions, 'ttlMs'>;
  };

/** Every default; sockets with no options share it, and every other socket's options inherit from it. */
const BASE = {
  ...DEFAULTS,
  heartbeat: { ...DEFAULTS.heartbeat },
  queue: { ...DEFAULTS.queue },
  random: Math.random,
  codec: rawCodec,
  shouldReconnect: defaultShouldReconnect,
} as unknown as ResolvedOptions;

/**
 * Checks the given values of a group and lays them over `base`: a socket holds only the options it was given
 * (its object inherits the defaults), and one given none holds none.
 */
function layer(base: any, given: Record<string, unknown>, group: string): any {
  const own = Object.create(base);
  for (const name in given) {
    let value = given[name];
    checkOption(group, name, value, base[name]);
    if (!group && (name === 'heartbeat' || name === 'queue') && value) value = layer(base[name], value as Record<string, unknown>, `${name}.`);
    if (value !== undefined) own[name] = value;
  }
  return own;
}

/**
 * Applies the defaults and validates every option; throws a `TypeError`/`RangeError` that names the option, the
 * expected range and the value received.
 */
export function resolveOptions<In, Out>(options?: ReconnectingSocketOptions<In, Out>): ResolvedOptions<In, Out> {
  if (options === undefined) return BASE as ResolvedOptions<In, Out>;
  checkOption('', 'options', options, BASE);
  return layer(BASE, options as Record<string, unknown>, '');
}

/**
 * The default close-code table: which closes reconnect.
 *
 * | code | meaning | reconnects |
 * |---|---|---|
 * | 1000 | normal closure, from the server | yes |
 * | 1001 | going away (server restart) | yes |
 * | 1005, 1006 | no status / abnormal (network drop, reset) | yes |
 * | 1011, 1012, 1013, 1014 | server error, restart, try again later, bad gateway | yes |
 * | 1002, 1003, 1007, 1008, 1009, 1010 | protocol error, unsupported data, bad payload, policy, too big, extension | no |
 * | 1015 | TLS handshake failure | no |
 * | 3000, 3003 | unauthorized, forbidden (registered application codes) | no |
 * | other 3000-4999 | application codes | yes |
 *
 * A close you asked for with `close()` never reconnects, whatever its code.
 */
export function defaultShouldReconnect(close: CloseRecord): boolean {
  const status = close.status;
  if (status === undefined) return !NO_RECONNECT.has(close.code);
  // A refused upgrade: credentials may be fresh next time (the providers run again), but not forever.
  if (status === 401 || status === 403 || status === 407) return (close.refusals ?? 1) < MAX_AUTH_REFUSALS;
  // Server errors may pass; client errors and redirects (ws follows them only with followRedirects) will not
  // change by retrying, except a timeout and "too many requests".
  return status >= 500 || status === 408 || status === 429;
}

/** How many 401/403/407 refusals in a row the default policy accepts before it stops. */
export const MAX_AUTH_REFUSALS = 3;

/** The longest `Retry-After` the default delay honours, in milliseconds (5 minutes). */
export const MAX_RETRY_AFTER_MS = 300_000;

/** Close codes that mean retrying cannot help. */
export const NO_RECONNECT: ReadonlySet<number> = new Set([1002, 1003, 1007, 1008, 1009, 1010, 1015, 3000, 3003]);
