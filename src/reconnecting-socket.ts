import { checkArgs, checkAttempt, checkClose } from '#checks';
import { canPing, create, defaultWebSocket, intern, protocolErrorCode, track } from '#platform';
import { ROUTE, closeRecord, listen, retire, socketError } from './connection.js';
import { Emitter } from './emitter.js';
import { createBrowserEnvironment, type Environment } from './environment.js';
import { SocketError, describeError } from './errors.js';
import type { DropReason, SendResult, SocketEvents } from './events.js';
import { Heartbeat, setHeartbeatHost } from './heartbeat.js';
import { transition, type CloseCause, type CloseRecord, type Inputs, type Retry, type State, type StateName, type Transition } from './machine.js';
import { resolveOptions, type Provider, type RawMessage, type ReconnectingSocketArgs, type ResolvedOptions, type WireData } from './options.js';
import { holdOf, planRetry, type Call } from './policy.js';
import { OutgoingQueue, type QueuedMessage } from './queue.js';
import { MAX_TIMER_MS, byteSize, checkUrl, type WebSocketLike } from './transport.js';
import { checkTimeout } from './waits.js';

/** The URL to connect to, or a provider called before every attempt. */
export type UrlProvider = Provider<string | URL>;

type Any = ReconnectingSocket<any, any>;


/**
 * A WebSocket that reconnects with backoff, checks liveness, queues while down, and always closes: the close
 * handshake is bounded by `closeTimeoutMs`, and `close()` or `dispose()` leave no timer, listener or socket
 * behind. It runs the pure state machine of `machine.ts`; this class performs its effects.
 *
 * ```
 *   connecting ──opened──▶ open ──close()──▶ closing ──peer's close frame / closeTimeoutMs──▶ closed
 *       ▲                   │                                                                    │
 *       └── retry (backoff) ┴──── dropped, heartbeat timeout, server close ─────────────────────▶┘
 * ```
 *
 * Every call finishes its whole change (state, timers, queue) before any event goes out. Events then go out one
 * at a time, in order, from one queue, never nested. A call made from a listener acts at once on the current
 * state, and its events come after those already waiting: inside a listener, `state` may be ahead of the event.
 *
 * @example
 * ```ts
 * const socket = new ReconnectingSocket('wss://example.com/feed', { codec: jsonCodec });
 * socket.on('open', () => socket.send({ type: 'subscribe', topic: 'prices' }));
 * socket.on('message', ({ data }) => console.log(data));
 * socket.on('close', ({ code, cause, willReconnect }) => console.log(code, cause, willReconnect));
 * await socket.close(); // the peer answered the close frame, or closeTimeoutMs passed
 * ```
 */
export class ReconnectingSocket<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> extends Emitter<SocketEvents<In, Out>> {
  // Thousands of these live in one process: per instance there are fields, and collections come with their
  // first item. Timers and socket listeners are shared functions that find their instance through an argument.
  readonly #url: UrlProvider;
  readonly #o: ResolvedOptions<In, Out>;
  #s: State = { name: 'closed', attempt: 0, end: 'idle' };
  /** The state's timer: the connect or close timeout, or the planned retry. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The attempt under way: it aborts the attempt's providers once the attempt is over. */
  #ctl: AbortController | undefined;
  #ws: WebSocketLike | undefined;
  /** The last error the current socket reported, for its close record. */
  #error: SocketError | undefined;
  #hb: Heartbeat<Any> | undefined;
  #queue: OutgoingQueue<Out> | undefined;
  /** The socket whose backlog goes out after its `open` listeners: until then, their sends go first. */
  #flushFor: WebSocketLike | undefined;
  #last: CloseRecord | undefined;
  #openedAt = 0;
  #rtt: number | undefined;
  /** The delay of the previous retry, which the decorrelated curve grows from. */
  #previousMs = 0;
  /** 401/403/407 refusals of the upgrade in a row. */
  #refusals = 0;
  /** 1: an error nobody listened for was printed; 2: running (see `#run`). */
  #flags = 0;
  /** `close()` promises, settled by the end of the connection they close (or by the final close). */
  #waiters: ((close: CloseRecord) => void)[] | undefined;
  /** The `closed` promise of this run, and its resolver. */
  #final: [Promise<CloseRecord>, (close: CloseRecord) => void] | undefined;
  /** Stops following the environment and the signal. */
  #unsubscribe: (() => void) | undefined;

