import { ReconnectingSocket, SocketError, createManualEnvironment, type ManualEnvironment, type SendResult, type StateName, messages, opened } from '../../src/index.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import type { CallbackAct, CallbackName, Config, Reentry, Step } from './scenario.js';
import { socketOptions } from './socket-options.js';

// The world one fuzz run happens in: the socket under test, built from the configuration; hostile user code
// (listeners and option callbacks armed by steps); and the bookkeeping the invariants are checked against.
// Every call into the socket goes through here so that its result is recorded.

/** An invariant that broke: its number (README table), a stable id to dedupe and skip by, and what happened. */
export interface Violation {
  inv: number;
  id: string;
  detail: string;
  step: string;
}

/** A message given to send(): what send() said, and what the invariants need to know about it. */
export interface TrackedMessage {
  data: string;
  result: SendResult | 'threw' | undefined;
  /**
   * When send() was called and when it returned, on one counter: a send nested in another (from encode() or a
   * `drop` listener) overlaps it, and the two have no order between them.
   */
  calledAt: number;
  returnedAt: number;
  /** Sent from an `open` listener while a backlog was queued: documented to jump that backlog. */
  priority: boolean;
  /** Handed back by clearQueue(). */
  cleared: boolean;
}

export interface TrackedWait {
  status: 'pending' | 'resolved' | 'rejected';
  signal: AbortSignal | undefined;
  error?: unknown;
  openEventsAtStart: number;
  timed: boolean;
  aborted: boolean;
  step: string;
}

export interface TrackedIterator {
  iterator: AsyncIterableIterator<unknown>;
  signal: AbortSignal | undefined;
  done: boolean;
  received: number;
  messageEventsAtStart: number;
  aborted: boolean;
  step: string;
}

export interface TrackedClose {
  at: number;
  settled: boolean;
  step: string;
}

export class World {
  readonly socket: ReconnectingSocket<unknown, string>;
  readonly env: ManualEnvironment | undefined;
  readonly optionSignal: AbortController | undefined;
  readonly violations: Violation[] = [];
  readonly trace: string[] = [];
  step = 'setup';

  // ── what the recorders saw ──
  attemptsByProvider = 0;
  closeEvents = 0;
  openEvents = 0;
  messageEvents = 0;
  lastTo: StateName;
  /** Between the recorder's `open` listener and the trailing one: sends here may jump the backlog. */
  openEmitting = false;
  /** A microtask has run since `new`, so the first attempt had its chance to start. */
  started = false;
  readonly drops = new Map<string, string[]>();
  readonly seenErrors = new Set<SocketError>();
  /** Errors thrown by hostile listeners, and how many times each was reported (error event or console.error). */
  readonly listenerMarkers = new Map<unknown, number>();
  /** The markers thrown by `error` listeners: those go to console.error (reportError) by design. */
  readonly #errorListenerMarkers = new Set<unknown>();
  /** Hostile `error` listeners registered right now. */
  readonly #errorHooks = new Set<() => void>();
  readonly consoleErrors: unknown[] = [];
  readonly debugLog: string[] = [];

  // ── what the user did ──
  readonly messages = new Map<string, TrackedMessage>();
  readonly closeCalls: TrackedClose[] = [];
  readonly waits: TrackedWait[] = [];
  readonly iterators: TrackedIterator[] = [];
  lastRestartAt: number;
  closedWatch: { settled: boolean } | undefined;
  sentinels = false;
  ctorThrows = 0;
  #waitController = new AbortController();
  #msgCounter = 0;
  #sendClock = 0;
  #markerCounter = 0;
  #serverCounter = 0;
  readonly #callbacks = new Map<CallbackName, { act: CallbackAct; left: number }>();
  readonly #hookOffs = new Set<() => void>();
  #openTailOff: (() => void) | undefined;

  constructor(readonly config: Config) {
    const env = config.environment === 'manual' ? createManualEnvironment({ online: config.online, hidden: config.hidden }) : undefined;
    this.env = env;
    this.optionSignal = config.signal ? new AbortController() : undefined;
    const { url, options } = socketOptions(config, env, this.optionSignal, this);
    this.socket = new ReconnectingSocket<unknown, string>(url, options);
    this.lastTo = this.socket.state;
    this.lastRestartAt = Date.now();
    this.#record();
  }

