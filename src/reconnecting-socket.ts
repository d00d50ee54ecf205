import { checkClose } from '#checks';
import { track } from '#platform';
import { createBrowserEnvironment, type Environment } from './environment.js';
import type { UrlProvider } from './link.js';
import { transition, type CloseRecord, type Inputs, type Retry, type State, type StateName, type Transition } from './machine.js';
import type { RawMessage, ReconnectingSocketArgs, WireData } from './options.js';
import { Outbox } from './outbox.js';
import { holdOf, planRetry } from './policy.js';
import { MAX_TIMER_MS, type WebSocketLike } from './transport.js';

export type { UrlProvider } from './link.js';

type Any = ReconnectingSocket<any, any>;

/**
 * A WebSocket that reconnects with backoff, checks liveness, queues while down, and always closes: the close
 * handshake is bounded by `closeTimeoutMs`, and `close()` or `dispose()` leave no timer, listener or socket
 * behind. It is three layers, each a file that reads top to bottom: `Link` (link.ts) runs one connection (the
 * attempt, the inner socket, the heartbeat), `Outbox` (outbox.ts) adds `send()` and the queue, and this class runs
 * the pure machine of machine.ts and performs its effects.
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
export class ReconnectingSocket<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> extends Outbox<In, Out> {
  #s: State = { name: 'closed', attempt: 0, end: 'idle' };
  /** The state's timer: the connect or close timeout, or the planned retry. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last: CloseRecord | undefined;
  #openedAt = 0;
  /** The delay of the previous retry, which the decorrelated curve grows from. */
  #previousMs = 0;
  /** From the first attempt to the final close (see `#run`). */
  #isRunning = false;
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
    super(url, optionsWithCodec);
    const o = this.options;
    if (o.signal?.aborted) this.dispose();
    else if (o.autoConnect) {
      const s = (this.#s = { name: 'connecting', attempt: 0 });
      this.#arm(o.connectTimeoutMs);
      this.#run();
      // The first attempt starts on a microtask, so a url provider can read `socket`; a close(), reconnect() or
      // dispose() before it ends no connection (no `close` event).
      queueMicrotask(() => {
        if (this.#s === s) this.begin(0);
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
    return s.name === 'open' && Date.now() - this.#openedAt >= this.options.stableAfterMs ? 0 : s.attempt;
  }

  /** The planned retry while closed: its number, delay and what holds it (offline, hidden, pagehide). */
  get retry(): Retry | undefined {
    return this.#s.retry;
  }

  /** How the last connection ended. */
  get lastClose(): CloseRecord | undefined {
    return this.#last;
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

  /** Starts connecting if idle or stopped (after `close()`, or when the policy gave up); otherwise does nothing. */
  connect(): void {
    if (this.isDisposed) throw new Error('ReconnectingSocket: connect() after dispose(); create a new socket.');
    this.input('CONNECT');
  }

  /** Drops the current connection (if any) and starts a fresh attempt at once. After `dispose()` it does nothing. */
  reconnect(): void {
    this.input('RECONNECT');
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
      this.input('CLOSE', [code, reason]);
    });
  }

  /**
   * Terminal, synchronous and idempotent: forces the connection down, cancels every timer and forgets the inner
   * socket. Queued messages are dropped (`disposed`); once the events already waiting and the dispose's own have
   * gone out, every listener is removed.
   */
  dispose(): void {
    if (this.#s.name === 'closed') this.#last ??= { code: 1006, reason: '', wasClean: false, cause: 'dispose' };
    this.input('DISPOSE');
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

  /** Whether the socket is closed for good, or closes for good once its close handshake ends. */
  protected get isStopping(): boolean {
    return this.#isFinal() || this.#s.then === 'stop';
  }

  // ── the machine ─────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs one input against the current state (the machine decides nothing that needs user code), then lets the
   * events out. No event goes out while the change is made, even if user code it calls (a provider, the debug
   * hook, an unsubscribe) calls back in: that call acts at once, and its events wait behind this change's.
   */
  protected input<K extends keyof Inputs>(type: K, data?: Inputs[K]): void {
    const wasBusy = this.hold();
    const from = this.#s;
    const next = transition(from, type, data!);
    if (next) this.#commit(from, next);
    else this.debug(`ignored ${type} in ${from.name}`, data);
    this.release(wasBusy);
  }

  /**
   * The current connection ended. The policy (user code) plans what follows; if a call it made moved the machine
   * meanwhile, that call wins, and an event of the inner socket applies again while that socket is current.
   */
  protected end(close: CloseRecord, source?: WebSocketLike): void {
    const s = this.#s;
    let plan: Retry | undefined;
    if (s.name === 'connecting' || s.name === 'open') [plan, this.#previousMs] = planRetry(this.options, this.#env(), this.caller(), close, this.attempt, this.#previousMs);
    if (s === this.#s) this.input('END', [close, plan]);
    else if (source && source === this.socket) this.end(close, source);
    else this.drain();
  }

  #commit(from: State, { to, end, frame, probe, keep }: Transition): void {
    const isStarted = this.isStarted;
    this.#s = to;
    if (!keep) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.halt();
    }
    if (frame) this.shut(frame);
    if (end) {
      this.detach();
      this.#last = end;
      this.#settle(end);
      const { retry, name } = to;
      if (isStarted) this.emit('close', { ...end, willReconnect: name === 'connecting' || !!retry, delayMs: name === 'connecting' ? 0 : retry && !retry.hold ? retry.delayMs : undefined });
    }
    if (from.name !== to.name) this.emit('state', { from: from.name, to: to.name });
    if (probe) this.probe();
    if (!keep) this.#enter(to);
  }

  /** Starts what a state owns (leaving it releases it). User code runs last, and what follows it checks the state. */
  #enter(s: State): void {
    const o = this.options;
    const { name, retry, end } = s;
    if (name === 'connecting') {
      this.#arm(o.connectTimeoutMs);
      this.#run();
      if (this.#s === s) this.begin(s.attempt);
    } else if (name === 'open') {
      this.#openedAt = Date.now();
      this.connected();
      this.emit('open', { attempt: s.attempt, protocol: this.protocol });
      this.opened(this.socket!);
    } else if (name === 'closing') this.#arm(o.closeTimeoutMs);
    else if (retry) {
      const { attempt, delayMs, hold } = retry;
      // Announced in its turn, unless a later call superseded this retry by then.
      this.emit(() => this.#s === s && this.deliver(hold ? 'hold' : 'reconnecting', hold ? { attempt, hold } : { attempt, delayMs }));
      if (!hold) this.#arm(delayMs, o.unrefRetryTimer);
      this.#run();
    } else if (end !== 'idle') {
      // Closed for good.
      this.stopped(end);
      const close = this.#last!;
      this.#settle(close);
      this.#final?.[1](close);
      this.#final = undefined;
      // Announced in its turn, unless a later call started the socket again by then.
      this.emit(() => this.#s === s && this.deliver('end', { close, isDisposed: end === 'disposed' }));
      if (this.#isRunning) {
        this.#isRunning = false;
        track(this, false);
        this.#unsubscribe?.();
      }
    }
  }

  /** The environment's signals: the option, or the browser's (made when asked, so a socket keeps none). */
  #env(): Environment | null {
    const { environment } = this.options;
    return environment === undefined ? createBrowserEnvironment() : environment;
  }

  #isFinal(): boolean {
    const { end } = this.#s;
    return !!end && end !== 'idle';
  }

  /** From the first attempt to the final close: in the live registry, following the environment and the signal. */
  #run(): void {
    if (this.#isRunning) return;
    this.#isRunning = true;
    track(this, true);
    const { signal } = this.options;
    const env = this.#env();
    const onAbort = () => this.dispose();
    signal?.addEventListener('abort', onAbort);
    const off =
      env &&
      this.call(
        'environment.subscribe',
        () =>
          env.subscribe((sig) => {
            const s = this.#s;
            const hold = holdOf(this.options, env, this.caller(), sig);
            if (s === this.#s) this.input('SIGNAL', [sig, hold]);
          }),
        undefined,
      );
    if (signal || off) {
      this.#unsubscribe = () => {
        this.#unsubscribe = undefined;
        signal?.removeEventListener('abort', onAbort);
        if (typeof off === 'function') this.call('environment.subscribe', off, undefined);
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
    const o = self.options;
    if (name === 'connecting') self.fail(self.report('CONNECT_TIMEOUT', `not open within connectTimeoutMs (${o.connectTimeoutMs} ms)`), 'connect-timeout');
    else if (name === 'closing') self.fail(self.report('CLOSE_TIMEOUT', `no close frame within closeTimeoutMs (${o.closeTimeoutMs} ms)`), 'close-timeout');
    else self.input('RETRY');
  }

  #settle(close: CloseRecord): void {
    const waiters = this.#waiters;
    this.#waiters = undefined;
    for (const resolve of waiters ?? []) resolve(close);
  }

  protected override isSilent(): boolean {
    return this.isDisposed;
  }
}