  /**
   * Creates the socket and, unless `autoConnect` is `false`, starts connecting. No event fires inside the
   * constructor. Throws `TypeError`/`RangeError` for bad options or a bad URL. `options` may be left out while
   * `In` and `Out` are wire data; message types of your own need a `codec` (see {@link ReconnectingSocketArgs}).
   */
  // The rest parameter's name is what the compiler says when message types of your own come with no codec.
  constructor(url: UrlProvider, ...optionsWithCodec: ReconnectingSocketArgs<In, Out>) {
    super();
    const [options] = optionsWithCodec;
    if (typeof url !== 'function') checkUrl(url);
    checkArgs(arguments.length, options);
    this.#url = url;
    const o = (this.#o = intern(resolveOptions<In, Out>(options)));
    if (!(o.WebSocket ?? defaultWebSocket())) throw new TypeError('ReconnectingSocket: no WebSocket here; install "ws" or pass the WebSocket option.');
    if (o.signal?.aborted) this.dispose();
    else if (o.autoConnect) {
      const s = (this.#s = { name: 'connecting', attempt: 0 });
      this.#arm(o.connectTimeoutMs);
      this.#run();
      // The first attempt starts on a microtask, so a url provider can read `socket`; a close(), reconnect() or
      // dispose() before it ends no connection (no `close` event).
      queueMicrotask(() => {
        if (this.#s === s) this.#attempt(0);
        this.drain();
      });
    }
    this.ready();
  }

  /** `connecting`, `open`, `closing` or `closed`. */
  get state(): StateName {
    return this.#s.name;
  }

  /** Retries since the last stable connection: 0 for a first one, and once open `stableAfterMs` (the curve restarts). */
  get attempt(): number {
    const s = this.#s;
    return s.name === 'open' && Date.now() - this.#openedAt >= this.#o.stableAfterMs ? 0 : s.attempt;
  }

  /** The planned retry while closed: its number, delay and what holds it (offline, hidden, pagehide). */
  get retry(): Retry | undefined {
    return this.#s.retry;
  }

  /** How the last connection ended. */
  get lastClose(): CloseRecord | undefined {
    return this.#last;
  }

  /** The latest heartbeat round-trip time in milliseconds. */
  get rttMs(): number | undefined {
    return this.#rtt;
  }

  /** The subprotocol selected by the server ('' when none or not open). */
  get protocol(): string {
    return (this.#s.name === 'open' && this.#ws!.protocol) || '';
  }

  /** Bytes not yet on the wire: the queue (UTF-8 for strings) plus the inner socket's buffer. */
  get bufferedAmount(): number {
    return (this.#queue?.bytes ?? 0) + (this.#ws?.bufferedAmount ?? 0);
  }

  /** A snapshot of the outgoing queue, oldest first. */
  get queued(): QueuedMessage<Out>[] {
    return this.#queue?.entries() ?? [];
  }

  /** Whether `dispose()` was called (or the `signal` aborted). */
  get isDisposed(): boolean {
    return this.#s.end === 'disposed';
  }

  /** Resolves with the final close (`close()`, the policy gave up, `dispose()`); a socket started again hands out a new one. */
  get closed(): Promise<CloseRecord> {
    if (this.#isFinal()) return Promise.resolve(this.#last!);
    if (!this.#final) {
      let resolve!: (close: CloseRecord) => void;
      this.#final = [new Promise((r) => (resolve = r)), resolve];
    }
    return this.#final[0];
  }

  /**
   * Sends now if open, otherwise queues (bounded; see the `queue` option). Never throws for the socket's state:
   * the result says what happened. A message the codec cannot turn into wire data (a string, binary data or a
   * Blob) is refused with `'failed'` and an `ENCODE_FAILED` error, in every state.
   */
  send(message: Out, options?: { ttlMs?: number }): SendResult {
    const ttlMs = options?.ttlMs ?? this.#o.queue.ttlMs;
    // Misuse throws whatever the state, so a bad ttlMs cannot hide until the first outage.
    if (ttlMs !== undefined && !(ttlMs > 0)) throw new RangeError(`send(): ttlMs must be > 0, got ${ttlMs}.`);
    let result: SendResult = 'disposed';
    if (!this.isDisposed) {
      try {
        const data = this.#o.codec.encode(message);
        if (typeof data !== 'string' && !((data as ArrayBufferLike)?.byteLength >= 0 || (data as Blob)?.size >= 0)) throw new TypeError(`not wire data: ${typeof data}`);
        // encode() is user code: it may have closed or disposed the socket, so the state is read afresh.
        result = this.isDisposed ? 'disposed' : this.#place(message, data, ttlMs);
      } catch (cause) {
        this.#report('ENCODE_FAILED', `encode failed: ${describeError(cause)}`, cause, message);
        result = 'failed';
      }
    }
    this.drain();
    return result;
  }

  /** Sends now if the socket is open and nothing waits ahead of the message; else queues it. */
  #place(message: Out, data: WireData, ttlMs: number | undefined): SendResult {
    const ws = this.#ws;
    const s = this.#s;
    if (s.name === 'open' && ws!.readyState === 1 && (!this.#queue?.size || this.#flushFor === ws)) return this.#write(ws!, message, data) ? 'sent' : 'failed';
    if ((this.#isFinal() || s.then === 'stop') && !this.#o.queue.queueWhileClosed) return 'closed';
    const queue = (this.#queue ??= new OutgoingQueue(this.#o.queue));
    const result = queue.push(message, data, Date.now(), ttlMs, (item, reason) => this.#drop(item.message, reason));
    if (result === 'dropped') this.#drop(message, 'overflow');
    return result;
  }

  /** Starts connecting if idle or stopped (after `close()`, or when the policy gave up); otherwise does nothing. */
  connect(): void {
    if (this.isDisposed) throw new Error('ReconnectingSocket: connect() after dispose(); create a new socket.');
    this.#input('CONNECT');
  }

  /** Drops the current connection (if any) and starts a fresh attempt at once. After `dispose()` it does nothing. */
  reconnect(): void {
    // An explicit fresh start: new credentials get their MAX_AUTH_REFUSALS attempts again.
    this.#refusals = 0;
    this.#input('RECONNECT');
  }

  /**
   * Stops reconnecting and closes: sends a close frame and waits for the peer's (RFC 6455 §7.1.2); if none
   * arrives within `closeTimeoutMs` the socket is forced down. Resolves with the close record of the connection
   * it ended (or the last one). Safe in any state, any number of times.
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
    return new Promise((resolve) => {
      if (this.#s.name === 'closed') this.#last ??= { code, reason, wasClean: true, cause: 'client' };
      if (this.#isFinal()) return resolve(this.#last!);
      (this.#waiters ??= []).push(resolve);
      this.#input('CLOSE', [code, reason]);
    });
  }

  /** Checks liveness now: pings with a short deadline (`heartbeat.probeTimeoutMs` unless given). */
  probe(timeoutMs?: number): void {
    checkTimeout('probe()', timeoutMs);
    this.#hb?.probe(timeoutMs);
    this.drain();
  }

  /** Empties the outgoing queue and returns what it held (no `drop` events). */
  clearQueue(): QueuedMessage<Out>[] {
    const queue = this.#queue;
    this.#queue = undefined;
    return queue?.clear() ?? [];
  }

  /**
   * Terminal, synchronous and idempotent: forces the connection down, cancels every timer and forgets the inner
   * socket. Queued messages are dropped (`disposed`); once the events already waiting and the dispose's own have
   * gone out, every listener is removed.
   */
  dispose(): void {
    if (this.#s.name === 'closed') this.#last ??= { code: 1006, reason: '', wasClean: false, cause: 'dispose' };
    this.#input('DISPOSE');
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

  // ── the machine ─────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs one input against the current state (the machine decides nothing that needs user code), then lets the
   * events out. No event goes out while the change is made, even if user code it calls (a provider, the debug
   * hook, an unsubscribe) calls back in: that call acts at once, and its events wait behind this change's.
   */
  #input<K extends keyof Inputs>(type: K, data?: Inputs[K]): void {
    const wasBusy = this.hold();
    const from = this.#s;
    const next = transition(from, type, data!);
    if (next) this.#commit(from, next);
    else this.#debug(`ignored ${type} in ${from.name}`, data);
    this.release(wasBusy);
  }

  /**
   * The current connection ended. The policy (user code) plans what follows; if a call it made moved the machine
   * meanwhile, that call wins, and an event of the inner socket applies again while that socket is current.
   */
  #end(close: CloseRecord, source?: WebSocketLike): void {
    const s = this.#s;
    let plan: Retry | undefined;
    if (s.name === 'connecting' || s.name === 'open') [plan, this.#previousMs] = planRetry(this.#o, this.#env(), this.#caller(), close, this.attempt, this.#previousMs);
    if (s === this.#s) this.#input('END', [close, plan]);
    else if (source && source === this.#ws) this.#end(close, source);
    else this.drain();
  }

  #commit(from: State, { to, end, frame, probe, keep }: Transition): void {
    const ws = this.#ws;
    // An attempt has started once its providers were called: it has a socket, or an attempt controller.
    const isStarted = ws || this.#ctl;
    this.#s = to;
    if (!keep) {
      clearTimeout(this.#timer);
      this.#ctl?.abort();
      this.#hb?.stop();
      this.#timer = this.#ctl = this.#hb = undefined;
    }
    if (frame) {
      try {
        ws!.close(...frame);
      } catch {
        // Browsers refuse 1001 from scripts (it is legal on the wire); the close timer bounds the rest.
        try {
          ws!.close(1000, frame[1]);
        } catch {}
      }
    }
    if (end) {
      this.#ws = this.#error = undefined;
      if (ws) retire(ws);
      this.#last = end;
      this.#settle(end);
      const { retry, name } = to;
      if (isStarted) this.emit('close', { ...end, willReconnect: name === 'connecting' || !!retry, delayMs: name === 'connecting' ? 0 : retry && !retry.hold ? retry.delayMs : undefined });
    }
    if (from.name !== to.name) this.emit('state', { from: from.name, to: to.name });
    if (probe) this.#hb?.probe();
    if (!keep) this.#enter(to);
  }

  /** Starts what a state owns (leaving it releases it). User code runs last, and what follows it checks the state. */
  #enter(s: State): void {
    const o = this.#o;
    const { name, retry, end } = s;
    if (name === 'connecting') {
      this.#arm(o.connectTimeoutMs);
      this.#run();
      if (this.#s === s) this.#attempt(s.attempt);
    } else if (name === 'open') {
      const ws = this.#ws!;
      this.#refusals = 0;
      this.#openedAt = Date.now();
      const heartbeat = o.heartbeat;
      if (heartbeat && (heartbeat.message !== undefined || canPing(ws))) this.#hb = new Heartbeat(this, ws, heartbeat);
      this.emit('open', { attempt: s.attempt, protocol: ws.protocol || '' });
      // The backlog goes out after the `open` listeners: their sends go first, and their close() stops it.
      if (this.#queue) {
        this.#flushFor = ws;
        this.emit(() => this.#flush(ws));
      }
    } else if (name === 'closing') this.#arm(o.closeTimeoutMs);
    else if (retry) {
      const { attempt, delayMs, hold } = retry;
      // Announced in its turn, unless a later call superseded this retry by then.
      this.emit(() => this.#s === s && this.deliver(hold ? 'hold' : 'reconnecting', hold ? { attempt, hold } : { attempt, delayMs }));
      if (!hold) this.#arm(delayMs, o.unrefRetryTimer);
      this.#run();
    } else if (end !== 'idle') {
      // Closed for good.
      this.#refusals = 0;
      const queue = this.#queue;
      if (queue && (end === 'disposed' || (end === 'user' && !o.queue.queueWhileClosed))) {
        this.#queue = undefined;
        for (const { message } of queue.clear()) this.#drop(message, end === 'disposed' ? end : 'closed');
      }
      const close = this.#last!;
      this.#settle(close);
      this.#final?.[1](close);
      this.#final = undefined;
      // Announced in its turn, unless a later call started the socket again by then.
      this.emit(() => this.#s === s && this.deliver('end', { close, isDisposed: end === 'disposed' }));
      if (this.#flags & 2) {
        this.#flags &= ~2;
        track(this, false);
        this.#unsubscribe?.();
      }
    }
  }

  /** The environment's signals: the option, or the browser's (made when asked, so a socket keeps none). */
  #env(): Environment | null {
    const { environment } = this.#o;
    return environment === undefined ? createBrowserEnvironment() : environment;
  }

  #isFinal(): boolean {
    const { end } = this.#s;
    return !!end && end !== 'idle';
  }

  /** From the first attempt to the final close: in the live registry, following the environment and the signal. */
  #run(): void {
    if (this.#flags & 2) return;
    this.#flags |= 2;
    track(this, true);
    const { signal } = this.#o;
    const env = this.#env();
    const onAbort = () => this.dispose();
    signal?.addEventListener('abort', onAbort);
    const off =
      env &&
      this.#call(
        'environment.subscribe',
        () =>
          env.subscribe((sig) => {
            const s = this.#s;
            const hold = holdOf(this.#o, env, this.#caller(), sig);
            if (s === this.#s) this.#input('SIGNAL', [sig, hold]);
          }),
        undefined,
      );
    if (signal || off) {
      this.#unsubscribe = () => {
        this.#unsubscribe = undefined;
        signal?.removeEventListener('abort', onAbort);
        if (typeof off === 'function') this.#call('environment.subscribe', off, undefined);
      };
    }
    if (signal?.aborted) this.dispose();
  }

  #arm(ms: number, unref?: boolean): void {
    const timer = setTimeout(ReconnectingSocket.#timeUp, Math.min(ms, MAX_TIMER_MS), this) as ReturnType<typeof setTimeout>;
    if (unref) (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  static #timeUp(self: Any): void {
    self.#timer = undefined;
    const { name } = self.#s;
    const o = self.#o;
    if (name === 'connecting') self.#fail(self.#report('CONNECT_TIMEOUT', `not open within connectTimeoutMs (${o.connectTimeoutMs} ms)`), 'connect-timeout');
    else if (name === 'closing') self.#fail(self.#report('CLOSE_TIMEOUT', `no close frame within closeTimeoutMs (${o.closeTimeoutMs} ms)`), 'close-timeout');
    else self.#input('RETRY');
  }

  /** Ends the current connection from this side, for `error` (already reported: it goes out first). */
  #fail(error: SocketError, cause: CloseCause, more?: Partial<CloseRecord>, source?: WebSocketLike): void {
    this.#end({ code: 1006, reason: '', wasClean: false, cause, error, ...more }, source);
  }

  // ── an attempt ──────────────────────────────────────────────────────────────────────────────────────────

  #attempt(attempt: number): void {
    const { protocols, headers, transport } = this.#o;
    // The controller marks the attempt as started, and aborts its providers once it is over.
    const ctl = (this.#ctl = new AbortController());
    const failed = (error: unknown) => ctl === this.#ctl && this.#fail(this.#report('PROVIDER_FAILED', `provider failed: ${describeError(error)}`, error), 'provider');
    const values: unknown[] = [];
    try {
      for (const p of [this.#url, protocols, headers, transport]) values.push(typeof p === 'function' ? p({ signal: ctl.signal, attempt }) : p);
    } catch (error) {
      // A provider's promise already made must not surface later as an unhandled rejection.
      Promise.all(values).catch(() => {});
      return void failed(error);
    }
    // Plain values (the usual case) open at once; a provider's promise settles on a microtask, when the machine
    // may have moved on (providers are user code: they may even have moved it on already).
    if (!values.some((value) => typeof (value as PromiseLike<unknown>)?.then === 'function')) this.#open(values, ctl);
    else Promise.all(values).then((settled) => this.#open(settled, ctl), failed);
  }

  #open([url, protocols, headers, transport]: unknown[], ctl: AbortController): void {
    if (ctl !== this.#ctl) return;
    const o = this.#o;
    const Ctor = o.WebSocket ?? defaultWebSocket()!;
    let ws: WebSocketLike;
    try {
      // In development: a bad provider result is named, and what this WebSocket cannot honour is said once.
      checkAttempt(protocols, headers, transport, Ctor, this, o.debug);
      ws = create(Ctor, checkUrl(url), protocols, headers, transport, o.maxMessageBytes);
    } catch (error) {
      return this.#fail(this.#report('PROVIDER_FAILED', `cannot open: ${describeError(error)}`, error), 'provider');
    }
    // The debug hook and the constructor may be user code that moved the machine on: then this socket goes.
    if (this.#ctl !== ctl) return retire(ws);
    this.#ws = ws;
    listen(ws, this, o.binaryType);
    this.drain();
  }

  // ── the inner socket's events ────────────────────────────────────────────────────────────────────────────

  /** @internal Where the inner socket's events go (called by the shared listeners of connection.ts). */
  [ROUTE](socket: WebSocketLike, type: string, value?: unknown, reason?: string, wasClean?: boolean): void {
    const ws = this.#ws;
    if (type === 'late') this.#debug('late error (absorbed)', value);
    else if (socket !== ws) return;
    else if (type === 'open') return this.#input('OPENED');
    else if (type === 'close') return this.#end(closeRecord(value, reason, wasClean, this.#error), ws);
    else if (type === 'message') this.#message(ws, value);
    else if (type === 'pong') this.#hb?.pong();
    else if (type === 'refused') {
      // 407: the proxy wants credentials, which a transport provider may bring next time, as with a token.
      const { status } = value as { status: number };
      const isAuth = status === 401 || status === 403 || status === 407;
      const refusals = (this.#refusals = isAuth ? this.#refusals + 1 : 0);
      return this.#fail(this.#report('SOCKET_ERROR', `upgrade refused: HTTP ${status}`), 'refused', { ...(value as object), ...(isAuth && { refusals }) }, ws);
    } else {
      const error = socketError(value);
      const code = protocolErrorCode(error.cause);
      this.emit('error', { error });
      // A bad frame, invalid UTF-8 or a message too big (RFC 6455 §7.1.7): ws failed the connection, with that
      // code. An error while connecting ends the attempt: some implementations never fire `close` after it.
      if (code || this.#s.name === 'connecting') return this.#fail(error, code ? 'protocol' : 'network', code ? { code } : undefined, ws);
      this.#error = error;
    }
    this.drain();
  }

  #message(ws: WebSocketLike, raw: unknown): void {
    const o = this.#o;
    const limit = o.maxMessageBytes;
    // ws enforces the limit itself (maxPayload) before buffering; elsewhere it is enforced on arrival.
    if (limit !== undefined && !ws.terminate && byteSize(raw as WireData) > limit) return this.#fail(this.#report('SOCKET_ERROR', `message over maxMessageBytes (${limit})`), 'protocol', { code: 1009 }, ws);
    const hb = o.heartbeat;
    const isPong = hb && hb.message !== undefined && hb.isPong;
    // A pong is not a message, even outside `open` (during the close handshake, say).
    if (this.#hb ? this.#hb.message(raw) : !!isPong && this.#call('heartbeat.isPong', () => isPong(raw), false)) return;
    try {
      const data = o.codec.decode(raw as RawMessage);
      // isPong and decode are user code: a message of a connection they ended goes with it.
      if (ws === this.#ws) this.emit('message', { data });
    } catch (cause) {
      this.#report('DECODE_FAILED', `decode failed: ${describeError(cause)}`, cause, raw);
    }
  }

  // ── the queue ───────────────────────────────────────────────────────────────────────────────────────────

  /** Writes to the open socket; a refusal (a data type it cannot send, say) is reported and not retried. */
  #write(ws: WebSocketLike, message: Out, data: WireData): boolean {
    try {
      ws.send(data);
      return true;
    } catch (cause) {
      this.#report('SEND_FAILED', `send refused: ${describeError(cause)}`, cause, message);
      return false;
    }
  }

  /** Sends the backlog in order while the socket stays open; expired messages are dropped first. */
  #flush(ws: WebSocketLike): void {
    const queue = this.#queue;
    if (this.#flushFor !== ws || !queue) return;
    this.#flushFor = undefined;
    for (const { message } of queue.expire(Date.now())) this.#drop(message, 'expired');
    for (let item; this.#ws === ws && ws.readyState === 1 && (item = queue.shift()); ) if (!this.#write(ws, item.message, item.data)) this.#drop(item.message, 'failed');
    if (!queue.size && this.#queue === queue) this.#queue = undefined;
  }

  #drop(message: Out, reason: DropReason): void {
    this.emit('drop', { message, reason });
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────

  /** Reports an error of ours (an `error` event, in its turn). */
  #report(code: SocketError['code'], message: string, cause?: unknown, data?: unknown): SocketError {
    const error = new SocketError(code, message, { cause, data });
    this.emit('error', { error });
    return error;
  }

  /** Errors never vanish: with no error listener they go to the debug hook; with neither, the first is printed once. */
  protected override unheard(error: SocketError): void {
    this.#debug(error.message, error);
    if (this.#o.debug || this.#flags & 1) return;
    this.#flags |= 1;
    console.warn(`ReconnectingSocket: ${error.message} (${error.code}). Handle errors with on("error") or silence with the debug option; no more are printed.`);
  }

  protected override isSilent(): boolean {
    return this.isDisposed;
  }

  #settle(close: CloseRecord): void {
    const waiters = this.#waiters;
    this.#waiters = undefined;
    for (const resolve of waiters ?? []) resolve(close);
  }

  /** Runs one of your option callbacks; a throw is reported and `fallback` is used instead. */
  #call<T>(option: string, callback: () => T, fallback: T): T {
    try {
      return callback();
    } catch (cause) {
      this.#report('CALLBACK_THREW', `option "${option}" threw (the default was used): ${describeError(cause)}`, cause);
      return fallback;
    }
  }

  /** `#call` for the policy's functions (made only when they run). */
  #caller(): Call {
    return (option, callback, fallback) => this.#call(option, callback, fallback);
  }

  #debug(message: string, detail?: unknown): void {
    try {
      this.#o.debug?.(message, detail);
    } catch {
      // A throwing debug hook must not break the socket.
    }
  }

  static {
    setHeartbeatHost({
      dead: (self, ms) => self.#fail(self.#report('HEARTBEAT_TIMEOUT', `no pong within ${ms} ms`), 'heartbeat-timeout'),
      rtt: (self, rttMs) => {
        self.#rtt = rttMs;
        self.emit('heartbeat', { rttMs });
      },
      call: (self, option, callback, fallback) => self.#call(option, callback, fallback),
      done: (self: Any) => self.drain(),
    });
  }
}
