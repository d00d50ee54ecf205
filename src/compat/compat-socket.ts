import { checkClose } from '#checks';
import { ReconnectingSocket, type CloseRecord, type ReconnectingSocketOptions, type SocketCloseEvent, type WebSocketConstructor, type WebSocketLike, type WireData } from '../index.js';
import { reportUncaught } from '../errors.js';
import { CloseEvent, ErrorEvent, type EventListenerFor, type WebSocketEventMap } from './events.js';
import { renamed, type Message, type Options, type ProtocolsProvider, type UrlProvider } from './options.js';

/** partysocket hands its listeners (not its `on*` handlers) a copy of each close event in Node, with defaults. */
const IS_NODE = !!globalThis.process?.versions?.node;

const PASS_IT = 'pass the WebSocket option (Node < 22: npm install ws).';

type Core = ReconnectingSocket<string | ArrayBuffer | Blob, WireData>;

export interface CompatSocket {
  addEventListener<K extends keyof WebSocketEventMap>(type: K, listener: EventListenerFor<WebSocketEventMap[K]> | null, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof WebSocketEventMap>(type: K, listener: EventListenerFor<WebSocketEventMap[K]> | null, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/**
 * The API of reconnecting-websocket and partysocket's `ReconnectingWebSocket`, run by one `ReconnectingSocket`.
 * Each entry point subclasses it; `isParty` selects partysocket's ways where the two differ.
 *
 * The core owns the attempts, the backoff and connect timers, `minUptime` and the bounded close handshake. This
 * class keeps what a user of the originals sees: the latest inner socket (whose `readyState`, `url`,
 * `binaryType`, `protocol` and `extensions` it shows, as the originals do), its own queue (flushed before
 * `open`), and the originals' event shapes: an attempt that ends in an error is reported as a clean `close`
 * (1000) and then the `error`, with the retry already counted.
 *
 * Bookkeeping of attempts: the core calls the URL provider once per attempt and reports each one's end with
 * exactly one `close` event, in order. So `#started` and `#ended` count them, and an attempt whose end this
 * class already reported itself (`close()` in partysocket, `reconnect()` in both) is `#muted`: its later
 * events are dropped, as the originals drop them by detaching from the socket.
 */
export class CompatSocket extends EventTarget {
  declare static readonly CONNECTING: number;
  declare static readonly OPEN: number;
  declare static readonly CLOSING: number;
  declare static readonly CLOSED: number;
  declare readonly CONNECTING: number;
  declare readonly OPEN: number;
  declare readonly CLOSING: number;
  declare readonly CLOSED: number;

  /** Called with each `open` event, before the listeners. */
  onopen: ((event: Event) => void) | null = null;
  /** Called with each `message` event, before the listeners. */
  onmessage: ((event: MessageEvent) => void) | null = null;
  /** Called with each `close` event, before the listeners. */
  onclose: ((event: CloseEvent) => void) | null = null;
  /** Called with each `error` event, before the listeners. */
  onerror: ((event: ErrorEvent) => void) | null = null;

  /** The URL or its provider, read at each attempt. */
  protected declare _url: UrlProvider;
  /** The subprotocols or their provider, read at each attempt. */
  protected declare _protocols: ProtocolsProvider | undefined;
  /** The options; `WebSocket`, `maxEnqueuedMessages`, `shouldReconnectOnClose` and `debug` are read when used. */
  protected declare _options: Options;

  readonly #core: Core;
  readonly #isParty: boolean;
  /** The latest inner socket, kept after it closes (as the originals keep theirs). */
  #ws: WebSocketLike | undefined;
  #binaryType: string = 'blob';
  #queue: Message[] = [];
  #isCloseCalled = false;
  #shouldReconnect: boolean;
  #hasWarnedSend = false;
  #started = 0;
  #ended = 0;
  /** 1 while an error without a close before it is reported: partysocket counts the retry only after it. */
  #lag = 0;
  /** The attempt that created `#ws`. */
  #socketOf = 0;
  /** Attempts up to this one were reported by us (a second `reconnect()` may report one that is still ending). */
  #muted = 0;

  /** Creates the socket and, unless `startClosed`, starts connecting. */
  constructor(isParty: boolean, url: UrlProvider, protocols?: ProtocolsProvider, options: Options = {}) {
    super();
    this.#isParty = isParty;
    this._url = url;
    this._protocols = protocols;
    this._options = options;
    const isStarting = !options.startClosed;
    this.#shouldReconnect = isStarting;
    // reconnecting-websocket checks for a WebSocket class when it starts connecting, and throws without one.
    if (!isParty && isStarting && (options.WebSocket ?? globalThis.WebSocket)?.CLOSING !== 2) {
      throw new TypeError(`ReconnectingWebSocket: No valid WebSocket class provided: ${PASS_IT}`);
    }
    const self = this;
    // reconnecting-websocket's default is drawn per socket here, so a crowd does not retry in step.
    const min = isParty ? 3000 : 1000 + Math.random() * 4000;
    const core: ReconnectingSocketOptions<string | ArrayBuffer | Blob, WireData> = {
      protocols: () => this.#later(this._protocols).then((value) => value || undefined),
      autoConnect: isStarting,
      connectTimeoutMs: options.connectionTimeout ?? 4000,
      // The core's defaults are theirs: 5 s, and no limit.
      stableAfterMs: options.minUptime,
      maxRetries: options.maxRetries,
      // Their curve, read from the options as each retry is planned (updateProperties() changes it), and taking
      // any value as they take it, with no regard for Retry-After or 1013: retry n waits min(max, min × grow^(n - 1)).
      delay: (n) => {
        const o = this._options;
        return Math.min(o.maxReconnectionDelay ?? 10_000, (o.minReconnectionDelay ?? min) * (o.reconnectionDelayGrowFactor ?? 1.3) ** (n - 1));
      },
      shouldReconnect: (close) => this.#decide(this.#closeEvent(close)),
      // They have no heartbeat and no page lifecycle handling.
      heartbeat: false,
      environment: null,
      WebSocket: function (url: string, protocols?: string | string[]) {
        return self.#open(url, protocols);
      } as unknown as WebSocketConstructor,
    };
    let engine: Core;
    try {
      engine = this.#core = new ReconnectingSocket(() => {
        this.#started++;
        // The originals' debug line as each attempt starts.
        const o = this._options;
        if (o.debug) (o.debugLogger ?? console.log)('RWS>', 'connect', this.#core.attempt);
        return this.#later(this._url) as Promise<string>;
      }, core);
    } catch (error) {
      throw renamed(error as Error);
    }
    engine.on('open', () => this.#onOpen());
    // The events of an attempt come before its close: the attempt under way is #ended + 1.
    engine.on('message', ({ data }) => this.#ended < this.#muted || this.#emit(new MessageEvent('message', { data })));
    engine.on('close', (close) => this.#onClose(close));
    // Reported through the close record; listening keeps the core from printing them.
    engine.on('error', () => {});
  }

  /**
   * The inner socket's `readyState`; before the first one exists, `CONNECTING` (0), or `CLOSED` (3) with
   * `startClosed`. partysocket's flavour shows `CLOSED` from `close()` until `reconnect()`.
   */
  get readyState(): number {
    const ws = this.#ws;
    const state = ws ? ws.readyState : this._options.startClosed ? 3 : 0;
    if (!this.#isCloseCalled) return state;
    // After close(): reconnecting-websocket's socket is CLOSING at once (it showed CONNECTING for good after a
    // close() before its first socket: CLOSED here).
    return this.#isParty || !ws ? 3 : Math.max(state, 2);
  }

  /** Retries counted since the last connection that stayed open `minUptime`; inside `close` and `error` listeners it already counts the retry that follows. */
  get retryCount(): number {
    return this.#core.attempt - this.#lag;
  }

  /** The queued messages' size (string length, as the originals count it) plus the inner socket's buffer. */
  get bufferedAmount(): number {
    let bytes = this.#ws?.bufferedAmount ?? 0;
    for (const message of this.#queue) bytes += typeof message === 'string' ? message.length : message instanceof Blob ? message.size : message.byteLength;
    return bytes;
  }

  /** The inner socket's URL (`''` until the first socket exists). */
  get url(): string {
    return (this.#ws as { url?: string } | undefined)?.url ?? '';
  }

  /** The subprotocol the server selected (`''` before the first socket). */
  get protocol(): string {
    return this.#ws?.protocol ?? '';
  }

  /** The extensions the server selected (`''` before the first socket). */
  get extensions(): string {
    return (this.#ws as { extensions?: string } | undefined)?.extensions ?? '';
  }

  /** The inner socket's `binaryType` once there is one; set on every socket. @default 'blob' */
  get binaryType(): BinaryType {
    return (this.#ws ? this.#ws.binaryType : this.#binaryType) as BinaryType;
  }
  set binaryType(value: BinaryType) {
    this.#binaryType = value;
    if (this.#ws) this.#ws.binaryType = value;
  }

  /**
   * Stops reconnecting (a pending retry is cancelled) and closes with the handshake, bounded in time: a peer that
   * never answers is cut off after 5 s, so a Node process that closes its sockets exits.
   */
  close(code = 1000, reason = ''): void {
    // A code or reason the socket would refuse throws before anything changes.
    checkClose(code, reason);
    this.#isCloseCalled = true;
    this.#shouldReconnect = false;
    // partysocket reports the close at once, when there is a socket that is not closing already.
    const isReported = this.#isParty && (this.#ws?.readyState ?? 3) < 2;
    if (isReported) this.#mute();
    void this.#core.close(code, reason);
    if (isReported) {
      const event = new CloseEvent(code, reason);
      // partysocket consults shouldReconnectOnClose for its own close too (the answer cannot matter now).
      this.#decide(event);
      this.#emit(event);
    }
  }

  /**
   * Closes the current connection, if any (with a synthetic `close` event carrying `code` and `reason`), and
   * connects again with the retry count reset. Works after `close()` and after `maxRetries` too.
   */
  reconnect(code?: number, reason?: string): void {
    // The originals report the socket they leave unless it is closed (or, in partysocket, closing).
    const isReported = (this.#ws?.readyState ?? 3) < (this.#isParty ? 2 : 3);
    const core = this.#core;
    // A close frame first, so the server learns the code (one the socket would refuse throws here, before anything
    // changes); the new attempt does not wait for its answer. Nothing of it is heard before #mute().
    if (core.state === 'open') void core.close(code, reason);
    this.#isCloseCalled = false;
    this.#shouldReconnect = true;
    this.#hasWarnedSend = false;
    if (isReported) this.#mute();
    core.reconnect();
    if (isReported) this.#emit(new CloseEvent(code, reason));
  }

  /**
   * Sends now if the socket is open (`true`): straight to it, so what it takes (a number, as text) or refuses
   * (it throws) is as in the originals. Else queues, up to `maxEnqueuedMessages` (`false`; a `drop` event past that).
   */
  protected transmit(data: Message): boolean {
    const ws = this.#ws;
    if (ws?.readyState === 1) return ws.send(data as WireData), true;
    if (this.#isParty && this.#isCloseCalled && !this.#hasWarnedSend) {
      this.#hasWarnedSend = true;
      console.warn('ReconnectingWebSocket: send() was called after close(): queued until reconnect().');
    }
    if (this.#queue.length < (this._options.maxEnqueuedMessages ?? Infinity)) this.#queue.push(data);
    else this.dispatchEvent(new MessageEvent('drop', { data }));
    return false;
  }

  /**
   * Removes and returns the messages queued by `send()` and not yet sent, oldest first (partysocket; harmless
   * on the reconnecting-websocket flavour, which did not have it).
   */
  drainQueuedMessages(): Message[] {
    return this.#queue.splice(0);
  }

  /** partysocket's `shouldReconnect`: false after `close()` or a declined retry, until `reconnect()`. */
  protected get isReconnecting(): boolean {
    return this.#shouldReconnect;
  }

  // ── the core's events ────────────────────────────────────────────────────────────────────────────────────

  #onOpen(): void {
    if (this.#ended < this.#muted) return;
    // As in the originals, the queue goes out before the open event; a message the socket refuses is dropped.
    for (const message of this.#queue.splice(0)) {
      try {
        this.transmit(message);
      } catch {}
    }
    this.#emit(new Event('open'));
  }

  #onClose(close: SocketCloseEvent): void {
    const attempt = ++this.#ended;
    if (attempt <= this.#muted) return;
    const failed = this.#failed(close);
    // An error is reported as the originals report it: a clean close of the socket (if there ever was one), then the error.
    if (failed ? this.#ws : this.#socketOf === attempt) this.#emit(this.#closeEvent(close));
    if (!failed) return;
    // Without a socket no close came first, and partysocket counts the retry only after the error (#emit does
    // not throw).
    this.#lag = +(!this.#ws && close.willReconnect);
    const { status } = close;
    // The socket's own error (a browser's error event has no detail, as the originals show it), or ws's for a
    // refused upgrade, else ours.
    this.#emit(new ErrorEvent(close.cause === 'connect-timeout' ? Error('TIMEOUT') : status ? Error(`Unexpected server response: ${status}`) : ((failed.cause ?? failed) as Error)));
    this.#lag = 0;
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────

  /** The error that ended the attempt, unless it only bounded a close we asked for. */
  #failed(close: CloseRecord) {
    return close.cause !== 'close-timeout' && close.error;
  }

  /** The close event a user sees for this record (and what `shouldReconnectOnClose` is given). */
  #closeEvent(close: CloseRecord): CloseEvent {
    if (this.#failed(close)) return new CloseEvent(1000, close.cause === 'connect-timeout' ? 'timeout' : '');
    const event = new CloseEvent(close.code, close.reason);
    event.wasClean = close.wasClean;
    return event;
  }

  /** partysocket's `shouldReconnectOnClose`: a decline turns `shouldReconnect` false before the close event's listeners run. */
  #decide(event: CloseEvent): boolean {
    const decide = this.#isParty && this._options.shouldReconnectOnClose;
    return decide && !decide(event) ? (this.#shouldReconnect = false) : true;
  }

  /** The attempts under way (if any) were reported by us: their further events are dropped. */
  #mute(): void {
    if (this.#ended < this.#started) this.#muted = this.#started;
  }

  /**
   * The `on<type>` handler first, then the listeners (partysocket in Node: with its copy of a close event). A
   * handler that throws is reported to the runtime, as a listener's throw is, and the listeners still run.
   */
  #emit(event: Event): void {
    try {
      (this as unknown as Record<string, ((event: Event) => void) | null>)[`on${event.type}`]?.call(this, event);
    } catch (error) {
      reportUncaught(error);
    }
    this.dispatchEvent(this.#isParty && IS_NODE && event instanceof CloseEvent ? new CloseEvent(event.code || 1999, event.reason || 'unknown reason') : event);
  }

  #open(url: string, protocols?: string | string[]): WebSocketLike {
    // Without a WebSocket class this throws partysocket's "WebSocket is not defined": each attempt fails with an
    // error event (a polyfill installed meanwhile is used).
    const ws: WebSocketLike = new ((this._options.WebSocket ?? WebSocket) as WebSocketConstructor)(url, protocols);
    this.#ws = ws;
    this.#socketOf = this.#started;
    // After the core has set its own binaryType on it: the user's applies, whatever its value.
    queueMicrotask(() => (ws.binaryType = this.#binaryType));
    return ws;
  }

  /**
   * A value, or what a provider gives, always a tick later: the socket is created after the call that started
   * the attempt has reported everything (as in the originals, where `url` is '' until then), and a provider that
   * throws fails the attempt from there too.
   */
  async #later<T>(value: T | (() => T | Promise<T>)): Promise<T> {
    await 0;
    return typeof value === 'function' ? (value as () => T | Promise<T>)() : value;
  }
}

// The readyState constants, on the class and on its instances (through the prototype), as on WebSocket.
const STATES = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };
Object.assign(CompatSocket, STATES);
Object.assign(CompatSocket.prototype, STATES);
