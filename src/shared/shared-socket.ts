import {
  ReconnectingSocket,
  SocketError,
  type CloseRecord,
  type Codec,
  type DropReason,
  type IsWireTyped,
  type RawMessage,
  type ReconnectingSocketOptions,
  type Retry,
  type SendResult,
  type SocketCloseEvent,
  type SocketEvents,
  type StateName,
  type WireData,
} from '../index.js';
import { browserCoordination, type ChannelLike, type Coordination } from './coordination.js';
import { cloneable, sharedName, sharedNow, type Answer, type Relay, type RelayedType } from './protocol.js';

/** Options of `SharedSocket`: every option of `ReconnectingSocket` (used by whichever tab leads), and these. */
export interface SharedSocketOptions<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> extends ReconnectingSocketOptions<In, Out> {
  /**
   * Handles with the same URL and key share a connection; another key keeps a separate one to the same URL.
   * Required when `url` is a function (the URL cannot name the connection then).
   * @default ''
   */
  key?: string;
  /**
   * What the tabs coordinate through. `null` forces a per-tab connection.
   * @default navigator.locks, BroadcastChannel and window where all exist, otherwise `null`
   */
  coordination?: Coordination | null;
}

/** `options` may be left out while `In` and `Out` are wire data, as for `ReconnectingSocket`. */
export type SharedSocketArgs<In, Out> = IsWireTyped<In, Out> extends true
  ? [options?: SharedSocketOptions<In, Out>]
  : [options: SharedSocketOptions<In, Out> & { codec: Codec<In, Out> }];

/** A message in the leader's queue: whose it is (a handle id), its number there, and its encoded form. */
interface Envelope {
  readonly tab: number;
  readonly id: number;
  readonly data: WireData;
}

/** A message this handle accepted and has not yet seen settled. */
interface Outgoing<Out> {
  readonly id: number;
  readonly message: Out;
  readonly data: WireData;
  readonly expiresAt: number | undefined;
  /** The leadership it was handed to; `undefined` while it is held here. */
  at: number | undefined;
  /** Whether that leadership's socket queued it (else no answer came yet). */
  isQueued?: boolean;
}

type Inner = ReconnectingSocket<RawMessage, Envelope>;
type Announcement = Extract<Relay, { t: 'leader' }>;
type Listener = (event: any) => void;

/** The leader's connection deals in wire data: each handle encodes and decodes with its own codec. */
const ENVELOPES: Codec<RawMessage, Envelope> = { encode: (envelope) => envelope.data, decode: (data) => data };
const RAW: Codec<any, any> = { encode: (message) => message, decode: (data) => data };
/** How long a handle waits for a vanished leader's last answers before it sends again what that leader held. */
const RETIRE_GRACE_MS = 500;
const RELAYED: readonly RelayedType[] = ['state', 'open', 'close', 'error', 'reconnecting', 'hold', 'heartbeat', 'message'];
/**
 * Where Web Locks or BroadcastChannel are missing, each handle leads alone: a lock granted at once, a channel
 * that reaches no one. The same code then runs a per-tab connection.
 */
const ALONE: Coordination = {
  locks: { request: (_name, _options, callback) => Promise.resolve().then(callback) },
  BroadcastChannel: class {
    onmessage = null;
    postMessage() {}
    close() {}
  },
  page: null,
};

/**
 * A `ReconnectingSocket` shared by the tabs of one origin: handles with the same URL and key share one real
 * connection, owned by the tab that holds a Web Lock (the leader) and relayed to the others over a
 * BroadcastChannel. Same surface as `ReconnectingSocket` for `state`, events, `send`, `close`, `closed`,
 * `opened()`, `messages()` and `dispose()`; see docs/shared.md for what each means across tabs. Without Web
 * Locks or BroadcastChannel each handle has a connection of its own (and says so through `debug`).
 *
 * @example
 * ```ts
 * const socket = new SharedSocket('wss://example.com/feed', { codec: jsonCodec, key: 'prices' });
 * socket.on('message', ({ data }) => render(data));
 * socket.send({ type: 'subscribe', topic: 'prices' }); // from any tab; goes out through the leader
 * ```
 */
