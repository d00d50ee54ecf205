import IsomorphicWebSocket from 'isomorphic-ws';
import { ReconnectingSocket, type CloseRecord, type ReconnectingSocketOptions, type SocketErrorEvent, type WebSocketConstructor, type WireData } from '../index.js';
import { CloseEvent, ErrorEvent, messageEvent, type EventListenerFor, type WebSocketEventMap } from './events.js';
import type { Flavour } from './flavours.js';
import { DEFAULTS, checkDelays, checkUrl, renamed, type Message, type Options, type ProtocolsProvider, type UrlProvider } from './options.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const MISSING = 'ReconnectingWebSocket: no WebSocket class found: pass the WebSocket option (Node < 22: npm install ws).';

/** Stands in when no WebSocket class exists: looks again at each attempt (a polyfill may have come), else fails it. */
const MissingWebSocket = function (url: string, protocols?: string | string[]) {
  const Late = globalThis.WebSocket;
  if (!Late) throw new TypeError(MISSING);
  return new Late(url, protocols);
} as unknown as WebSocketConstructor;

/** The one listener per event type that calls the `on<type>` property: registered first, so it runs first. */
function callHandler(this: CompatSocket, event: Event): void {
  const handler = this[`on${event.type}` as 'onopen'];
  if (typeof handler === 'function') handler.call(this, event);
}

const isThenable = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | null)?.then === 'function';

function toCloseEvent(close: CloseRecord): CloseEvent {
  const event = new CloseEvent(close.code, close.reason);
  event.wasClean = close.wasClean;
  return event;
}

type Core = ReconnectingSocket<string | ArrayBuffer | Blob, WireData>;

