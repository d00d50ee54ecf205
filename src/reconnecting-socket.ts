import { backoffDelay } from './backoff.js';
import { bindSocket, checkClose, type SocketListener } from './connection.js';
import { DisposerScope, MAX_TIMER_MS } from './disposer.js';
import { SocketEmitter } from './emitter.js';
import { createBrowserEnvironment, type Environment } from './environment.js';
import { SocketError, describeError, reportUncaught } from './errors.js';
import type { SendResult, SocketEvents } from './events.js';
import { startHeartbeat, type Heartbeat, type HeartbeatHooks } from './heartbeat.js';
import { closedError, iterate, nextEvent, type FinalClose } from './waits.js';
import { transition, type CloseRecord, type Input, type Policy, type Retry, type State, type StateName } from './machine.js';
import { defaultShouldReconnect, resolveOptions, type Provider, type ReconnectingSocketOptions, type ResolvedOptions, type WireData } from './options.js';
import { checkUrl, resolveProviders } from './providers.js';
import { OutgoingQueue, type QueuedMessage } from './queue.js';
import { liveSockets } from './registry.js';
import { OPEN, defaultWebSocket, supportsHeaders, type WebSocketConstructor, type WebSocketLike } from './transport.js';

type ClosedState = Extract<State, { name: 'closed' }>;

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
export class ReconnectingSocket<In = string | ArrayBuffer | Blob, Out = WireData> {
  readonly #url: UrlProvider;
  readonly #options: ResolvedOptions<In, Out>;
  readonly #WebSocket: WebSocketConstructor;
  readonly #events = new SocketEmitter<SocketEvents<In, Out>>();
  readonly #queue: OutgoingQueue<Out>;
  readonly #environment: Environment | null;
  readonly #onDisposerError = (error: unknown) => this.#debug('a disposer threw', error);
  /**
   * Owns what lives while the socket runs (from the first attempt to the final close): the environment
   * subscription and the abort listener, so a closed socket is held by neither window nor a long-lived signal.
   */
  #running: DisposerScope | undefined;
  /** Owns what lives as long as the current state: its timers, the provider's abort controller, the heartbeat. */
  #stateScope = new DisposerScope(this.#onDisposerError);
  /** Owns the current connection: the inner socket and every listener on it. */
  #connection: DisposerScope | undefined;
  #socket: WebSocketLike | undefined;
  #heartbeat: Heartbeat | undefined;
  #state: State;
  /**
   * Inputs waiting their turn, each with the state scope it was raised in when it must not outlive that scope
   * (a timer's or a provider's input belongs to the state that started it).
   */
  readonly #inputs: [Input, DisposerScope | undefined][] = [];
  #isDispatching = false;
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
  #hasWarnedHeaders = false;
  #hasWarnedUnhandled = false;
  #closedPromise: Promise<CloseRecord> | undefined;
  /** Called whenever the socket reaches a final closed state (closed by you, given up, disposed). */
  #finalHooks: Set<(state: ClosedState) => void> | undefined;
  #heartbeatHooks: HeartbeatHooks | undefined;
  #policyView: Policy | undefined;
  #socketListener: SocketListener | undefined;