export class SharedSocket<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> {
  readonly #id = Math.random();
  readonly #url: ConstructorParameters<typeof ReconnectingSocket>[0];
  readonly #options: ReconnectingSocketOptions<any, any>;
  readonly #codec: Codec<In, Out>;
  readonly #coordination: Coordination;
  readonly #name: string;
  /** Open until this handle ends (then `undefined`: that is how `#finish` knows it ran). */
  #channel: ChannelLike | undefined;
  #listeners: Map<string, Listener[]> | undefined;
  /** The leader's connection, while this handle leads. */
  #inner: Inner | undefined;
  /** The connection a leader's `close()` is closing, until it is down. */
  #retiring: Inner | undefined;
  /** Resolving it ends the lock callback: the lock goes to the next tab. */
  #release: (() => void) | undefined;
  /** Withdraws the pending lock request. */
  #abort: AbortController | undefined;
  /** The leadership this handle follows (its own while it leads); `undefined` while none is known. */
  #leader: number | undefined;
  /** When that leadership began, on the clock all tabs share: an announcement of an earlier one is late. */
  #since = 0;
  #state: StateName = 'connecting';
  #attempt = 0;
  #lastClose: CloseRecord | undefined;
  /** The retry the leader last announced (shown while the state is closed). */
  #retry: Retry | undefined;
  #nextId = 1;
  /** Messages accepted and not yet settled, in the order they were sent (ids only grow). */
  #outgoing: Map<number, Outgoing<Out>> | undefined;
  /** Earlier leaderships whose last answers this handle still waits for before it sends (see `#adopt`). */
  #limbo: Set<number> | undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #end: 'closed' | 'disposed' | undefined;
  #closing: Promise<CloseRecord> | undefined;
  #onClosed!: (record: CloseRecord) => void;
  readonly #closed = new Promise<CloseRecord>((resolve) => (this.#onClosed = resolve));
  #hasWarned = false;
  /** On the `signal` option until this handle ends. */
  #onAbort: (() => void) | undefined;
  readonly #onPageHide = () => this.#pageHide();
  readonly #onPageShow = (event: { persisted?: boolean }) => event.persisted && this.#pageShow();