  /** Attempts started so far: url provider calls, or inner sockets created when the url is a plain string. */
  attempts(instances: number): number {
    return this.config.url === 'string' ? instances : this.attemptsByProvider;
  }

  violate(inv: number, id: string, detail: string): void {
    if (!this.violations.some((v) => v.id === id)) this.violations.push({ inv, id, detail, step: this.step });
  }

  log(line: string): void {
    this.trace.push(`[${this.step}] ${line}`);
    if (this.trace.length > 80) this.trace.shift();
  }

  // ── recorders: registered first, so they see every event before hostile listeners do ─────────────────────

  #record(): void {
    const s = this.socket;
    s.on('state', ({ from, to }) => {
      this.openEmitting = false;
      this.log(`state ${from} -> ${to}`);
      // Events go out after each call's whole change, one at a time: inside a listener the getter may already be
      // ahead. What must hold is the stream: state events chain (and, between steps, end at the getter).
      if (from !== this.lastTo) this.violate(4, 'state-chain', `state event from ${from}, but the previous event went to ${this.lastTo}`);
      this.lastTo = to;
    });
    s.on('open', () => {
      this.openEvents++;
      this.openEmitting = true;
      this.log('open');
      if (this.lastTo !== 'open') this.violate(4, 'open-not-open', `open event while the stream says ${this.lastTo}`);
    });
    this.#openTailOff = s.on('open', () => (this.openEmitting = false));
    s.on('close', (event) => {
      this.openEmitting = false;
      this.closeEvents++;
      this.log(`close ${event.code} ${event.cause} willReconnect=${event.willReconnect}`);
      const attempts = this.attempts(FakeSocket.instances.length);
      if (this.closeEvents > attempts) this.violate(3, 'close-without-attempt', `close event #${this.closeEvents} with ${attempts} attempts started`);
    });
    s.on('drop', ({ message, reason }) => {
      this.log(`drop ${String(message)} ${reason}`);
      const key = String(message);
      if (!this.messages.has(key)) this.violate(5, 'drop-unknown', `drop event for ${key}, which was never sent`);
      this.drops.set(key, [...(this.drops.get(key) ?? []), reason]);
    });
    s.on('message', () => {
      this.messageEvents++;
      if (this.lastTo !== 'open' && this.lastTo !== 'closing') this.violate(4, 'message-while-not-open', `message event while the stream says ${this.lastTo}`);
    });
    s.on('heartbeat', () => {
      if (this.lastTo !== 'open') this.violate(4, 'heartbeat-while-not-open', `heartbeat event while the stream says ${this.lastTo}`);
    });
    s.on('hold', ({ attempt, hold }) => {
      this.log(`hold #${attempt}: ${hold}`);
      const retry = s.retry;
      if (s.state !== 'closed' || retry?.attempt !== attempt || retry.hold !== hold) {
        this.violate(4, 'hold-not-planned', `hold #${attempt} (${hold}) while state is ${s.state}, retry ${JSON.stringify(retry)}`);
      }
    });
    s.on('reconnecting', ({ attempt, delayMs }) => {
      this.log(`reconnecting #${attempt} in ${delayMs} ms`);
      // Announced only for a retry that is really planned (README, Events).
      const retry = s.retry;
      if (s.state !== 'closed' || retry?.attempt !== attempt || retry.delayMs !== delayMs) {
        this.violate(4, 'reconnecting-not-planned', `reconnecting #${attempt} in ${delayMs} ms while state is ${s.state}, retry ${JSON.stringify(retry)}`);
      }
    });
    if (this.config.errorListener) s.on('error', (event) => this.#onError(event));
  }

