import { backoffDelay } from './backoff.js';
import { checkClose, closeRecord, listen, protocolErrorCode, retire, retryAfterMs, socketError, type SocketHandlers } from './connection.js';
import { SocketEmitter } from './emitter.js';
import { createBrowserEnvironment, type Environment } from './environment.js';
import { SocketError, describeError, reportUncaught } from './errors.js';
import type { SendResult, SocketEvents } from './events.js';
import { startHeartbeat, type Heartbeat, type HeartbeatHost } from './heartbeat.js';
import { checkTimeout, closedError, iterate, nextEvent, type FinalClose } from './waits.js';
import { transition, type CloseRecord, type Input, type Policy, type Retry, type State, type StateName } from './machine.js';
import { MAX_RETRY_AFTER_MS, defaultShouldReconnect, resolveOptions, type Provider, type ProviderContext, type RawMessage, type ReconnectingSocketArgs, type ReconnectingSocketOptions, type ResolvedOptions, type WireData } from './options.js';
import { checkUrl, resolveProviders } from './providers.js';
import { OutgoingQueue, type QueuedMessage } from './queue.js';
import { liveSockets } from './registry.js';
import { MAX_TIMER_MS, OPEN, byteSize, defaultWebSocket, supportsHeaders, type TransportOptions, type WebSocketConstructor, type WebSocketLike } from './transport.js';

type ClosedState = Extract<State, { name: 'closed' }>;

/** A message sent while a listener's call was queued: counted as queued until it is placed. */
interface Held<Out> extends QueuedMessage<Out> {
  /** Sent by an `open` listener: ahead of the backlog if the connection is still open. */
  readonly isFirst: boolean;
}

/** The inner socket names its owner here: the shared listeners find the instance through it. */
const OWNER = Symbol('resilient-websocket.owner');
type Owned = WebSocketLike & { [OWNER]?: ReconnectingSocket<any, any> };
/** What `ws` records about the close handshake (its close event's wasClean is both flags). */
type WsFlags = { _closeFrameReceived?: boolean; _closeFrameSent?: boolean };
/** What the WHATWG listeners read from their events. */
type DomEvent = { currentTarget?: WebSocketLike; target?: WebSocketLike; data?: unknown; code?: number; reason?: string; wasClean?: boolean; error?: unknown; message?: string };


/** The socket a WHATWG listener was called for: `this`, or the event's target where a polyfill passes no `this`. */
const target = (self: WebSocketLike | undefined, event: DomEvent) => self ?? event?.currentTarget ?? event?.target;

// Set by the class's static block: the shared socket listeners and late-error absorber.
let HANDLERS: { ws: SocketHandlers; dom: SocketHandlers };
let absorbLateError: (this: WebSocketLike, error: unknown) => void;

/** The URL to connect to, or a provider called before every attempt. */
export type UrlProvider = Provider<string | URL>;

/**
 * A WebSocket that reconnects with backoff, checks liveness, queues while down, and always closes: the close
 * handshake is bounded by `closeTimeoutMs`, and `close()` or `dispose()` leave no timer, listener or socket
 * behind. It runs the pure state machine of `machine.ts`; this class only performs its effects.
 *
 * ```
 *   connecting ──OPENED──▶ open ──close()──▶ closing ──peer's close frame / closeTimeoutMs──▶ closed
 *       ▲                   │                                                                    │
 *       └── retry (backoff) ┴──── dropped, heartbeat timeout, server close ─────────────────────▶┘
 * ```
 *
 * @example
 * ```ts
 * const socket = new ReconnectingSocket('wss://example.com/feed', { codec: jsonCodec });
 * socket.on('open', () => socket.send({ type: 'subscribe', topic: 'prices' }));
 * socket.on('message', ({ data }) => render(data));
 * socket.on('close', ({ code, cause, willReconnect, delayMs }) => log(code, cause, willReconnect, delayMs));
 * // later: resolves once the peer answered the close frame, or after closeTimeoutMs at the latest
 * await socket.close();
 * ```
 */
export class ReconnectingSocket<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> {
  // Thousands of these live in one process: per instance there are fields and nothing else. Timers, socket
  // listeners and heartbeat callbacks are shared functions that find their instance through an argument or
  // through the socket (OWNER), and every collection is allocated with its first item.
  readonly #url: UrlProvider;
  readonly #options: ResolvedOptions<In, Out>;
  readonly #WebSocket: WebSocketConstructor;
  readonly #events = new SocketEmitter<SocketEvents<In, Out>>();
  #queue: OutgoingQueue<Out> | undefined;
  readonly #environment: Environment | null;
  #state: State;
  /**
   * Counts the states whose effects were released. A timer or provider raises its input with the count of the
   * state that started it; an input from a state since left is dropped.
   */
  #epoch = 0;
  /** The current state's one timer: the connect timeout, the close timeout, the planned retry or `STABLE`. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Aborts the providers of the attempt under way. */
  #controller: AbortController | undefined;
  #heartbeat: Heartbeat<ReconnectingSocket<any, any>> | undefined;
  /** An attempt has started and not yet ended: its one `close` event is still owed. */
  #isAttempting = false;
  #socket: WebSocketLike | undefined;
  /** The last error the current socket reported, for its close record. */
  #socketError: SocketError | undefined;
  /** Set when we failed the current connection for a protocol error (RFC 6455 §7.1.7): its close is reported. */
  #isFailed = false;
  /** Inputs waiting their turn, each with the epoch it was raised in when it must not outlive that state. */
  #inputs: [Input, number | undefined, ((close: CloseRecord) => void) | undefined][] | undefined;
  /** Messages sent while a listener's call was queued, placed once it has run (see `#placeHeld`). */
  #held: Held<Out>[] | undefined;
  #isDispatching = false;
  /** Run once the queued inputs are done (see `#whenDrained`). */
  #drained: (() => void)[] | undefined;
  /** While a transition is computed: what the policy's callbacks threw, reported once it is made. */
  #thrown: SocketError[] | undefined;
  #isDisposed = false;
  /** A retry scheduled by the last transition, announced once no queued input has superseded it. */
  #announce: State | undefined;
  /** Resolved by the end of the current connection, or by the final close if there is no connection. */
  #closeWaiters: ((close: CloseRecord) => void)[] | undefined;
  /** While `open` listeners run, their sends go straight out, ahead of the queued backlog. */
  #isAnnouncingOpen = false;
  /** The socket whose backlog is flushed once the inputs raised by `open` listeners have run. */
  #flushAfter: WebSocketLike | undefined;
  #rttMs: number | undefined;
  #nextRetryAt: number | undefined;
  /** The delay of the previous retry, which the decorrelated curve grows from. */
  #previousDelayMs = 0;
  /** 401/403/407 refusals of the upgrade in a row; an open resets it. */
  #refusals = 0;
  /** The one-time warnings already given: 1 headers ignored, 2 transport ignored. */
  #warned = 0;
  #hasWarnedUnhandled = false;
  /** dispose() removed every listener: nothing is emitted any more. */
  #isSilent = false;
  #closedPromise: Promise<CloseRecord> | undefined;
  /** Called whenever the socket reaches a final closed state (closed by you, given up, disposed). */
  #finalHooks: ((state: ClosedState) => void)[] | undefined;
  /**
   * From the first attempt to the final close the socket runs: it is in the live registry and follows the
   * environment and the signal. Outside that, neither window nor a long-lived signal holds it.
   */
  #isRunning = false;
  #unsubscribe: (() => void) | undefined;
  #onAbort: (() => void) | undefined;