  /** Throws `TypeError`/`RangeError` for bad options or a bad URL, as `ReconnectingSocket` does. */
  constructor(url: string | URL | (() => string | URL | Promise<string | URL>), ...[options]: SharedSocketArgs<In, Out>) {
    const { key = '', coordination, ...rest } = (options ?? {}) as SharedSocketOptions<In, Out>;
    this.#url = url;
    this.#options = rest;
    // The options and the url are checked once here, whichever tab ends up leading; first, so that a url that
    // does not parse fails with the core's error, which leaves out its query string (a token, say).
    this.#idle().dispose();
    if (typeof key !== 'string' || (typeof url === 'function' && !key)) {
      throw new TypeError(`SharedSocket: key must be a string, not '' with a url function (it names the connection); got ${key === '' ? "''" : typeof key}.`);
    }
    this.#codec = rest.codec ?? RAW;
    this.#name = sharedName(typeof url === 'function' ? undefined : url, key);
    let found = coordination === undefined ? browserCoordination() : coordination;
    if (!found) {
      this.#debug('shared: no Web Locks or BroadcastChannel here; using a per-tab socket');
      found = ALONE;
    }
    this.#coordination = found;
    const channel = (this.#channel = new found.BroadcastChannel(this.#name));
    channel.onmessage = (event) => this.#receive(event.data as Relay);
    // As the core does: an aborted signal disposes at once; a live one is left at the final close or dispose.
    const signal = rest.signal;
    if (signal?.aborted) {
      this.dispose();
      return;
    }
    signal?.addEventListener('abort', (this.#onAbort = () => this.dispose()), { once: true });
    found.page?.addEventListener('pagehide', this.#onPageHide);
    found.page?.addEventListener('pageshow', this.#onPageShow);
    this.#post({ t: 'hello' });
    this.#requestLock();
  }

  /** The state of the shared connection as this handle sees it; `closed` once this handle is closed. */
  get state(): StateName {
    return this.#state;
  }

  /** Retries since the last stable connection, as the leader reports it. */
  get attempt(): number {
    return this.#attempt;
  }

  /** How the last connection ended (for this handle: its own close once closed). */
  get lastClose(): CloseRecord | undefined {
    return this.#lastClose;
  }

  /** The retry the leader plans while the shared connection is down, as its `reconnecting` or `hold` said. */
  get retry(): Retry | undefined {
    return this.#state === 'closed' && !this.#end ? this.#retry : undefined;
  }

  /** Whether this handle owns the real connection now. */
  get isLeader(): boolean {
    return this.#inner !== undefined;
  }

  /** Whether the connection is shared across tabs (false: each handle has its own, for want of Web Locks or BroadcastChannel). */
  get isShared(): boolean {
    return this.#coordination !== ALONE;
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this.#end === 'disposed';
  }

  /**
   * Resolves once this handle is closed or disposed, with its final close record (as the core's `closed`): what
   * waits such as `opened()` watch for the end.
   */
  get closed(): Promise<CloseRecord> {
    return this.#closed;
  }

  /** Adds a listener; returns the function that removes it (safe to call twice). */
  on<K extends keyof SocketEvents<In, Out>>(type: K, listener: (event: SocketEvents<In, Out>[K]) => void): () => void {
    if (this.#end !== 'disposed') {
      const listeners = (this.#listeners ??= new Map());
      listeners.set(type, [...(listeners.get(type) ?? []), listener]);
    }
    return () => this.off(type, listener);
  }

  /** Adds a listener for the next event of this type only; returns the function that removes it. */
  once<K extends keyof SocketEvents<In, Out>>(type: K, listener: (event: SocketEvents<In, Out>[K]) => void): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** Removes a listener; removing an unknown one does nothing. */
  off<K extends keyof SocketEvents<In, Out>>(type: K, listener: (event: SocketEvents<In, Out>[K]) => void): void {
    const list = this.#listeners?.get(type)?.filter((l) => l !== listener);
    if (list?.length) this.#listeners!.set(type, list);
    else this.#listeners?.delete(type);
  }

  /**
   * Sends through the leader. In the leader's tab the result is its socket's (`sent`, `queued`...). In a
   * follower it is `queued`: the message is on its way to the leader, or held here until one is known (a
   * hand-over); it is then sent once, in order, or reported by exactly one `drop` event (the leader's queue
   * applies its bounds). Sent from a listener while held messages are handed to a new leader, it waits behind them.
   */
  send(message: Out, options?: { ttlMs?: number }): SendResult {
    const ttlMs = options?.ttlMs ?? this.#options.queue?.ttlMs;
    if (ttlMs !== undefined && !(ttlMs > 0)) throw new RangeError(`send(): ttlMs must be > 0, got ${ttlMs}.`);
    if (this.#end) return this.#end;
    let data: WireData;
    try {
      data = this.#codec.encode(message);
    } catch (cause) {
      this.#emitError(new SocketError('ENCODE_FAILED', `encode failed: ${String(cause)}`, { cause, data: message }));
      return 'failed';
    }
    // The codec is user code: it may have ended this handle.
    if (this.#end) return this.#end;
    const entry: Outgoing<Out> = { id: this.#nextId++, message, data, expiresAt: ttlMs && Date.now() + ttlMs, at: undefined };
    const outgoing = (this.#outgoing ??= new Map()).set(entry.id, entry);
    // Held here while no leader is known (a hand-over), or behind older held messages (a listener sending while
    // they are handed over): the leader's queue applies its bounds when they reach it.
    if (this.#leader === undefined || this.#limbo || this.#firstHeld() !== entry) return 'queued';
    const result = this.#route(entry);
    // The leader's own result is its socket's, and says it all unless it is `queued`.
    if (result !== 'queued') outgoing.delete(entry.id);
    return result;
  }

  /**
   * Ends this handle: it turns `closed` and emits nothing more; messages still held here are dropped (`closed`).
   * In the leader's tab the connection closes with the bounded handshake first, then the next tab takes over;
   * when this was the last handle, that is the end of the connection.
   */
  close(code = 1000, reason = ''): Promise<CloseRecord> {
    // The core checks the arguments (on a socket that never connects), so misuse throws in a follower too.
    const check = this.#idle();
    check.dispose();
    void check.close(code, reason);
    if (this.#closing) return this.#closing;
    if (this.#end) return Promise.resolve(this.#lastClose!);
    const inner = (this.#retiring = this.#stop((this.#end = 'closed')));
    const done = inner ? closeSettled(inner, code, reason) : Promise.resolve<CloseRecord>({ code, reason, wasClean: true, cause: 'client' });
    return (this.#closing = done.then((record) => {
      inner?.dispose();
      this.#retiring = undefined;
      this.#release?.();
      this.#finish(record);
      return record;
    }));
  }

  /** Terminal and synchronous: ends this handle at once (a leader's connection is forced down). */
  dispose(): void {
    if (this.#end === 'disposed') return;
    this.#stop((this.#end = 'disposed'))?.dispose();
    // Disposed during close(): the lock goes only after that connection is down.
    this.#retiring?.dispose();
    this.#release?.();
    this.#finish({ code: 1006, reason: '', wasClean: false, cause: 'dispose' });
    this.#listeners = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A socket with this handle's url and options that never connects: the core checks what it is given. */
  #idle(): ReconnectingSocket<any, any> {
    return new ReconnectingSocket<any, any>(this.#url, { ...this.#options, autoConnect: false, environment: null });
  }

  // ── leadership ──────────────────────────────────────────────────────────────────────────────────────────

  #requestLock(): void {
    const abort = (this.#abort = new AbortController());
    this.#coordination.locks
      .request(this.#name, { signal: abort.signal }, () =>
        // Granted after close(), dispose() or pagehide withdrew the request: let it go at once.
        this.#end || abort.signal.aborted
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              this.#release = resolve;
              this.#lead();
            }),
      )
      .catch((error: unknown) => (error as Error)?.name === 'AbortError' || this.#debug('shared: lock request failed', error));
  }

  /**
   * This handle holds the lock: it opens the real connection (no other tab has one now) and relays its events to
   * every handle, itself included, through the same path. Each leadership has an id of its own (`l`).
   */
  #lead(): void {
    const { signal: _signal, ...options } = this.#options;
    const inner: Inner = (this.#inner = new ReconnectingSocket<RawMessage, Envelope>(this.#url, { ...options, autoConnect: true, codec: ENVELOPES }));
    const l = Math.random();
    // Kept until the connection is disposed: what it relays after its retire (messages during the close
    // handshake) still reaches the handles; its events no longer match the leadership they follow.
    for (const type of RELAYED) inner.on(type, (event: any) => this.#broadcast({ t: 'event', l, type, event: cloneable(event), attempt: inner.attempt }));
    inner.on('drop', ({ message, reason }) => this.#answer(message, reason, l));
    // The core sends its backlog right after the `open` listeners: what left the queue then went out.
    inner.on('open', () => {
      const before = inner.queued;
      queueMicrotask(() => {
        const left = new Set(inner.queued.map((queued) => queued.message));
        for (const { message } of before) if (!left.has(message)) this.#answer(message, 'sent', l);
      });
    });
    this.#adopt(this.#announce(l, sharedNow()));
  }

  /** Tells every other handle which leadership this is and how its connection stands. */
  #announce(l: number, since: number): Announcement {
    const inner = this.#inner!;
    const message: Announcement = { t: 'leader', l, since, state: inner.state, attempt: inner.attempt, protocol: inner.protocol };
    this.#post(message);
    return message;
  }

  /**
   * This handle stops asking for the lock, and stops leading if it leads: it gives the messages still queued
   * back to their handles (its own are dropped with `why`, or kept for the next leader on pagehide), settles its
   * own and says `retire`, last. At close/dispose, what it still holds itself is dropped. The caller then closes
   * or disposes the connection returned and releases the lock, in that order: the next leader connects only after.
   */
  #stop(why: 'closed' | 'disposed' | 'pagehide'): Inner | undefined {
    this.#abort?.abort();
    const inner = this.#inner;
    const l = this.#leader!;
    // A frozen page follows no one either: back, it asks who leads.
    if (inner || why === 'pagehide') this.#leader = undefined;
    if (inner) {
      this.#inner = undefined;
      for (const { message } of inner.clearQueue()) this.#answer(message, message.tab === this.#id && why !== 'pagehide' ? why : 'back', l);
      this.#retired(l);
      this.#post({ t: 'retire', l });
    }
    // What waits here was never handed to a leader; what was is the leader's to deliver.
    if (why !== 'pagehide') {
      for (const entry of this.#outgoing?.values() ?? []) if (entry.at === undefined) this.#drop(entry, why);
      this.#outgoing = undefined;
    }
    return inner;
  }

  /** Into the back-forward cache (or unloading): a frozen page holds neither the connection nor a lock request. */
  #pageHide(): void {
    if (this.#end) return;
    this.#stop('pagehide')?.dispose();
    this.#release?.();
    this.#leaderGone('pagehide');
  }

  #pageShow(): void {
    if (this.#end || !this.#abort!.signal.aborted) return;
    this.#post({ t: 'hello' });
    this.#requestLock();
  }

  // ── the channel ─────────────────────────────────────────────────────────────────────────────────────────

  #post(message: Relay): void {
    try {
      this.#channel?.postMessage(message);
    } catch (error) {
      this.#debug('shared: postMessage failed', error);
    }
  }

  /** To every handle, this one included (the leader's own handle learns of its connection the same way). */
  #broadcast(message: Relay): void {
    this.#post(message);
    this.#receive(message);
  }

  /** Leadership `l`'s answer for a message it was given: to the handle it came from. */
  #answer({ tab, id }: Envelope, result: Answer, l: number): void {
    if (tab === this.#id) this.#settle(id, result, l);
    else this.#post({ t: 'ack', l, to: tab, id, result });
  }

  #receive(message: Relay): void {
    if (this.#end) return;
    switch (message.t) {
      case 'hello':
        if (this.#inner) this.#announce(this.#leader!, this.#since);
        return;
      case 'leader':
        // The lock is exclusive: while this handle leads, any other announcement is a departed leader's, late.
        // Leaderships follow one another, so one that began before the one this handle follows is over too (a
        // crashed tab's never says so). With none known (after a retire), any is taken: a late one retires in
        // its turn, and the handle asks again.
        if (!this.#inner && !(message.since < this.#since && this.#leader !== undefined)) this.#adopt(message);
        return;
      case 'retire':
        if (message.l === this.#leader) {
          this.#leader = undefined;
          this.#leaderGone('reconnect');
          // Its successor may have announced itself before its last words arrived: ask who leads now.
          this.#post({ t: 'hello' });
        }
        return this.#retired(message.l);
      case 'event':
        if (message.type === 'message') return this.#decode(message.event.data);
        if (message.l !== this.#leader) return;
        this.#attempt = message.attempt;
        return this.#relayed(message.type, message.event);
      case 'send': {
        const inner = this.#inner;
        // Only the leadership it is addressed to carries it out: for an ended one (even an earlier leadership
        // of this tab), its sender sends it again through the next, or already has.
        if (!inner || message.to !== this.#leader) return;
        const envelope: Envelope = { tab: message.from, id: message.id, data: message.data };
        return this.#answer(envelope, inner.send(envelope, message.ttlMs ? { ttlMs: message.ttlMs } : undefined), message.to);
      }
      case 'ack':
        if (message.to === this.#id) this.#settle(message.id, message.result, message.l);
        return;
    }
  }

  // ── following ───────────────────────────────────────────────────────────────────────────────────────────

  /** A new leadership: this handle mirrors its connection, and hands it what it holds, in order. */
  #adopt(message: Announcement): void {
    const { l } = message;
    if (l === this.#leader) return;
    if (this.#leader !== undefined) this.#leaderGone('network');
    this.#leader = l;
    this.#since = message.since;
    this.#attempt = message.attempt;
    this.#setState(message.state);
    // Joining a connection that is already open: this handle's `open` listeners (a subscribe, say) run too.
    if (message.state === 'open') this.#emit('open', { attempt: message.attempt, protocol: message.protocol });
    // Messages an earlier leadership has not answered for: its answers and its `retire` may still be on their
    // way (the lock can reach the new leader before the old one's last messages reach us). Until they arrive,
    // or RETIRE_GRACE_MS passes (it crashed), this handle's messages wait, so that none goes out twice or out of order.
    for (const entry of this.#outgoing?.values() ?? []) if (entry.at !== undefined && entry.at !== l) (this.#limbo ??= new Set()).add(entry.at);
    if (this.#limbo) this.#graceTimer ??= setTimeout(() => this.#endLimbo(), RETIRE_GRACE_MS);
    this.#flushHeld();
  }

  /**
   * Leadership `l` has ended. Its answers came before its `retire` (one sender, in order): what it queued and did
   * not give back, it sent; what it never answered for, it never took, and goes to the next leader.
   */
  #retired(l: number): void {
    for (const entry of this.#outgoing?.values() ?? []) {
      if (entry.at !== l) continue;
      if (entry.isQueued) this.#outgoing!.delete(entry.id);
      else entry.at = undefined;
    }
    if (this.#limbo?.delete(l) && !this.#limbo.size) this.#endLimbo();
    else this.#flushHeld();
  }

  /** The earlier leaders did not say goodbye in time (they crashed): what they had not answered for goes again. */
  #endLimbo(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const limbo = this.#limbo;
    this.#limbo = undefined;
    for (const entry of this.#outgoing?.values() ?? []) if (limbo?.has(entry.at!)) entry.at = undefined;
    this.#flushHeld();
  }

  /** The connection this handle mirrored is gone (its leader left, vanished or this page froze): said once. */
  #leaderGone(cause: 'reconnect' | 'network' | 'pagehide'): void {
    const from = this.#state;
    if (from === 'connecting') return;
    this.#state = 'connecting';
    const close: SocketCloseEvent = { code: 1006, reason: '', wasClean: false, cause, willReconnect: true, delayMs: 0 };
    if (from !== 'closed') this.#emit('close', (this.#lastClose = close));
    this.#emit('state', { from, to: 'connecting' });
  }

  /**
   * Hands the held messages to the leader, oldest first (ids only grow). A listener it calls (a `drop`, or the
   * leader's own events) may send: `send()` holds that message behind the ones still held, and whichever loop
   * runs (this one, or one started from inside) takes the oldest held message each time, so order is kept.
   */
  #flushHeld(): void {
    for (let entry; !this.#end && this.#leader !== undefined && !this.#limbo && (entry = this.#firstHeld()); ) {
      if (entry.expiresAt! <= Date.now()) this.#drop(entry, 'expired');
      else {
        const result = this.#route(entry);
        // In the leader's tab the result is known now; it was `queued` to the sender, so a refusal is a drop.
        if (this.#inner) this.#settle(entry.id, result, entry.at!);
      }
    }
  }

  /** The oldest message held here for want of a leader. */
  #firstHeld(): Outgoing<Out> | undefined {
    for (const entry of this.#outgoing?.values() ?? []) if (entry.at === undefined) return entry;
  }

  /** Hands `entry` to the leader: straight to the connection in the leader's tab, over the channel otherwise. */
  #route(entry: Outgoing<Out>): SendResult {
    const l = (entry.at = this.#leader!);
    entry.isQueued = false;
    const ttlMs = entry.expiresAt && Math.max(1, entry.expiresAt - Date.now());
    const inner = this.#inner;
    if (!inner) {
      this.#post({ t: 'send', from: this.#id, to: l, id: entry.id, data: entry.data, ttlMs });
      return 'queued';
    }
    const result = inner.send({ tab: this.#id, id: entry.id, data: entry.data }, ttlMs ? { ttlMs } : undefined);
    if (result === 'queued') entry.isQueued = true;
    return result;
  }

  /** Leadership `l`'s answer for message `id` (ignored once the message is gone, or with another leadership). */
  #settle(id: number, result: Answer, l: number): void {
    const entry = this.#outgoing?.get(id);
    if (entry?.at !== l) return;
    if (result === 'queued') entry.isQueued = true;
    else if (result === 'back') entry.at = undefined;
    else if (result === 'sent') this.#outgoing!.delete(id);
    // A refusal after this handle said `queued`: one drop (`rejected`/`dropped`: the queue was full).
    else this.#drop(entry, result === 'rejected' || result === 'dropped' ? 'overflow' : result);
  }

  #decode(data: RawMessage): void {
    let decoded: In;
    try {
      decoded = this.#codec.decode(data);
    } catch (cause) {
      return this.#emitError(new SocketError('DECODE_FAILED', `decode failed: ${String(cause)}`, { cause, data }));
    }
    this.#emit('message', { data: decoded });
  }

  #relayed(type: RelayedType, event: any): void {
    const error = event.error;
    if (error) event = { ...event, error: new SocketError(error.code, error.message) };
    if (type === 'state') return this.#setState(event.to);
    if (type === 'error') return this.#emitError(event.error);
    if (type === 'close') this.#lastClose = event;
    if (type === 'reconnecting' || type === 'hold') this.#retry = event.hold ? event : { attempt: event.attempt, delayMs: event.delayMs };
    this.#emit(type, event);
  }

  #setState(to: StateName): void {
    const from = this.#state;
    // A listener may have ended this handle while an earlier event of the same relay was emitted.
    if (from === to || this.#end) return;
    this.#state = to;
    this.#emit('state', { from, to });
  }

  // ── bookkeeping ─────────────────────────────────────────────────────────────────────────────────────────

  #drop(entry: Outgoing<Out>, reason: DropReason): void {
    // Reported even while this handle ends: close() and dispose() drop what it still held.
    if (this.#outgoing?.delete(entry.id)) this.#emit('drop', { message: entry.message, reason }, true);
  }

  /** This handle has ended (the first end is the final one): it leaves the channel and the page, turns closed, wakes its waits. */
  #finish(record: CloseRecord): void {
    const channel = this.#channel;
    if (!channel) return;
    this.#channel = undefined;
    channel.close();
    clearTimeout(this.#graceTimer);
    this.#limbo = undefined;
    const page = this.#coordination.page;
    page?.removeEventListener('pagehide', this.#onPageHide);
    page?.removeEventListener('pageshow', this.#onPageShow);
    this.#options.signal?.removeEventListener('abort', this.#onAbort!);
    this.#lastClose = record;
    const from = this.#state;
    this.#state = 'closed';
    // Read before the listeners run: one that disposes from the final `close` (which drops every listener) does
    // not make this a dispose, and the `end` listeners of that moment still hear it, as in the core (the waits,
    // opened() and messages(), listen to it).
    const end = { close: record, isDisposed: this.#end === 'disposed' };
    const listeners = this.#listeners;
    if (this.#end === 'closed') {
      if (from !== 'closed') this.#emit('state', { from, to: 'closed' }, true);
      this.#emit('close', { ...record, willReconnect: false, delayMs: undefined }, true);
    }
    this.#onClosed(record);
    this.#emit('end', end, true, listeners);
  }

  /**
   * Reports an error: to `error` listeners, or else to the `debug` hook; with neither, the first one goes to
   * console.warn, as in the core, so a handle failing in silence (a codec that throws, a dead port) is noticed.
   */
  #emitError(error: SocketError): void {
    if (this.#end) return;
    if (this.#listeners?.has('error')) return this.#emit('error', { error });
    this.#debug(error.message, error);
    if (this.#options.debug || this.#hasWarned) return;
    this.#hasWarned = true;
    console.warn(`SharedSocket: ${error.message} (${error.code}); handle errors with on("error") or the debug option. No more are printed.`);
  }

  /** Calls the listeners (of a copy: one may remove itself or another); one that throws does not stop the rest. */
  #emit<K extends keyof SocketEvents<In, Out>>(type: K, event: SocketEvents<In, Out>[K], evenIfEnded?: boolean, listeners = this.#listeners): void {
    if (this.#end && !evenIfEnded) return;
    for (const listener of listeners?.get(type) ?? []) {
      try {
        listener(event);
      } catch (error) {
        ((globalThis as { reportError?: (error: unknown) => void }).reportError ?? console.error)(error);
      }
    }
  }

  #debug(message: string, detail?: unknown): void {
    try {
      this.#options.debug?.(message, detail);
    } catch {
      // A throwing debug hook must not break the handle (it runs in channel and lock callbacks too), as in the core.
    }
  }
}

/**
 * Closes the leader's connection so that the server has seen it end before the lock moves on. An attempt still
 * connecting is let finish first (it is bounded by `connectTimeoutMs`): a browser that abandons a connecting
 * WebSocket reports it closed at once, while the server may already hold the upgraded connection, and the next
 * tab's connection would overlap it.
 */
async function closeSettled(inner: Inner, code: number, reason: string): Promise<CloseRecord> {
  if (inner.state === 'connecting') {
    await new Promise((resolve) => {
      inner.once('open', resolve);
      inner.once('close', resolve);
      void inner.closed.then(resolve);
    });
  }
  return inner.close(code, reason);
}