  #onError({ error }: { error: SocketError }): void {
    if (this.seenErrors.has(error)) return;
    this.seenErrors.add(error);
    this.log(`error ${error.code}`);
    if (error.code === 'LISTENER_THREW') this.noteReport(error.cause, 'an error event');
  }

  /**
   * console.error (reportError in browsers) was called. A listener's throw goes there only when no `error`
   * listener exists, or when an `error` listener threw it; anything else is checked after the step.
   */
  onConsoleError(logged: unknown): void {
    this.consoleErrors.push(logged);
    const cause = logged instanceof SocketError && logged.code === 'LISTENER_THREW' ? logged.cause : undefined;
    // dispose() removes every listener, ours included: from then on there may be none, whatever we registered.
    const hasErrorListener = !this.socket.isDisposed && (this.config.errorListener || this.#errorHooks.size > 0);
    if (this.listenerMarkers.has(cause) && !this.#errorListenerMarkers.has(cause) && hasErrorListener) {
      this.violate(1, 'listener-throw-to-console', `"${(cause as Error).message}" went to console.error although an error listener exists`);
    }
  }

  /** A listener's throw was reported (as an error event or through console.error). */
  noteReport(cause: unknown, where: string): void {
    const count = this.listenerMarkers.get(cause);
    if (count === undefined) this.violate(1, 'report-unknown', `${where} reported a throw that no hostile listener made: ${String(cause)}`);
    else this.listenerMarkers.set(cause, count + 1);
  }

  /** Re-registers the trailing `open` listener, so it stays after every hook (it marks the end of the emit). */
  #keepOpenTailLast(): void {
    this.#openTailOff?.();
    this.#openTailOff = this.socket.on('open', () => (this.openEmitting = false));
  }

  // ── hostile user code ────────────────────────────────────────────────────────────────────────────────────

  armHook(step: Extract<Step, { t: 'hook' }>): void {
    let left = step.times;
    const origin = `'${step.on}' listener`;
    const off = this.socket.on(step.on, (payload: any) => {
      if (step.on === 'error') this.#onError(payload);
      if (step.code && payload.error.code !== step.code) return;
      if (--left <= 0) {
        off();
        this.#hookOffs.delete(off);
        this.#errorHooks.delete(off);
      }
      this.log(`${origin} => ${step.act}`);
      if (step.act === 'throw') {
        const marker = new Error(`fuzz marker #${++this.#markerCounter} thrown by a ${origin}`);
        this.listenerMarkers.set(marker, 0);
        if (step.on === 'error') this.#errorListenerMarkers.add(marker);
        throw marker;
      }
      this.reenter(step.act, origin);
    });
    this.#hookOffs.add(off);
    if (step.on === 'error') this.#errorHooks.add(off);
    if (step.on === 'open') this.#keepOpenTailLast();
  }

  armCallback(name: CallbackName, act: CallbackAct, times: number): void {
    this.#callbacks.set(name, { act, left: times });
  }

  /** Removes every hostile listener and callback behaviour (the clean ending of a run). */
  disarm(): void {
    for (const off of this.#hookOffs) off();
    this.#hookOffs.clear();
    this.#errorHooks.clear();
    this.#callbacks.clear();
  }

  /** Runs an option callback: its normal behaviour, unless a step armed misbehaviour for it. */
  callback<T>(name: CallbackName, normal: () => T): T {
    const armed = this.#callbacks.get(name);
    if (!armed) return normal();
    if (--armed.left <= 0) this.#callbacks.delete(name);
    this.log(`${name} callback => ${armed.act}`);
    switch (armed.act) {
      case 'throw':
        throw new Error(`fuzz: the ${name} callback throws`);
      case 'yes':
        return true as T;
      case 'no':
        return false as T;
      case 'nan':
        return NaN as T;
      case 'huge':
        return 1e12 as T;
      case 'reject':
        return Promise.reject(new Error('fuzz: the url provider rejects')) as T;
      case 'hang':
        return new Promise(() => {}) as T;
      case 'bad':
        return 'not a url' as T;
      default:
        this.reenter(armed.act, `${name} callback`);
        return normal();
    }
  }

  /** Hostile user code calls back into the socket. */
  reenter(act: Exclude<Reentry, 'throw'>, origin: string): void {
    switch (act) {
      case 'close':
        return this.close(4000 + (this.#markerCounter++ % 900), 'from ' + origin);
      case 'reconnect':
        return this.reconnect();
      case 'connect':
        return this.connect();
      case 'dispose':
        return this.call('dispose', () => this.socket.dispose());
      case 'send':
        return this.send(1, undefined);
      case 'probe':
        return this.call('probe', () => this.socket.probe());
      case 'clearQueue':
        return this.clearQueue();
    }
  }

  // ── the public API, tracked ──────────────────────────────────────────────────────────────────────────────

  /** Calls the socket; an exception that is not documented misuse is a violation of invariant 1. */
  call<T>(name: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      this.violate(1, `throw:${name}`, `${name}() threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      return undefined;
    }
  }

  send(pad: number, ttlMs: number | undefined): void {
    const data = `m${++this.#msgCounter}${'.'.repeat(pad)}`;
    const tracked: TrackedMessage = { data, result: undefined, calledAt: ++this.#sendClock, returnedAt: Infinity, priority: false, cleared: false };
    this.messages.set(data, tracked);
    const backlog = this.socket.queued.length;
    try {
      tracked.result = this.socket.send(data, ttlMs === undefined ? undefined : { ttlMs });
    } catch (error) {
      tracked.result = 'threw';
      this.violate(1, 'throw:send', `send() threw ${String(error)}`);
      return;
    }
    tracked.returnedAt = ++this.#sendClock;
    // Sent while a backlog waits: only possible before the backlog's turn after an open (documented to go first).
    tracked.priority = tracked.result === 'sent' && backlog > 0;
    this.log(`send ${data} -> ${tracked.result}`);
  }

  close(code: number, reason: string): void {
    const promise = this.call('close', () => this.socket.close(code, reason));
    if (!promise) return;
    const tracked: TrackedClose = { at: Date.now(), settled: false, step: this.step };
    this.closeCalls.push(tracked);
    promise.then(
      () => (tracked.settled = true),
      (error) => {
        tracked.settled = true;
        this.violate(9, 'close-rejected', `close() rejected with ${String(error)}`);
      },
    );
  }

  reconnect(): void {
    this.lastRestartAt = Date.now();
    this.call('reconnect', () => this.socket.reconnect());
  }

  connect(): void {
    this.lastRestartAt = Date.now();
    const wasDisposed = this.socket.isDisposed;
    try {
      this.socket.connect();
      if (wasDisposed) this.violate(1, 'connect-after-dispose', 'connect() after dispose() did not throw');
    } catch (error) {
      if (!wasDisposed) this.violate(1, 'throw:connect', `connect() threw ${String(error)}`);
    }
  }

  clearQueue(): void {
    for (const item of this.call('clearQueue', () => this.socket.clearQueue()) ?? []) {
      const tracked = this.messages.get(String(item.message));
      if (tracked) tracked.cleared = true;
    }
  }

  opened(abortable: boolean, timeoutMs: number | undefined): void {
    const signal = abortable ? this.#waitController.signal : undefined;
    const wait: TrackedWait = { status: 'pending', signal, openEventsAtStart: this.openEvents, timed: timeoutMs !== undefined, aborted: false, step: this.step };
    const promise = this.call('opened', () => opened(this.socket, { signal, timeoutMs }));
    if (!promise) return;
    this.waits.push(wait);
    promise.then(
      () => (wait.status = 'resolved'),
      (error) => {
        wait.status = 'rejected';
        wait.error = error;
      },
    );
  }

  iterate(abortable: boolean): void {
    const signal = abortable ? this.#waitController.signal : undefined;
    const iterator = this.call('messages', () => messages(this.socket, { signal }));
    if (!iterator) return;
    const tracked: TrackedIterator = { iterator, signal, done: false, received: 0, messageEventsAtStart: this.messageEvents, aborted: false, step: this.step };
    this.iterators.push(tracked);
    const pump = (): void => {
      iterator.next().then(
        (result) => {
          if (result.done) tracked.done = true;
          else {
            tracked.received++;
            pump();
          }
        },
        (error) => this.violate(8, 'messages-rejected', `messages() rejected with ${String(error)}; it must only end`),
      );
    };
    pump();
  }

  /** Aborts the signal handed to every opened()/messages() so far; later ones get a fresh signal. */
  abortWaits(): void {
    const signal = this.#waitController.signal;
    this.#waitController.abort(new Error('fuzz: aborted'));
    this.#waitController = new AbortController();
    for (const item of [...this.waits, ...this.iterators]) if (item.signal === signal) item.aborted = true;
  }

  stopIterating(): void {
    const tracked = this.iterators.find((item) => !item.done);
    if (!tracked) return;
    tracked.aborted = true;
    void tracked.iterator.return?.();
  }

  /** Text the fake server sends. */
  serverText(): string {
    return `s${++this.#serverCounter}`;
  }
}