  /**
   * Creates the socket and, unless `autoConnect` is `false`, starts connecting (on a microtask: no event
   * fires inside the constructor). Throws `TypeError`/`RangeError` for bad options or a bad URL.
   *
   * `options` may be left out while `In` and `Out` are wire data; message types of your own need a `codec`
   * (see {@link ReconnectingSocketArgs}). Given only `In`, `Out` is `unknown`: whatever the codec accepts.
   */
  constructor(url: UrlProvider, ...[options]: ReconnectingSocketArgs<In, Out>) {
    if (typeof url === 'string' || url instanceof URL) checkUrl(url);
    else if (typeof url !== 'function') {
      throw new TypeError(`ReconnectingSocket: url must be a string, URL or function, got ${typeof url}.`);
    }
    // The (url, protocols, options) shape of reconnecting-websocket and partysocket: say where it belongs.
    if (arguments.length > 2 || Array.isArray(options) || typeof options === 'string') {
      throw new TypeError(
        "ReconnectingSocket(url, options): pass { protocols } in options, or use 'resilient-websocket/compat' for (url, protocols, options).",
      );
    }
    this.#url = url;
    this.#options = resolveOptions<In, Out>(options as ReconnectingSocketOptions<In, Out> | undefined);
    const Ctor = this.#options.WebSocket ?? defaultWebSocket();
    if (!Ctor) {
      throw new TypeError('ReconnectingSocket: no WebSocket found; install "ws" or pass the WebSocket option.');
    }
    this.#WebSocket = Ctor;
    this.#environment = this.#options.environment === undefined ? createBrowserEnvironment() : this.#options.environment;
    if (this.#options.autoConnect) {
      const initial: State = { name: 'connecting', attempt: 0 };
      this.#state = initial;
      // Deferred so that listeners attached right after `new` miss nothing.
      // Run to completion like any input, so a provider that calls back in waits its turn.
      queueMicrotask(() => this.#run(() => this.#state === initial && this.#enter(initial)));
      this.#startRunning();
    } else {
      // Idle until connect(): nothing subscribes yet, so an unused socket is held by no window or signal.
      this.#state = { name: 'closed', attempt: 0, end: 'idle' };
      if (this.#options.signal?.aborted) this.dispose();
    }
  }

  /** `connecting`, `open`, `closing` or `closed`. */
  get state(): StateName {
    return this.#state.name;
  }

  /** Retries since the last stable connection (0 for a first connection). */
  get attempt(): number {
    return this.#state.attempt;
  }

  /** The planned retry while closed: its number, delay and what holds it (offline, hidden, pagehide). */
  get retry(): Retry | undefined {
    return this.#state.name === 'closed' ? this.#state.retry : undefined;
  }

  /** When the planned retry fires (`Date.now()` scale), or `undefined`. */
  get nextRetryAt(): number | undefined {
    return this.#state.name === 'closed' && this.#state.retry && !this.#state.retry.hold ? this.#nextRetryAt : undefined;
  }

  /** How the last connection ended. */
  get lastClose(): CloseRecord | undefined {
    return this.#state.name === 'closed' ? this.#state.last : this.#lastClose;
  }
  #lastClose: CloseRecord | undefined;

  /** The latest heartbeat round-trip time in milliseconds. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** The subprotocol selected by the server ('' when none or not open). */
  get protocol(): string {
    return this.#state.name === 'open' ? (this.#socket?.protocol ?? '') : '';
  }

  /** The extensions the server selected ('' when none or not open). */
  get extensions(): string {
    return this.#state.name === 'open' ? (this.#socket?.extensions ?? '') : '';
  }

  /** Bytes not yet on the wire: the queue (UTF-8 for strings) plus the inner socket's buffer. */
  get bufferedAmount(): number {
    let held = 0;
    if (this.#held) for (const item of this.#held) held += item.bytes;
    return (this.#queue?.bytes ?? 0) + held + (this.#socket?.bufferedAmount ?? 0);
  }

  /**
   * A snapshot of the outgoing queue, oldest first (with, last, what a listener sent while its earlier call is
   * still queued: placed once that call has run).
   */
  get queued(): QueuedMessage<Out>[] {
    return [...(this.#queue?.entries() ?? []), ...this.#heldEntries()];
  }

  #heldEntries(): QueuedMessage<Out>[] {
    return (this.#held ?? []).map(({ message, data, bytes, queuedAt, expiresAt }) => ({ message, data, bytes, queuedAt, expiresAt }));
  }

  /** Whether `dispose()` was called (or the `signal` aborted). */
  get isDisposed(): boolean {
    return this.#isDisposed;
  }

  /**
   * Resolves with the final close: after `close()`, when the reconnect policy gives up, or on `dispose()`.
   * If the socket is started again afterwards, a new promise is handed out.
   */
  get closed(): Promise<CloseRecord> {
    // A listener's earlier call (connect(), say) is still queued: the state it leads to decides.
    if (this.#isPending()) return new Promise((resolve) => this.#whenDrained(() => void this.closed.then(resolve)));
    const final = this.#final();
    if (final?.last) return Promise.resolve(final.last);
    return (this.#closedPromise ??= new Promise<CloseRecord>((resolve) => {
      const off = this.#onFinal((final) => {
        off();
        this.#closedPromise = undefined;
        resolve(final.last!);
      });
    }));
  }

  /** Adds a listener; returns the function that removes it (safe to call twice). */
  on<K extends keyof SocketEvents<In, Out>>(type: K, listener: (event: SocketEvents<In, Out>[K]) => void): () => void {
    return this.#events.on(type, listener);
  }

  /** Adds a listener for the next event of this type only; returns the function that removes it. */
  once<K extends keyof SocketEvents<In, Out>>(type: K, listener: (event: SocketEvents<In, Out>[K]) => void): () => void {
    return this.#events.once(type, listener);
  }

  /** Removes a listener added with `on()`; removing an unknown one does nothing. */
  off<K extends keyof SocketEvents<In, Out>>(type: K, listener: (event: SocketEvents<In, Out>[K]) => void): void {
    this.#events.off(type, listener);
  }

  /**
   * Sends now if open, otherwise queues (bounded; see the `queue` option). Never throws for the socket's state:
   * the result says what happened.
   */
  send(message: Out, options?: { ttlMs?: number }): SendResult {
    const ttlMs = options?.ttlMs ?? this.#options.queue.ttlMs;
    // Misuse throws whatever the state, so a bad ttlMs cannot hide until the first outage.
    if (ttlMs !== undefined && !(ttlMs > 0)) throw new RangeError(`send(): ttlMs must be > 0, got ${ttlMs}.`);
    if (this.#isDisposed) return 'disposed';
    let data: WireData;
    const codec = this.#options.codec;
    if (codec) {
      try {
        data = codec.encode(message);
      } catch (cause) {
        this.#emitError(new SocketError('ENCODE_FAILED', `encode failed: ${describeError(cause)}`, { cause, data: message }));
        return 'failed';
      }
      // encode() is user code: it may have closed or disposed the socket; what follows reads the state afresh.
      if (this.#isDisposed) return 'disposed';
    } else data = message as WireData;
    // Older held messages go first, as they would have one line later outside the listener; this one then gets
    // its own answer, so a listener that sends on every drop cannot keep a placement going for ever.
    if (this.#held && !this.#isPending()) this.#placeHeld();
    if (this.#isPending() || this.#held) {
      // A listener's earlier call (close(), reconnect(), connect()...) is still queued: the message waits for it,
      // then goes where it would have gone one line later outside the listener (see #placeHeld).
      const now = Date.now();
      const expiresAt = ttlMs === undefined ? undefined : now + ttlMs;
      (this.#held ??= []).push({ message, data, bytes: byteSize(data), queuedAt: now, expiresAt, isFirst: this.#isAnnouncingOpen });
      return 'queued';
    }
    return this.#place(message, data, ttlMs, this.#isAnnouncingOpen);
  }

  /**
   * Sends now if open, otherwise queues. `isFirst`: sent by an `open` listener, ahead of the backlog.
   */
  #place(message: Out, data: WireData, ttlMs: number | undefined, isFirst: boolean): SendResult {
    const socket = this.#socket;
    if (this.#state.name === 'open' && socket && (isFirst || !this.#queue?.size) && socket.readyState === OPEN) {
      try {
        socket.send(data);
        return 'sent';
      } catch (cause) {
        // An open socket that refuses a message (a wrong data type, say) would refuse it on every flush too.
        this.#emitError(new SocketError('SEND_FAILED', `send refused: ${describeError(cause)}`, { cause, data: message }));
        return 'failed';
      }
    }
    if (this.#isStopped() && !this.#options.queue.queueWhileClosed) return 'closed';
    const now = Date.now();
    const { maxMessages, maxBytes, overflow } = this.#options.queue;
    const queue = (this.#queue ??= new OutgoingQueue(maxMessages, maxBytes, overflow));
    const expired = queue.expire(now);
    const { result, evicted } = queue.push(message, data, now, ttlMs);
    // The queue is settled before any listener hears of it. A `drop` listener may close or dispose the socket:
    // that waits until every drop is reported, and then reports this message too if it was queued.
    if (expired.length > 0 || evicted.length > 0 || result === 'dropped') {
      this.#run(() => {
        this.#dropAll(expired, 'expired');
        this.#dropAll(evicted, 'overflow');
        if (result === 'dropped') this.#emit('drop', { message, reason: 'overflow' });
      });
    }
    return result;
  }

  /**
   * Places the messages held while a listener's call was queued, now that it has run. Each was answered
   * 'queued': one refused now is reported by its `drop` (an overflow already was, by #place).
   */
  #placeHeld(): void {
    // One at a time from the list itself: a listener that sends or clears the queue meanwhile sees the rest. A
    // listener that queues an input (reconnect(), close()) stops it: the rest waits for that input (see #run).
    for (let held = this.#held; held && !this.#inputs?.length; held = this.#held) {
      const { message, data, expiresAt, isFirst } = held.shift()!;
      if (held.length === 0) this.#held = undefined;
      // Its time-to-live counts from send(), not from now.
      const leftMs = expiresAt === undefined ? undefined : expiresAt - Date.now();
      if (leftMs !== undefined && leftMs <= 0) {
        this.#emit('drop', { message, reason: 'expired' });
        continue;
      }
      const result = this.#isDisposed ? 'disposed' : this.#place(message, data, leftMs, isFirst);
      if (result === 'rejected') this.#emit('drop', { message, reason: 'overflow' });
      else if (result === 'closed' || result === 'disposed' || result === 'failed') this.#emit('drop', { message, reason: result });
    }
  }

  /** Starts connecting if idle or stopped (after `close()`, or when the policy gave up); otherwise does nothing. */
  connect(): void {
    if (this.#isDisposed) throw new Error('ReconnectingSocket: connect() after dispose()');
    this.#dispatch({ type: 'CONNECT' });
  }

  /** Drops the current connection (if any) and starts a fresh attempt at once. After `dispose()` it does nothing. */
  reconnect(): void {
    if (this.#isDisposed) return this.#debug('reconnect() after dispose()');
    // An explicit fresh start: new credentials get their MAX_AUTH_REFUSALS attempts again.
    this.#refusals = 0;
    this.#dispatch({ type: 'RECONNECT' });
  }

  /**
   * Stops reconnecting and closes: sends a close frame and waits for the peer's (RFC 6455 §7.1.2); if none
   * arrives within `closeTimeoutMs` the socket is forced down. Resolves with the final close record. Safe in any
   * state, any number of times.
   *
   * ```
   *   client                          server
   *     │ ── close frame (code) ──────▶ │   state: closing, close timer armed
   *     │ ◀────── close frame ───────── │   (or closeTimeoutMs passes: terminate)
   *     │ ◀─────── TCP FIN ──────────── │   state: closed, `close` event, promise resolves
   * ```
   */
  close(code = 1000, reason = ''): Promise<CloseRecord> {
    checkClose(code, reason);
    if (this.#isDisposed) return this.closed;
    // Closed for good already, unless a listener's earlier call (connect(), say) is still queued: the later call wins.
    if (this.#final() && !this.#inputs?.length) return this.closed;
    // Settles when the connection this close() ends is fully closed, even if reconnect() then starts another
    // one. The waiter rides with its input: one queued behind a listener's earlier call is not settled by that.
    return new Promise<CloseRecord>((resolve) => this.#dispatch({ type: 'CLOSE', code, reason }, undefined, resolve));
  }

  /** Checks liveness now: pings with a short deadline (`heartbeat.probeTimeoutMs` unless given). */
  probe(timeoutMs?: number): void {
    checkTimeout('probe()', { timeoutMs });
    this.#heartbeat?.probe(timeoutMs);
  }

  /** Empties the outgoing queue and returns what it held (no `drop` events). */
  clearQueue(): QueuedMessage<Out>[] {
    const queue = this.#queue;
    this.#queue = undefined;
    const held = this.#heldEntries();
    this.#held = undefined;
    return [...(queue?.clear() ?? []), ...held];
  }

  /**
   * Terminal, synchronous and idempotent: forces the connection down, cancels every timer, removes every
   * listener (yours too) and forgets the inner socket. Queued messages are dropped with reason `disposed`.
   */
  dispose(): void {
    if (this.#isDisposed) return;
    this.#isDisposed = true;
    this.#dispatch({ type: 'DISPOSE' });
  }

  /** Same as `dispose()`, for `using socket = new ReconnectingSocket(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Closes with the handshake, then disposes: for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
    this.dispose();
  }

  /**
   * Resolves at the next `open` (at once if open now). Rejects with a `SocketError` whose code is `DISPOSED`,
   * `CLOSED` (closed for good by `close()` or the reconnect policy; at once if it already is, and `error.close`
   * is the final close record), `ABORTED` or `TIMEOUT`.
   */
  opened(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (this.#isPending()) {
      // A listener's earlier call (close(), connect()...) is still queued: decide once it has run, as one line
      // later outside the listener. Misuse still throws now.
      checkTimeout('opened()', options);
      return new Promise((resolve, reject) => this.#whenDrained(() => this.opened(options).then(resolve, reject)));
    }
    // Disposed first: a dispose() queued in an `open` listener has not left `open` yet.
    const final = this.#final();
    if (!this.#isDisposed && this.#state.name === 'open') return Promise.resolve();
    if (this.#isDisposed || final) return Promise.reject(closedError('opened()', { isDisposed: this.#isDisposed, close: final?.last }));
    return nextEvent({ subscribe: (listener) => this.on('open', listener), onFinal: (listener) => this.#onFinalWait(listener) }, 'opened()', options);
  }

  /**
   * An async iterator over decoded messages, from now on. It ends when the socket is finally closed or
   * disposed, or the signal aborts; leaving the loop early removes its listener. Messages wait in memory until
   * the loop takes them.
   */
  messages(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<In> {
    const subscribe = (listener: (data: In) => void) => this.on('message', ({ data }) => listener(data));
    // Closed for good now, but a listener's earlier call is still queued: over only if the socket stays so.
    const isPending = this.#isPending();
    const onFinal = (listener: (final: FinalClose) => void) => {
      if (!isPending) return this.#onFinalWait(listener);
      // From the queued call on: a final close being entered now (this may be its `close` listener) is not it.
      let off: (() => void) | undefined;
      let isOff = false;
      this.#whenDrained(() => {
        const final = this.#final();
        if (isOff) return;
        if (final) listener({ isDisposed: final.end === 'disposed', close: final.last });
        else off = this.#onFinalWait(listener);
      });
      return () => {
        isOff = true;
        off?.();
      };
    };
    return iterate({ subscribe, onFinal }, !isPending && (this.#isDisposed || this.#final() !== undefined), options.signal);
  }

  // ── the machine ─────────────────────────────────────────────────────────────────────────────────────────

  /** Run-to-completion: an input raised while a transition runs (from a listener, say) waits its turn. */
  #dispatch(input: Input, raisedIn?: number, onClosed?: (close: CloseRecord) => void): void {
    (this.#inputs ??= []).push([input, raisedIn, onClosed]);
    this.#run();
  }

  /**
   * Runs `effects` (if any), then every queued input, as one uninterruptible unit: whatever user code they call
   * may call back in, and its inputs wait until the unit is done. Nested calls just run `effects`.
   */
  #run(effects?: () => void): void {
    if (this.#isDispatching) return effects?.();
    this.#isDispatching = true;
    try {
      if (effects) this.#safely(effects);
      for (;;) {
        const next = this.#inputs?.shift();
        if (!next) {
          // First what was sent while a listener's call was queued, placed as it would have been after that call.
          if (this.#held) {
            this.#safely(() => this.#placeHeld());
            continue;
          }
          // The backlog goes out after whatever the `open` listeners asked for: not at all if they closed or
          // reconnected (it then waits for the next open, or is dropped by the final close).
          const socket = this.#flushAfter;
          if (!socket) {
            const drained = this.#drained;
            if (!drained) break;
            this.#drained = undefined;
            for (const fn of drained) this.#safely(fn);
            continue;
          }
          this.#flushAfter = undefined;
          if (this.#state.name === 'open' && this.#socket === socket) this.#safely(() => this.#flush(socket));
          continue;
        }
        const onClosed = next[2];
        if (onClosed) (this.#closeWaiters ??= []).push(onClosed);
        this.#safely(() => this.#step(next[0], next[1]));
        const announce = this.#announce;
        // A close() from a `close` listener is still queued here: only a retry that survives it is announced.
        if (announce && !this.#inputs?.length) {
          this.#announce = undefined;
          const retry = announce === this.#state && announce.name === 'closed' ? announce.retry : undefined;
          if (retry?.hold) this.#emit('hold', { attempt: retry.attempt, hold: retry.hold });
          else if (retry) this.#emit('reconnecting', { attempt: retry.attempt, delayMs: retry.delayMs });
        }
      }
    } finally {
      // Dropped once drained, so an idle socket keeps no array.
      this.#inputs = undefined;
      this.#isDispatching = false;
    }
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      // A bug of ours must not escape into a socket event handler or a timer, where it would crash Node.
      reportUncaught(error);
    }
  }

  #step(input: Input, raisedIn: number | undefined): void {
    const from = this.#state;
    if (raisedIn !== undefined && raisedIn !== this.#epoch) {
      // Raised by a state that has since been left (its timers and attempt are gone): it belongs to the past.
      this.#debug(`stale ${input.type}`, input);
      return;
    }
    // Timeouts and provider failures carry their error; it is reported once the transition has been made, so
    // an error listener sees the new state, and what it calls waits its turn instead of racing the deadline.
    const error = 'error' in input ? input.error : undefined;
    // What the policy's callbacks throw meanwhile is reported with the transition, before its close event.
    const thrown: SocketError[] = (this.#thrown = []);
    let result: ReturnType<typeof transition>;
    try {
      result = transition(from, input, this.#policy());
      // Closed for good: the socket stops following the environment and the signal now, so what an unsubscribe
      // throws is reported with the transition too, not after the final close event.
      const to = result?.state;
      if (to?.name === 'closed' && to.end && to.end !== 'idle') this.#stopRunning();
    } finally {
      this.#thrown = undefined;
    }
    if (!result) {
      this.#debug(`ignored ${input.type} in ${from.name}`, input);
      // A close() queued behind other inputs, which left the socket closed for good: it is answered all the same.
      const final = input.type === 'CLOSE' ? this.#final() : undefined;
      if (final?.last) this.#settleClose(final.last);
      if (error) this.#emitError(error);
      for (const e of thrown) this.#emitError(e);
      return;
    }
    const to = result.state;
    this.#state = to;
    let ended: CloseRecord | undefined;
    for (const action of result.actions) {
      if (action.type === 'sendClose') this.#sendClose(action.code, action.reason);
      else if (action.type === 'probe') this.#heartbeat?.probe();
      else ended = action.close;
    }
    if (!result.keep) this.#leaveState();
    if (error) this.#emitError(error);
    for (const e of thrown) this.#emitError(e);
    if (ended) this.#endConnection(ended, to);
    if (from.name !== to.name) this.#emit('state', { from: from.name, to: to.name });
    if (!result.keep) this.#enter(to);
  }

  /** Releases what the state owned (its timer, the pending providers, the heartbeat); its inputs go stale. */
  #leaveState(): void {
    this.#epoch++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#controller?.abort();
    this.#controller = undefined;
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
  }

  /** The machine's view of the options and the environment; the user callbacks in it are guarded. */
  #policy(): Policy {
    const o = this.#options;
    const env = this.#environment;
    const self = this;
    return {
      shouldReconnect: (close) => this.#guard('shouldReconnect', () => o.shouldReconnect(close), () => defaultShouldReconnect(close)),
      delay: (attempt, close) => this.#delay(attempt, close),
      maxRetries: o.maxRetries,
      // Read only when a transition asks, and guarded: a custom environment is user code too.
      get isOnline() {
        return !env?.isOnline || self.#guard('environment.isOnline', () => env.isOnline!() !== false, () => true);
      },
      get isHidden() {
        return !!env?.isHidden && self.#guard('environment.isHidden', () => env.isHidden!() === true, () => false);
      },
      pauseWhenHidden: o.pauseWhenHidden,
    };
  }

  #delay(attempt: number, close: CloseRecord): number {
    const o = this.#options;
    const builtIn = () => {
      const curve = { initialDelayMs: o.initialDelayMs, delayFactor: o.delayFactor, maxDelayMs: o.maxDelayMs, jitter: o.jitter, random: () => this.#guard('random', o.random, Math.random) };
      // The decorrelated curve draws each delay from the range the previous one sets.
      let ms = (this.#previousDelayMs = backoffDelay(attempt, curve, this.#previousDelayMs));
      // What the server said about coming back: Retry-After on 429/503 (capped), 1013 "try again later".
      const { status, retryAfterMs } = close;
      if (retryAfterMs !== undefined && (status === 429 || status === 503)) ms = Math.max(ms, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
      if (close.code === 1013) ms = Math.max(ms, o.maxDelayMs);
      return ms;
    };
    const ms = o.delay ? this.#guard('delay', () => o.delay!(attempt, close), builtIn) : builtIn();
    // Longer than a timer can wait (Infinity too) is cut to the limit; NaN or negative means now.
    return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
  }

  /** Runs a state's entry effects; what they start is released by `#leaveState()`. */
  #enter(state: State): void {
    // dispose() called from a listener mid-transition: the queued DISPOSE follows; start nothing new meanwhile.
    if (this.#isDisposed && !(state.name === 'closed' && state.end === 'disposed')) return;
    switch (state.name) {
      case 'connecting':
        this.#startRunning();
        if (!this.#isDisposed) this.#startAttempt(state.attempt);
        break;
      case 'open':
        this.#enterOpen(state.attempt);
        break;
      case 'closing':
        this.#arm(this.#options.closeTimeoutMs);
        break;
      case 'closed':
        if (state.retry) {
          this.#startRunning();
          if (this.#isDisposed) break;
          // Announced once no queued input supersedes it: `reconnecting`, or `hold` for a retry that waits.
          this.#announce = state;
          if (state.retry.hold) break;
          const { delayMs } = state.retry;
          this.#nextRetryAt = Date.now() + delayMs;
          this.#arm(delayMs, this.#options.unrefRetryTimer);
        } else if (state.end !== 'idle') this.#enterFinal(state);
    }
  }

  /** Arms the state's timer; what it raises when it fires depends on the state (see `#timeUp`). */
  #arm(ms: number, unref = false): void {
    const timer = setTimeout(ReconnectingSocket.#onTimer, Math.min(ms, MAX_TIMER_MS), this, this.#epoch) as unknown as ReturnType<typeof setTimeout>;
    if (unref) (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  static #onTimer(socket: ReconnectingSocket<any, any>, epoch: number): void {
    socket.#timeUp(epoch);
  }

  #timeUp(epoch: number): void {
    this.#timer = undefined;
    const o = this.#options;
    switch (this.#state.name) {
      case 'connecting':
        return this.#fail('CONNECT_TIMEOUT', `not open within connectTimeoutMs (${o.connectTimeoutMs} ms)`, epoch);
      case 'closing':
        return this.#fail('CLOSE_TIMEOUT', `no close frame from the peer within closeTimeoutMs (${o.closeTimeoutMs} ms)`, epoch);
      case 'closed':
        return this.#dispatch({ type: 'RETRY_DUE' }, epoch);
      default:
        return this.#dispatch({ type: 'STABLE' }, epoch);
    }
  }

  #enterFinal(state: ClosedState): void {
    this.#stopRunning();
    // A later connect() starts afresh: fresh credentials get their MAX_AUTH_REFUSALS attempts again.
    this.#refusals = 0;
    const queue = this.#queue;
    if (queue && (state.end === 'disposed' || (state.end === 'user' && !this.#options.queue.queueWhileClosed))) {
      this.#queue = undefined;
      this.#dropAll(queue.clear(), state.end === 'disposed' ? 'disposed' : 'closed');
    }
    // Sent while a listener's call was queued, and not yet placed: disposed with the rest, while listeners remain.
    const held = state.end === 'disposed' ? this.#held : undefined;
    if (held) {
      this.#held = undefined;
      for (const { message } of held) this.#emit('drop', { message, reason: 'disposed' });
    }
    const hooks = this.#finalHooks;
    if (hooks) for (const hook of hooks.slice()) hook(state);
    if (state.last) this.#settleClose(state.last);
    if (state.end === 'disposed') {
      this.#events.clear();
      this.#isSilent = true;
    }
  }

  #settleClose(close: CloseRecord): void {
    const waiters = this.#closeWaiters;
    this.#closeWaiters = undefined;
    if (waiters) for (const resolve of waiters) resolve(close);
  }

  /** The final close as the waits of waits.ts see it. */
  #onFinalWait(listener: (final: FinalClose) => void): () => void {
    return this.#onFinal((state) => listener({ isDisposed: state.end === 'disposed', close: state.last }));
  }

  #onFinal(hook: (state: ClosedState) => void): () => void {
    (this.#finalHooks ??= []).push(hook);
    return () => {
      const hooks = this.#finalHooks?.filter((h) => h !== hook);
      // Dropped when empty: a settled opened() leaves nothing behind.
      this.#finalHooks = hooks?.length ? hooks : undefined;
    };
  }

  // ── effects ─────────────────────────────────────────────────────────────────────────────────────────────

  #startAttempt(attempt: number): void {
    // The attempt starts here, and with it the connection whose end is reported by exactly one `close` event.
    this.#isAttempting = true;
    this.#arm(this.#options.connectTimeoutMs);
    const epoch = this.#epoch;
    const { protocols, headers, transport } = this.#options;
    const url = this.#url;
    // A context (and its abort controller) only for providers that are functions.
    let context: ProviderContext | undefined;
    if (typeof url === 'function' || typeof protocols === 'function' || typeof headers === 'function' || typeof transport === 'function') {
      context = { signal: (this.#controller = new AbortController()).signal, attempt };
    }
    resolveProviders(
      [url, protocols, headers, transport],
      context!,
      () => this.#epoch !== epoch,
      // From a provider's promise this runs outside any transition: as one unit, so that what the debug hook
      // or the WebSocket constructor calls back (close(), dispose()) waits until the socket is in place.
      ([u, p, h, t]) => this.#run(() => this.#openSocket(u, p, h, t, epoch)),
      (error) => this.#providerFailed(error, epoch),
    );
  }

  #providerFailed(error: unknown, epoch: number): void {
    const message = `provider failed: ${describeError(error)}`;
    const socketError = error instanceof SocketError ? error : new SocketError('PROVIDER_FAILED', message, { cause: error });
    this.#dispatch({ type: 'PROVIDER_FAILED', error: socketError }, epoch);
  }

  #openSocket(urlValue: unknown, protocols: unknown, headers: unknown, transport: unknown, epoch: number): void {
    // A provider is user code: it may have disposed the socket or moved it on; create nothing then.
    if (this.#isDisposed || epoch !== this.#epoch) return;
    let socket: WebSocketLike;
    try {
      const url = checkUrl(urlValue);
      const Ctor = this.#WebSocket;
      const protocolList = protocols as string | string[] | undefined;
      const given = transport as TransportOptions | undefined;
      const maxPayload = given?.maxPayload ?? this.#options.maxMessageBytes;
      if (!supportsHeaders(Ctor)) {
        // Browsers take a URL and protocols only: say once what cannot be honoured.
        if (headers !== undefined) this.#warnOnce(1, 'headers ignored: this WebSocket cannot send them (browsers cannot)');
        if (given !== undefined) this.#warnOnce(2, 'transport ignored: this WebSocket takes no options (browsers take none)');
        socket = new Ctor(url, protocolList);
      } else if (given === undefined && headers === undefined && maxPayload === undefined) socket = new Ctor(url, protocolList);
      else {
        const options: TransportOptions = { ...given };
        if (headers !== undefined) options.headers = { ...given?.headers, ...(headers as Record<string, string>) };
        if (maxPayload !== undefined) options.maxPayload = maxPayload;
        socket = new Ctor(url, protocolList, options);
      }
    } catch (error) {
      this.#providerFailed(new SocketError('PROVIDER_FAILED', `new WebSocket() threw: ${describeError(error)}`, { cause: error }), epoch);
      return;
    }
    this.#socket = socket;
    this.#socketError = undefined;
    this.#isFailed = false;
    (socket as Owned)[OWNER] = this;
    listen(socket, HANDLERS, this.#options.binaryType);
  }

  /** Warns once per socket and kind (1: headers, 2: transport). */
  #warnOnce(kind: number, warning: string): void {
    if (this.#warned & kind) return;
    this.#warned |= kind;
    this.#debug(warning);
    console.warn(`ReconnectingSocket: ${warning}`);
  }

  #enterOpen(attempt: number): void {
    const socket = this.#socket!;
    this.#refusals = 0;
    const heartbeat = this.#options.heartbeat;
    if (heartbeat) this.#heartbeat = startHeartbeat<ReconnectingSocket<any, any>>(this, socket, heartbeat, ReconnectingSocket.#heartbeatHost);
    if (attempt > 0) this.#arm(this.#options.stableAfterMs);
    this.#isAnnouncingOpen = true;
    try {
      this.#emit('open', { attempt, protocol: socket.protocol ?? '' });
    } finally {
      this.#isAnnouncingOpen = false;
    }
    this.#flushAfter = socket;
  }

  /** One object for every socket's heartbeat: each call names the socket it is about. */
  static readonly #heartbeatHost: HeartbeatHost<ReconnectingSocket<any, any>> = {
    // A heartbeat is stopped when its state is left, so one that fires belongs to the current state.
    onDead: (owner, ms) => owner.#fail('HEARTBEAT_TIMEOUT', `no pong within ${ms} ms`, owner.#epoch),
    onRtt: (owner, rttMs) => {
      owner.#rttMs = rttMs;
      owner.#emit('heartbeat', { rttMs });
    },
    guard: (owner, option, callback, fallback) => owner.#guard(option, callback, fallback),
    pong(this: WebSocketLike) {
      ReconnectingSocket.#route(this, 'pong');
    },
  };

  /** Sends the backlog in order; stops (keeping the rest, in order) as soon as the socket is no longer open. */
  #flush(socket: WebSocketLike): void {
    const queue = this.#queue;
    if (!queue) return;
    this.#dropAll(queue.expire(Date.now()), 'expired');
    // A listener it calls (error, drop) may queue an input: the rest waits until that input has run (see #run).
    while (queue.size > 0 && !this.#isDisposed && this.#queue === queue && this.#socket === socket && socket.readyState === OPEN && !this.#inputs?.length) {
      const item = queue.shift()!;
      try {
        socket.send(item.data);
      } catch (cause) {
        // Refused by an open socket, it would be refused on every flush: report it and carry on with the rest.
        this.#emitError(new SocketError('SEND_FAILED', `send refused: ${describeError(cause)}`, { cause, data: item.message }));
        this.#emit('drop', { message: item.message, reason: 'failed' });
      }
    }
    if (this.#queue === queue && queue.size === 0) this.#queue = undefined;
    else if (this.#inputs?.length) this.#flushAfter = socket;
  }

  // ── the inner socket's events ──────────────────────────────────────────────────────────────────────────

  #onMessage(raw: unknown): void {
    const socket = this.#socket;
    const limit = this.#options.maxMessageBytes;
    // ws enforces the limit itself (maxPayload), before buffering; elsewhere it is checked here.
    if (limit !== undefined && typeof socket?.terminate !== 'function' && byteSize(raw as WireData) > limit) {
      // Where the implementation could not enforce it (browsers), it is enforced on arrival: 1009, too big.
      return this.#failConnection(new SocketError('SOCKET_ERROR', `message over maxMessageBytes (${limit})`), { code: 1009, cause: 'protocol' });
    }
    const heartbeat = this.#heartbeat;
    if (heartbeat ? heartbeat.onMessage(raw) : this.#isStrayPong(raw)) return;
    let data: In;
    const codec = this.#options.codec;
    if (codec) {
      try {
        data = codec.decode(raw as string | ArrayBuffer | Blob);
      } catch (cause) {
        this.#emitError(new SocketError('DECODE_FAILED', `decode failed: ${describeError(cause)}`, { cause, data: raw }));
        return;
      }
    } else data = raw as In;
    // isPong, a heartbeat listener and decode are user code: if they dropped this connection, its message goes too.
    if (socket !== this.#socket) return;
    const events = this.#events;
    // With several listeners, one may drop the connection: the rest then do not get its message. The check is
    // made (and allocated) only then, so the usual single listener costs nothing extra per message.
    events.emit('message', { data }, events.hasMany('message') ? () => this.#socket === socket : undefined);
  }

  #onError(event: { error?: unknown; message?: string } | Error): void {
    if (this.#isFailed) return;
    const error = socketError(event);
    const code = protocolErrorCode(error.cause);
    // A bad frame, invalid UTF-8 or a message too big: ws failed the connection, so it is over now, with that
    // code. Waiting for the close event could take ws's 30 s close timer when the peer does not answer.
    if (code !== undefined) return this.#failConnection(error, { code, cause: 'protocol' });
    this.#socketError = error;
    this.#emitError(error);
  }

  /**
   * Ends the current connection from this side, with `close` as its record: reports the error, then (unless
   * the error listener, which is user code, moved the socket on) the close. Its own close event is ignored.
   */
  #failConnection(error: SocketError, close: Omit<CloseRecord, 'reason' | 'wasClean' | 'error'>): void {
    const socket = this.#socket;
    this.#socketError = error;
    this.#isFailed = true;
    this.#emitError(error);
    if (socket === this.#socket) this.#dispatch({ type: 'SOCKET_CLOSED', close: { reason: '', wasClean: false, ...close, error } });
  }

  /** The server answered the upgrade with an HTTP status: the attempt is over, with what the server said. */
  #onRefused(response: { statusCode?: number; headers?: Record<string, unknown> }): void {
    const status = response.statusCode ?? 0;
    // 407: the proxy wants credentials, which a transport provider may bring next time, as with a token.
    const isAuth = status === 401 || status === 403 || status === 407;
    const refusals = (this.#refusals = isAuth ? this.#refusals + 1 : 0);
    const after = retryAfterMs(response.headers?.['retry-after']);
    const close = { code: 1006, cause: 'refused', status, ...(after !== undefined && { retryAfterMs: after }), ...(isAuth && { refusals }) } as const;
    this.#failConnection(new SocketError('SOCKET_ERROR', `upgrade refused: HTTP ${status}`), close);
  }

  #onClose(code: unknown, reason: unknown, wasClean: boolean): void {
    if (!this.#isFailed) this.#dispatch({ type: 'SOCKET_CLOSED', close: closeRecord(code, reason, wasClean, this.#socketError) });
  }

  #sendClose(code: number, reason: string): void {
    const socket = this.#socket;
    try {
      socket?.close(code, reason);
    } catch (error) {
      // Browsers accept only 1000 and 3000-4999 from scripts; 1001 (going away) is legal on the wire.
      this.#debug(`close(${code}) threw; using 1000`, error);
      try {
        socket?.close(1000, reason);
      } catch {
        // The close timer forces it down.
      }
    }
  }

  /** Ends the current attempt: retires its socket and reports it with its one `close` event. */
  #endConnection(close: CloseRecord, next: State): void {
    // No attempt started (close(), reconnect() or dispose() before the first one began): nothing to report.
    if (!this.#isAttempting) return;
    this.#isAttempting = false;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#socketError = undefined;
    this.#lastClose = close;
    if (socket) retire(socket, HANDLERS, absorbLateError);
    this.#settleClose(close);
    const retry = next.name === 'closed' ? next.retry : undefined;
    this.#emit('close', {
      ...close,
      willReconnect: next.name === 'connecting' || retry !== undefined,
      delayMs: next.name === 'connecting' ? 0 : retry && !retry.hold ? retry.delayMs : undefined,
    });
  }

  /** A deadline passed: the input goes first, the error is reported by the transition it causes. */
  #fail(code: 'CONNECT_TIMEOUT' | 'CLOSE_TIMEOUT' | 'HEARTBEAT_TIMEOUT', message: string, epoch: number): void {
    this.#dispatch({ type: code, error: new SocketError(code, message) }, epoch);
  }

  /** The socket's listeners, shared by every instance: `this` is the inner socket, which names its owner. */
  static readonly #handlers = {
    ws: {
      open(this: WebSocketLike) {
        ReconnectingSocket.#route(this, 'open');
      },
      message(this: WebSocketLike, data: { toString(): string }, isBinary: boolean) {
        ReconnectingSocket.#route(this, 'message', isBinary ? data : data.toString());
      },
      error(this: WebSocketLike, error: Error) {
        ReconnectingSocket.#route(this, 'error', error);
      },
      close(this: WebSocketLike & WsFlags, code: number, reason: unknown) {
        // ws's own close event has no wasClean: it is both close frames exchanged, which ws records as below.
        const wasClean = '_closeFrameReceived' in this ? this._closeFrameReceived === true && this._closeFrameSent === true : code !== 1006;
        ReconnectingSocket.#route(this, 'close', code, reason, wasClean);
      },
      'unexpected-response'(this: WebSocketLike, _request: unknown, response: { statusCode?: number; headers?: Record<string, unknown> }) {
        ReconnectingSocket.#route(this, 'refused', response);
      },
    },
    // Some EventTarget polyfills call listeners without `this`: the event's target names the socket then.
    dom: {
      open(this: WebSocketLike | undefined, event: DomEvent) {
        ReconnectingSocket.#route(target(this, event), 'open');
      },
      message(this: WebSocketLike | undefined, event: DomEvent) {
        ReconnectingSocket.#route(target(this, event), 'message', event.data);
      },
      error(this: WebSocketLike | undefined, event: DomEvent) {
        ReconnectingSocket.#route(target(this, event), 'error', event);
      },
      close(this: WebSocketLike | undefined, event: DomEvent) {
        ReconnectingSocket.#route(target(this, event), 'close', event?.code, event?.reason, Boolean(event?.wasClean));
      },
    },
  };

  static #route(socket: WebSocketLike | undefined, type: 'open' | 'message' | 'error' | 'close' | 'refused' | 'pong' | 'late', value?: unknown, reason?: unknown, wasClean?: boolean): void {
    const owner = socket && (socket as Owned)[OWNER];
    if (!owner || !socket) return;
    if (type === 'late') return owner.#debug('late error (absorbed)', value);
    if (socket !== owner.#socket) return;
    if (type === 'pong') owner.#heartbeat?.onPong();
    else if (type === 'open') owner.#dispatch({ type: 'OPENED' });
    else if (type === 'message') owner.#onMessage(value);
    else if (type === 'error') owner.#onError(value as Error);
    else if (type === 'refused') owner.#onRefused(value as { statusCode?: number; headers?: Record<string, unknown> });
    else owner.#onClose(value, reason, wasClean!);
  }

  static {
    HANDLERS = ReconnectingSocket.#handlers;
    absorbLateError = function (this: WebSocketLike, error: unknown) {
      ReconnectingSocket.#route(this, 'late', error);
    };
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────

  /** A listener's earlier call is still queued (and the socket is not disposed, which nothing follows). */
  #isPending(): boolean {
    return !this.#isDisposed && !!this.#inputs?.length;
  }

  /** Runs `fn` once the inputs queued now have run, still within the current unit (only while one runs). */
  #whenDrained(fn: () => void): void {
    (this.#drained ??= []).push(fn);
  }


  #isStopped(): boolean {
    const s = this.#state;
    return this.#final() !== undefined || (s.name === 'closing' && s.then === 'stop');
  }

  /** The state, if the socket is closed for good (by you, by the policy, or disposed). */
  #final(): ClosedState | undefined {
    const s = this.#state;
    return s.name === 'closed' && s.end !== undefined && s.end !== 'idle' ? s : undefined;
  }

  /** From the first attempt to the final close: in the live registry, following the environment and the signal. */
  #startRunning(): void {
    if (this.#isRunning) return;
    this.#isRunning = true;
    liveSockets().add(this);
    const signal = this.#options.signal;
    if (signal?.aborted) return this.dispose();
    if (signal) signal.addEventListener('abort', (this.#onAbort = () => this.dispose()));
    const environment = this.#environment;
    if (environment) {
      const subscribe = () => environment.subscribe((signal) => this.#dispatch({ type: 'SIGNAL', signal }));
      const unsubscribe = this.#guard('environment.subscribe', subscribe, () => undefined);
      if (typeof unsubscribe === 'function') this.#unsubscribe = unsubscribe;
    }
  }

  #stopRunning(): void {
    if (!this.#isRunning) return;
    this.#isRunning = false;
    liveSockets().delete(this);
    const onAbort = this.#onAbort;
    this.#onAbort = undefined;
    if (onAbort) this.#options.signal?.removeEventListener('abort', onAbort);
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    if (unsubscribe) this.#guard('environment.subscribe', unsubscribe, () => undefined);
  }

  /** An application-level pong that arrives outside `open` (during the close handshake, say) is not a message either. */
  #isStrayPong(raw: unknown): boolean {
    const config = this.#options.heartbeat;
    const isPong = config ? config.isPong : undefined;
    return config !== false && config.message !== undefined && isPong !== undefined && this.#guard('heartbeat.isPong', () => isPong(raw), () => false);
  }

  /** Runs one of your option callbacks; a throw is reported (after the current step) and `fallback` used instead. */
  #guard<T>(option: string, callback: () => T, fallback: () => T): T {
    try {
      return callback();
    } catch (cause) {
      const error = new SocketError('CALLBACK_THREW', `option "${option}" threw (the default was used): ${describeError(cause)}`, { cause });
      // Within a transition: reported with it. Elsewhere: once the current work is done.
      if (this.#thrown) this.#thrown.push(error);
      else queueMicrotask(() => this.#emitError(error));
      return fallback();
    }
  }

  #dropAll(items: QueuedMessage<Out>[], reason: 'overflow' | 'expired' | 'closed' | 'disposed'): void {
    for (const item of items) this.#emit('drop', { message: item.message, reason });
  }

  /**
   * Reports an error: to `error` listeners, or else to the `debug` hook. With neither, the socket's first error
   * goes to console.warn once, so a socket failing in silence (a dead port, a codec that throws) is noticed.
   */
  #emitError(error: SocketError): void {
    // Once dispose() has removed the listeners, none hears anything, even one added since (a report deferred by
    // #guard, say); until then (the dispose's own transition) they do, as they hear its close event.
    if (!this.#isSilent && this.#events.has('error')) return this.#events.emit('error', { error });
    this.#debug(error.message, error);
    if (this.#options.debug || this.#hasWarnedUnhandled) return;
    this.#hasWarnedUnhandled = true;
    console.warn(`ReconnectingSocket: ${error.message} (${error.code}). Handle errors with on("error") or silence with the debug option; no more are printed.`);
  }

  #emit<K extends keyof SocketEvents<In, Out>>(type: K, payload: SocketEvents<In, Out>[K]): void {
    this.#events.emit(type, payload);
  }

  #debug(message: string, detail?: unknown): void {
    try {
      this.#options.debug?.(message, detail);
    } catch {
      // A throwing debug hook must not break the socket.
    }
  }
}