export interface CompatSocket {
  addEventListener<K extends keyof WebSocketEventMap>(type: K, listener: EventListenerFor<WebSocketEventMap[K]> | null, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof WebSocketEventMap>(type: K, listener: EventListenerFor<WebSocketEventMap[K]> | null, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/**
 * The API of reconnecting-websocket and partysocket's `ReconnectingWebSocket`, run by one `ReconnectingSocket`.
 * What differs between the two is in the `Flavour` table; each entry point subclasses this with its own.
 *
 * The core owns the connection, the backoff timer, the queue and the bounded close handshake. This class maps
 * the options, turns the core's events into `Event`s, derives `readyState`, and keeps the bookkeeping the core
 * cannot: which close was already reported by a synthetic `close` event (`close()` in partysocket,
 * `reconnect()` in both), so the core's own report of that connection is not dispatched a second time; and the
 * backlog it resends before `open` (the originals' order, where the core sends it after its open listeners).
 */
export class CompatSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  /** Called with each `open` event, before the listeners. */
  onopen: ((event: Event) => void) | null = null;
  /** Called with each `message` event, before the listeners. */
  onmessage: ((event: MessageEvent) => void) | null = null;
  /** Called with each `close` event, before the listeners. */
  onclose: ((event: CloseEvent) => void) | null = null;
  /** Called with each `error` event, before the listeners. */
  onerror: ((event: ErrorEvent) => void) | null = null;

  readonly #core: Core;
  readonly #flavour: Flavour;
  readonly #log: ((...args: unknown[]) => void) | undefined;
  #url = '';
  #binaryType: BinaryType = 'blob';
  /** `close()` was called and no `reconnect()` since. */
  #isCloseCalled = false;
  /** The core started an attempt and has not yet reported its end: it owes one `close` event. */
  #isAttempting = false;
  /** That owed `close` was already dispatched by us: the core's report, and anything else of that connection, is dropped. */
  #isMuted = false;
  /** Counts close() and reconnect() calls: code that calls out sees whether a handler ended the connection meanwhile. */
  #epoch = 0;
  /**
   * The head of the queue while it is ours: the backlog being resent at open, then, if a handler closed or
   * reconnected meanwhile, the unsent rest until the core leaves `open`. Later sends queue behind it.
   */
  #backlog: WireData[] | undefined;
  #hasWarnedSend = false;
  #hasWarnedDrop = false;

  /** Creates the socket and, unless `startClosed`, starts connecting (the first attempt at once). */
  constructor(flavour: Flavour, url: UrlProvider, protocols?: ProtocolsProvider, options: Options = {}) {
    super();
    this.#flavour = flavour;
    if (typeof url !== 'function') {
      checkUrl(url);
      this.#url = String(url);
    }
    checkDelays(options);
    const given = options.WebSocket;
    if (given != null && typeof given !== 'function') throw new TypeError(`ReconnectingWebSocket: the WebSocket option must be a WebSocket class, got ${typeof given}.`);
    let Ctor: WebSocketConstructor | undefined = given ?? (globalThis.WebSocket as unknown as WebSocketConstructor | undefined) ?? (IsomorphicWebSocket as unknown as WebSocketConstructor | null) ?? undefined;
    if (!Ctor) {
      if (flavour.throwsWithoutWebSocket) throw new TypeError(MISSING);
      console.error(MISSING);
      Ctor = MissingWebSocket;
    }
    const min = options.minReconnectionDelay ?? 1000 + Math.random() * 4000;
    const max = options.maxReconnectionDelay ?? DEFAULTS.maxReconnectionDelay;
    const grow = options.reconnectionDelayGrowFactor ?? DEFAULTS.reconnectionDelayGrowFactor;
    const shouldReconnectOnClose = options.shouldReconnectOnClose;
    const log = options.debug ? (options.debugLogger ?? console.log) : undefined;
    this.#log = log;
    const core: ReconnectingSocketOptions<string | ArrayBuffer | Blob, WireData> = {
      // No protocols for null or '' (a WebSocket given '' would refuse it as an invalid subprotocol).
      protocols: typeof protocols === 'function' ? () => then(protocols(), (value) => value || undefined) : protocols || undefined,
      autoConnect: !(options.startClosed ?? DEFAULTS.startClosed),
      connectTimeoutMs: options.connectionTimeout ?? DEFAULTS.connectionTimeout,
      stableAfterMs: options.minUptime ?? DEFAULTS.minUptime,
      maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
      // Their curve: retry n waits min(max, min × grow^(n - 1)), no jitter beyond the per-instance default of min.
      delay: (retry) => Math.min(max, min * grow ** (retry - 1)),
      // They retry after any close you did not ask for, whatever its code.
      shouldReconnect: (close) => {
        if (Ctor === MissingWebSocket && !globalThis.WebSocket) return false;
        return shouldReconnectOnClose ? Boolean(shouldReconnectOnClose(toCloseEvent(close))) : true;
      },
      // They have no heartbeat, no page lifecycle handling, and keep queueing after close() for a later reconnect().
      heartbeat: false,
      environment: null,
      queue: { maxMessages: options.maxEnqueuedMessages ?? DEFAULTS.maxEnqueuedMessages, maxBytes: Infinity, overflow: 'drop-newest', queueWhileClosed: true },
      WebSocket: Ctor,
      ...(log && { debug: (message: string, detail?: unknown) => (detail === undefined ? log('RWS>', message) : log('RWS>', message, detail)) }),
    };
    try {
      this.#core = new ReconnectingSocket(this.#provider(url), core);
    } catch (error) {
      throw renamed(error);
    }
    this.#core.on('open', () => this.#onOpen());
    this.#core.on('message', ({ data }) => this.#isMuted || this.dispatchEvent(messageEvent('message', this.#convert(data))));
    this.#core.on('error', (event) => this.#onError(event));
    this.#core.on('close', (close) => this.#onClose(close));
    this.#core.on('drop', ({ message, reason }) => this.#onDrop(message, reason));
    this.#core.on('state', ({ from }) => from === 'open' && this.#requeue());
    for (const type of ['open', 'message', 'close', 'error']) this.addEventListener(type, callHandler);
  }

  get CONNECTING(): number {
    return CONNECTING;
  }
  get OPEN(): number {
    return OPEN;
  }
  get CLOSING(): number {
    return CLOSING;
  }
  get CLOSED(): number {
    return CLOSED;
  }

  /**
   * `CONNECTING` (0) while an attempt runs, `OPEN` (1), `CLOSED` (3) between attempts and once closed. After
   * `close()`: `CLOSED` at once (partysocket), or `CLOSING` (2) until the `close` event (reconnecting-websocket).
   */
  get readyState(): number {
    const state = this.#core.state;
    if (state === 'closed') return CLOSED;
    if (this.#isCloseCalled) return this.#flavour.isClosedAtOnce ? CLOSED : CLOSING;
    // A reconnect() whose close was already reported, called while the core is still dispatching: the core has
    // queued the drop and the new attempt, so the connection it still calls open is on its way out.
    if (this.#isMuted) return CONNECTING;
    return state === 'open' ? OPEN : state === 'connecting' ? CONNECTING : CLOSING;
  }

  /** Retries since the last connection that stayed open `minUptime` (0 during the first attempt). */
  get retryCount(): number {
    return this.#core.attempt;
  }

  /** Bytes not yet sent: the queued messages (UTF-8 for strings) plus the open socket's buffer. */
  get bufferedAmount(): number {
    return this.#core.bufferedAmount;
  }

  /** The URL of the latest attempt (a fixed URL from the start; `''` until a provider first returns one). */
  get url(): string {
    return this.#url;
  }

  /** The subprotocol the server selected (`''` when none or not open). */
  get protocol(): string {
    return this.#core.protocol;
  }

  /** The extensions the server selected, where the core reports them (`''` otherwise). */
  get extensions(): string {
    return (this.#core as { extensions?: string }).extensions ?? '';
  }

  /** How binary messages are delivered: `'blob'` or `'arraybuffer'`. Kept across reconnects. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(value: BinaryType) {
    // Like the browser's WebSocket: any other value is ignored.
    if (value === 'blob' || value === 'arraybuffer') this.#binaryType = value;
  }

  /**
   * Stops reconnecting (a pending retry is cancelled) and closes with the handshake, bounded in time: a peer that
   * never answers is cut off after 5 s, so a Node process that closes its sockets exits.
   */
  close(code = 1000, reason = ''): void {
    const wasMuted = this.#isMuted;
    const wasCloseCalled = this.#isCloseCalled;
    const isReported = this.#flavour.isClosedAtOnce && this.#isLive();
    // Bookkeeping first: the core may report the close inside core.close(), and a handler that reconnects there
    // must win over this call.
    this.#isMuted ||= isReported;
    this.#isCloseCalled = true;
    this.#epoch++;
    try {
      void this.#core.close(code, reason);
    } catch (error) {
      // A bad code or reason, refused before anything ran.
      this.#isMuted = wasMuted;
      this.#isCloseCalled = wasCloseCalled;
      this.#epoch--;
      throw error;
    }
    this.#log?.('RWS>', 'close', code, reason);
    if (isReported) this.dispatchEvent(new CloseEvent(code, reason));
  }

  /**
   * Closes the current connection, if any (with a synthetic `close` event carrying `code` and `reason`), and
   * connects again at once with the retry count reset. Works after `close()` and after `maxRetries` too.
   */
  reconnect(code?: number, reason?: string): void {
    const core = this.#core;
    const wasMuted = this.#isMuted;
    const wasCloseCalled = this.#isCloseCalled;
    const isReported = this.#isLive();
    this.#isMuted ||= isReported;
    this.#isCloseCalled = false;
    this.#epoch++;
    try {
      // A close frame first, so the server learns the code; the new attempt does not wait for its answer.
      // Not twice: a close already asked for (and reported) in this dispatch would end the next attempt.
      if (core.state === 'open' && !wasMuted) void core.close(code ?? 1000, reason ?? '');
    } catch (error) {
      this.#isMuted = wasMuted;
      this.#isCloseCalled = wasCloseCalled;
      this.#epoch--;
      throw error;
    }
    this.#log?.('RWS>', 'reconnect');
    core.reconnect();
    if (isReported) this.dispatchEvent(new CloseEvent(code, reason));
  }

  /** Sends now if open (`true`), else queues, up to `maxEnqueuedMessages` (`false`). */
  protected transmit(data: Message): boolean {
    if (this.#isCloseCalled && this.#flavour.warnsSendAfterClose && !this.#hasWarnedSend) {
      this.#hasWarnedSend = true;
      console.warn('ReconnectingWebSocket: send() after close() queues the message until reconnect() (warned once).');
    }
    if (this.#backlog) {
      this.#backlog.push(data as WireData);
      return false;
    }
    return this.#core.send(data as WireData) === 'sent';
  }

  /** Empties the queue and returns what it held, oldest first. */
  protected drain(): Message[] {
    const held = this.#backlog?.splice(0) ?? [];
    return held.concat(this.#core.clearQueue().map((item) => item.message)) as Message[];
  }

  /** Whether `close()` was called and no `reconnect()` since. */
  protected get isCloseCalled(): boolean {
    return this.#isCloseCalled;
  }

  // ── the core's events ────────────────────────────────────────────────────────────────────────────────────

  #onOpen(): void {
    if (this.#isMuted) return;
    // As in the originals, the backlog goes out before the open event: open listeners send after it. A message
    // the socket refuses raises `error`, whose handler may close or reconnect (both bump #epoch): the rest of
    // the backlog then waits for the next open, and this connection, already ended, does not announce itself.
    const core = this.#core;
    const epoch = this.#epoch;
    const backlog = (this.#backlog = core.clearQueue().map((item) => item.message));
    while (backlog.length > 0 && this.#epoch === epoch && core.state === 'open') {
      const message = backlog.shift()!;
      // Reported as the core's own flush reports it: the error (already dispatched), then a drop.
      if (core.send(message) === 'failed') this.#onDrop(message, 'failed');
    }
    if (this.#epoch !== epoch || core.state !== 'open') {
      // Held (sends from handlers queue behind it) until the core leaves `open` and can queue it again.
      if (core.state !== 'open') this.#requeue();
      return;
    }
    this.#backlog = undefined;
    this.dispatchEvent(new Event('open'));
  }

  /** Gives the held backlog back to the core's queue, ahead of what the core queued meanwhile. */
  #requeue(): void {
    const held = this.#backlog;
    if (!held) return;
    const core = this.#core;
    held.push(...core.clearQueue().map((item) => item.message));
    // Still ours while it empties: a handler that sends (from a `drop` for overflow) queues behind it.
    while (held.length > 0) core.send(held.shift()!);
    this.#backlog = undefined;
  }

  #onError({ error }: SocketErrorEvent): void {
    if (this.#isMuted) return;
    // The socket's own error, as they report it (ws: ECONNREFUSED and the like); ours otherwise.
    const event = new ErrorEvent(error.code === 'SOCKET_ERROR' && error.cause instanceof Error ? error.cause : error);
    if (error.code === 'CONNECT_TIMEOUT') event.message = 'TIMEOUT';
    this.#log?.('RWS>', 'error', event.message);
    this.dispatchEvent(event);
  }

  #onClose(close: CloseRecord): void {
    this.#isAttempting = false;
    if (this.#isMuted) {
      this.#isMuted = false;
      return;
    }
    this.dispatchEvent(toCloseEvent(close));
  }

  #onDrop(message: WireData, reason: string): void {
    this.#log?.('RWS>', 'drop', message);
    if (reason === 'overflow' && !this.#hasWarnedDrop) {
      this.#hasWarnedDrop = true;
      console.warn('ReconnectingWebSocket: maxEnqueuedMessages reached: dropping messages, see the "drop" event (warned once).');
    }
    this.dispatchEvent(messageEvent('drop', message));
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────

  /** An attempt is under way or open, and nobody reported its end yet. */
  #isLive(): boolean {
    // Once its close was dispatched by us, the connection is not reported again (re-entrant calls in one dispatch).
    return this.#isAttempting && !this.#isMuted && this.readyState <= OPEN;
  }

  /** The url the core calls at the start of each attempt: it marks the attempt and records the URL. */
  #provider(url: UrlProvider): () => string | URL | Promise<string | URL> {
    return () => {
      this.#isAttempting = true;
      if (typeof url !== 'function') return url;
      return then(url(), (value) => {
        this.#url = String(value);
        return value;
      });
    };
  }

  #convert(data: string | ArrayBuffer | Blob): string | ArrayBuffer | Blob {
    return typeof data === 'string' || this.#binaryType === 'arraybuffer' || data instanceof Blob ? data : new Blob([data]);
  }
}

/** Applies `fn` to a value now, or to a promise's value once it settles: sync providers stay sync. */
function then<T, R>(value: T | PromiseLike<T>, fn: (value: T) => R): R | Promise<R> {
  return isThenable(value) ? Promise.resolve(value).then(fn) : fn(value);
}