  /**
   * Creates the socket and, unless `autoConnect` is `false`, starts connecting (on a microtask: no event
   * fires inside the constructor). Throws `TypeError`/`RangeError` for bad options or a bad URL.
   */
  constructor(url: UrlProvider, options?: ReconnectingSocketOptions<In, Out>) {
    if (typeof url === 'string' || url instanceof URL) checkUrl(url);
    else if (typeof url !== 'function') {
      throw new TypeError(`ReconnectingSocket: url must be a string, a URL or a function returning one, got ${typeof url}.`);
    }
    this.#url = url;
    this.#options = resolveOptions(options);
    const Ctor = this.#options.WebSocket ?? defaultWebSocket();
    if (!Ctor) {
      throw new TypeError('ReconnectingSocket: no WebSocket implementation found. Install "ws" (Node) or pass the WebSocket option.');
    }
    this.#WebSocket = Ctor;
    const { maxMessages, maxBytes, overflow } = this.#options.queue;
    this.#queue = new OutgoingQueue(maxMessages, maxBytes, overflow);
    this.#environment = this.#options.environment === undefined ? createBrowserEnvironment() : this.#options.environment;
    if (this.#options.autoConnect) {
      const initial: State = { name: 'connecting', attempt: 0 };
      this.#state = initial;
      // Deferred so that listeners attached right after `new` miss nothing.
      queueMicrotask(() => {
        if (this.#state === initial) this.#enter(initial);
      });
      this.#markRunning();
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

  /** Bytes not yet on the wire: the queue (UTF-8 for strings) plus the inner socket's buffer. */
  get bufferedAmount(): number {
    return this.#queue.bytes + (this.#socket?.bufferedAmount ?? 0);
  }

  /** A snapshot of the outgoing queue, oldest first. */
  get queued(): QueuedMessage<Out>[] {
    return this.#queue.entries();
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
    if (ttlMs !== undefined && !(ttlMs > 0)) throw new RangeError(`send(): ttlMs must be a number > 0, got ${String(ttlMs)}.`);
    if (this.#isDisposed) return 'disposed';
    let data: WireData;
    const codec = this.#options.codec;
    if (codec) {
      try {
        data = codec.encode(message);
      } catch (cause) {
        this.#emitError(new SocketError('ENCODE_FAILED', `send(): the codec could not encode the message: ${describeError(cause)}`, { cause, data: message }));
        return 'failed';
      }
      // encode() is user code: it may have closed or disposed the socket; what follows reads the state afresh.
      if (this.#isDisposed) return 'disposed';
    } else data = message as WireData;
    const socket = this.#socket;
    if (this.#state.name === 'open' && socket && (this.#isAnnouncingOpen || this.#queue.size === 0) && socket.readyState === OPEN) {
      try {
        socket.send(data);
        return 'sent';
      } catch (cause) {
        // An open socket that refuses a message (a wrong data type, say) would refuse it on every flush too.
        this.#emitError(new SocketError('SEND_FAILED', `send(): the open WebSocket refused the message: ${describeError(cause)}`, { cause, data: message }));
        return 'failed';
      }
    }
    if (this.#isStopped() && !this.#options.queue.queueWhileClosed) return 'closed';
    const now = Date.now();
    const expired = this.#queue.expire(now);
    const { result, evicted } = this.#queue.push(message, data, now, ttlMs);
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

  /** Starts connecting if idle or stopped (after `close()`, or when the policy gave up); otherwise does nothing. */
  connect(): void {
    this.#ensureUsable('connect');
    this.#dispatch({ type: 'CONNECT' });
  }

  /** Drops the current connection (if any) and starts a fresh attempt at once. After `dispose()` it does nothing. */
  reconnect(): void {
    if (this.#isDisposed) this.#debug('reconnect() after dispose() is ignored');
    else this.#dispatch({ type: 'RECONNECT' });
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
    if (this.#final()) return this.closed;
    // Settles when this connection is fully closed, even if reconnect() then starts another one.
    const done = new Promise<CloseRecord>((resolve) => (this.#closeWaiters ??= []).push(resolve));
    this.#dispatch({ type: 'CLOSE', code, reason });
    return done;
  }

  /** Checks liveness now: pings with a short deadline (`heartbeat.probeTimeoutMs` unless given). */
  probe(timeoutMs?: number): void {
    if (timeoutMs !== undefined && !(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
      throw new RangeError(`probe(): timeoutMs must be a number > 0 and <= ${MAX_TIMER_MS}, got ${String(timeoutMs)}.`);
    }
    this.#heartbeat?.probe(timeoutMs);
  }

  /** Empties the outgoing queue and returns what it held (no `drop` events). */
  clearQueue(): QueuedMessage<Out>[] {
    return this.#queue.clear();
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
    if (this.#state.name === 'open') return Promise.resolve();
    const final = this.#final();
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
    const onFinal = (listener: (final: FinalClose) => void) => this.#onFinalWait(listener);
    return iterate({ subscribe, onFinal }, this.#isDisposed || this.#final() !== undefined, options.signal);
  }

  // ── the machine ─────────────────────────────────────────────────────────────────────────────────────────

  /** Run-to-completion: an input raised while a transition runs (from a listener, say) waits its turn. */
  #dispatch(input: Input, raisedIn?: DisposerScope): void {
    this.#inputs.push([input, raisedIn]);
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
        const next = this.#inputs.shift();
        if (!next) {
          // The backlog goes out after whatever the `open` listeners asked for: not at all if they closed or
          // reconnected (it then waits for the next open, or is dropped by the final close).
          const socket = this.#flushAfter;
          if (!socket) break;
          this.#flushAfter = undefined;
          if (this.#state.name === 'open' && this.#socket === socket) this.#safely(() => this.#flush(socket));
          continue;
        }
        this.#safely(() => this.#step(next[0], next[1]));
        const announce = this.#announce;
        // A close() from a `close` listener is still queued here: only a retry that survives it is announced.
        if (announce && this.#inputs.length === 0) {
          this.#announce = undefined;
          if (announce === this.#state && announce.name === 'closed' && announce.retry) {
            this.#emit('reconnecting', { attempt: announce.retry.attempt, delayMs: announce.retry.delayMs });
          }
        }
      }
    } finally {
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

  #step(input: Input, raisedIn: DisposerScope | undefined): void {
    const from = this.#state;
    if (raisedIn !== undefined && raisedIn !== this.#stateScope) {
      // Raised by a state that has since been left (its timers and attempt are gone): it belongs to the past.
      this.#debug(`dropped ${input.type} raised in an earlier state`, input);
      return;
    }
    // Timeouts and provider failures carry their error; it is reported once the transition has been made, so
    // an error listener sees the new state, and what it calls waits its turn instead of racing the deadline.
    const error = 'error' in input ? input.error : undefined;
    const result = transition(from, input, this.#policy());
    if (!result) {
      this.#debug(`ignored ${input.type} in state ${from.name}`, input);
      if (error) this.#emitError(error);
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
    if (!result.keep) {
      this.#stateScope.dispose();
      this.#stateScope = new DisposerScope(this.#onDisposerError);
      this.#heartbeat = undefined;
    }
    if (error) this.#emitError(error);
    if (ended) this.#endConnection(ended, to);
    if (from.name !== to.name) this.#emit('state', { from: from.name, to: to.name });
    if (!result.keep) this.#enter(to);
  }

  /** The machine's view of the options and the environment, made once; user callbacks in it are guarded. */
  #policy(): Policy {
    return (this.#policyView ??= this.#makePolicy());
  }

  #makePolicy(): Policy {
    const o = this.#options;
    const env = this.#environment;
    const random = () => this.#guard('random', o.random, Math.random);
    const curve = { ...o, random };
    // The decorrelated curve draws each delay from the range the previous one sets.
    let previousMs = 0;
    const builtIn = (attempt: number) => (previousMs = backoffDelay(attempt, curve, previousMs));
    const self = this;
    return {
      shouldReconnect: (close) => this.#guard('shouldReconnect', () => o.shouldReconnect(close), () => defaultShouldReconnect(close)),
      delay: (attempt) => {
        const ms = o.delay ? this.#guard('delay', () => o.delay!(attempt), () => builtIn(attempt)) : builtIn(attempt);
        // Longer than a timer can wait (Infinity too) is cut to the limit; NaN or negative means now.
        return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
      },
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

  /** Runs a state's entry effects; everything they start belongs to the state's scope. */
  #enter(state: State): void {
    // dispose() called from a listener mid-transition: the queued DISPOSE follows; start nothing new meanwhile.
    if (this.#isDisposed && !(state.name === 'closed' && state.end === 'disposed')) return;
    const scope = this.#stateScope;
    switch (state.name) {
      case 'connecting':
        this.#markRunning();
        if (!this.#isDisposed) this.#startAttempt(state.attempt, scope);
        break;
      case 'open':
        this.#enterOpen(state.attempt, scope);
        break;
      case 'closing': {
        const ms = this.#options.closeTimeoutMs;
        scope.timeout(() => this.#fail('CLOSE_TIMEOUT', `the peer did not answer the close frame within ${ms} ms; the connection was forced down`, scope), ms);
        break;
      }
      case 'closed':
        if (state.retry) {
          this.#markRunning();
          if (state.retry.hold || this.#isDisposed) break;
          const { delayMs } = state.retry;
          this.#nextRetryAt = Date.now() + delayMs;
          scope.timeout(() => this.#dispatch({ type: 'RETRY_DUE' }, scope), delayMs, this.#options.unrefRetryTimer);
          this.#announce = state;
        } else if (state.end !== 'idle') this.#enterFinal(state);
    }
  }

  #enterFinal(state: ClosedState): void {
    liveSockets().delete(this);
    this.#running?.dispose();
    this.#running = undefined;
    if (state.end === 'disposed') this.#dropAll(this.#queue.clear(), 'disposed');
    else if (state.end === 'user' && !this.#options.queue.queueWhileClosed) this.#dropAll(this.#queue.clear(), 'closed');
    if (this.#finalHooks) for (const hook of [...this.#finalHooks]) hook(state);
    if (state.last) this.#settleClose(state.last);
    if (state.end === 'disposed') this.#events.clear();
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
    (this.#finalHooks ??= new Set()).add(hook);
    return () => this.#finalHooks?.delete(hook);
  }

  // ── effects ─────────────────────────────────────────────────────────────────────────────────────────────

  #startAttempt(attempt: number, scope: DisposerScope): void {
    // The attempt starts here, and with it the connection whose end is reported by exactly one `close` event.
    this.#connection = new DisposerScope(this.#onDisposerError);
    const controller = new AbortController();
    scope.add(() => controller.abort());
    const ms = this.#options.connectTimeoutMs;
    scope.timeout(() => this.#fail('CONNECT_TIMEOUT', `not open within connectTimeoutMs (${ms} ms); the attempt was torn down`, scope), ms);
    const { protocols, headers } = this.#options;
    resolveProviders(
      [this.#url, protocols, headers],
      { signal: controller.signal, attempt },
      () => scope.isDisposed,
      ([url, p, h]) => this.#openSocket(url, p, h, scope),
      (error) => this.#providerFailed(error, scope),
    );
  }

  #providerFailed(error: unknown, scope: DisposerScope): void {
    const message = `a url, protocols or headers provider failed: ${describeError(error)}`;
    const socketError = error instanceof SocketError ? error : new SocketError('PROVIDER_FAILED', message, { cause: error });
    this.#dispatch({ type: 'PROVIDER_FAILED', error: socketError }, scope);
  }

  #openSocket(urlValue: unknown, protocols: unknown, headers: unknown, scope: DisposerScope): void {
    // A provider is user code: it may have disposed the socket (that input waits its turn); create nothing then.
    if (this.#isDisposed) return;
    let socket: WebSocketLike;
    try {
      const url = checkUrl(urlValue);
      const Ctor = this.#WebSocket;
      const protocolList = protocols as string | string[] | undefined;
      if (headers !== undefined && !supportsHeaders(Ctor)) {
        if (!this.#hasWarnedHeaders) {
          const warning = 'the headers option is ignored: this WebSocket implementation cannot set handshake headers (browsers cannot).';
          this.#debug(warning);
          console.warn(`ReconnectingSocket: ${warning}`);
        }
        this.#hasWarnedHeaders = true;
        socket = new Ctor(url, protocolList);
      } else if (headers !== undefined) socket = new Ctor(url, protocolList, { headers: headers as Record<string, string> });
      else socket = new Ctor(url, protocolList);
    } catch (error) {
      this.#providerFailed(new SocketError('PROVIDER_FAILED', `could not create the WebSocket: ${describeError(error)}`, { cause: error }), scope);
      return;
    }
    this.#attach(socket);
  }

  /** Binds the socket to a fresh connection scope; disposing that scope detaches and forces it down. */
  #attach(socket: WebSocketLike): void {
    this.#socket = socket;
    // One listener per instance, shared by all its connections.
    const listener = (this.#socketListener ??= ((kind: string, value?: unknown) => {
      if (kind === 'message') this.#onMessage(value);
      else if (kind === 'open') this.#dispatch({ type: 'OPENED' });
      else if (kind === 'close') this.#dispatch({ type: 'SOCKET_CLOSED', close: value as CloseRecord });
      else if (kind === 'error') this.#emitError(value as SocketError);
      else this.#debug('late error from a detached socket (absorbed)', value);
    }) as SocketListener);
    this.#connection!.add(bindSocket(socket, this.#options.binaryType, listener));
  }

  #enterOpen(attempt: number, scope: DisposerScope): void {
    const socket = this.#socket!;
    const heartbeat = this.#options.heartbeat;
    if (heartbeat) {
      this.#heartbeat = startHeartbeat(scope, socket, heartbeat, (this.#heartbeatHooks ??= {
        // A heartbeat is stopped with its state's scope, so one that fires belongs to the current scope.
        onDead: (ms) => this.#fail('HEARTBEAT_TIMEOUT', `no pong within ${ms} ms; the connection is presumed dead and was forced down`, this.#stateScope),
        onRtt: (rttMs) => {
          this.#rttMs = rttMs;
          this.#emit('heartbeat', { rttMs });
        },
        guard: (option, callback, fallback) => this.#guard(option, callback, fallback),
      }));
    }
    if (attempt > 0) scope.timeout(() => this.#dispatch({ type: 'STABLE' }, scope), this.#options.stableAfterMs);
    this.#isAnnouncingOpen = true;
    try {
      this.#emit('open', { attempt, protocol: socket.protocol ?? '' });
    } finally {
      this.#isAnnouncingOpen = false;
    }
    this.#flushAfter = socket;
  }

  /** Sends the backlog in order; stops (keeping the rest, in order) as soon as the socket is no longer open. */
  #flush(socket: WebSocketLike): void {
    const now = Date.now();
    this.#dropAll(this.#queue.expire(now), 'expired');
    while (this.#queue.size > 0 && !this.#isDisposed && this.#socket === socket && socket.readyState === OPEN) {
      const item = this.#queue.shift()!;
      try {
        socket.send(item.data);
      } catch (cause) {
        // Refused by an open socket, it would be refused on every flush: report it and carry on with the rest.
        this.#emitError(new SocketError('SEND_FAILED', `the open WebSocket refused a queued message: ${describeError(cause)}`, { cause, data: item.message }));
        this.#emit('drop', { message: item.message, reason: 'failed' });
      }
    }
  }

  #onMessage(raw: unknown): void {
    const heartbeat = this.#heartbeat;
    if (heartbeat ? heartbeat.onMessage(raw) : this.#isStrayPong(raw)) return;
    let data: In;
    const codec = this.#options.codec;
    if (codec) {
      try {
        data = codec.decode(raw as string | ArrayBuffer | Blob);
      } catch (cause) {
        this.#emitError(new SocketError('DECODE_FAILED', `an incoming message could not be decoded: ${describeError(cause)}`, { cause, data: raw }));
        return;
      }
    } else data = raw as In;
    this.#emit('message', { data });
  }

  #sendClose(code: number, reason: string): void {
    const socket = this.#socket;
    try {
      socket?.close(code, reason);
    } catch (error) {
      // Browsers accept only 1000 and 3000-4999 from scripts; 1001 (going away) is legal on the wire.
      this.#debug(`close(${code}) on the inner socket threw; retrying with 1000`, error);
      try {
        socket?.close(1000, reason);
      } catch {
        // The close timer forces it down.
      }
    }
  }

  /** Ends the current attempt: releases its socket and reports it with its one `close` event. */
  #endConnection(close: CloseRecord, next: State): void {
    const connection = this.#connection;
    // No attempt started (close(), reconnect() or dispose() before the first one began): nothing to report.
    if (!connection) return;
    this.#connection = undefined;
    this.#socket = undefined;
    this.#lastClose = close;
    connection.dispose();
    this.#settleClose(close);
    const retry = next.name === 'closed' ? next.retry : undefined;
    this.#emit('close', {
      ...close,
      willReconnect: next.name === 'connecting' || retry !== undefined,
      delayMs: next.name === 'connecting' ? 0 : retry && !retry.hold ? retry.delayMs : undefined,
    });
  }

  /** A deadline passed: the input goes first, the error is reported by the transition it causes. */
  #fail(code: 'CONNECT_TIMEOUT' | 'CLOSE_TIMEOUT' | 'HEARTBEAT_TIMEOUT', message: string, scope: DisposerScope): void {
    this.#dispatch({ type: code, error: new SocketError(code, message) }, scope);
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────

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
  #markRunning(): void {
    liveSockets().add(this);
    if (this.#running) return;
    const running = (this.#running = new DisposerScope(this.#onDisposerError));
    const signal = this.#options.signal;
    if (signal?.aborted) return this.dispose();
    if (signal) running.listen(signal, 'abort', () => this.dispose());
    const environment = this.#environment;
    if (environment) {
      const subscribe = () => environment.subscribe((signal) => this.#dispatch({ type: 'SIGNAL', signal }));
      const unsubscribe = this.#guard('environment.subscribe', subscribe, () => undefined);
      if (typeof unsubscribe === 'function') running.add(() => this.#guard('environment.subscribe', unsubscribe, () => undefined));
    }
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
      const error = new SocketError('CALLBACK_THREW', `option "${option}" threw: ${describeError(cause)}. The built-in behaviour was used instead; fix the callback.`, { cause });
      queueMicrotask(() => this.#emitError(error));
      return fallback();
    }
  }

  #ensureUsable(method: string): void {
    if (this.#isDisposed) throw new Error(`ReconnectingSocket: ${method}() after dispose(); create a new socket instead.`);
  }

  #dropAll(items: QueuedMessage<Out>[], reason: 'overflow' | 'expired' | 'closed' | 'disposed'): void {
    for (const item of items) this.#emit('drop', { message: item.message, reason });
  }

  /**
   * Reports an error: to `error` listeners, or else to the `debug` hook. With neither, the socket's first error
   * goes to console.warn once, so a socket failing in silence (a dead port, a codec that throws) is noticed.
   */
  #emitError(error: SocketError): void {
    if (this.#events.has('error')) return this.#events.emit('error', { error });
    this.#debug(error.message, error);
    if (this.#options.debug || this.#isDisposed || this.#hasWarnedUnhandled) return;
    this.#hasWarnedUnhandled = true;
    console.warn(`ReconnectingSocket: ${error.code}: ${error.message}. Add an "error" listener to handle errors, or the debug option to silence this warning; later errors of this socket are not printed.`);
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
