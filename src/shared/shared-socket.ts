import {
  ReconnectingSocket,
  SocketError,
  rawCodec,
  type CloseRecord,
  type Codec,
  type IsWireTyped,
  type RawMessage,
  type ReconnectingSocketArgs,
  type ReconnectingSocketOptions,
  type SendResult,
  type SocketCloseEvent,
  type SocketEvents,
  type StateName,
  type WireData,
} from '../index.js';
import { opened as openedOf, messages as messagesOf } from '../waits.js';
import { browserCoordination, type ChannelLike, type Coordination } from './coordination.js';
import { admit, refusalReason, wireBytes, type Outgoing } from './local-queue.js';
import { acceptMessage, cloneableClose, handleId, sharedName, sharedNow, type Cursor, type ErrorSummary, type Relay, type RelayedType } from './protocol.js';
import { iterate, nextOpen } from './waits.js';

/** Options of `SharedSocket`: every option of `ReconnectingSocket` (used by whichever tab leads), and these. */
export interface SharedSocketOptions<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> extends ReconnectingSocketOptions<In, Out> {
  /**
   * Handles with the same URL and key share a connection; another key keeps a separate one to the same URL.
   * Required when `url` is a function (the URL cannot name the connection then).
   * @default ''
   */
  key?: string;
  /**
   * What the tabs coordinate through. `null` forces a per-tab socket.
   * @default navigator.locks, BroadcastChannel and window where all exist, otherwise `null`
   */
  coordination?: Coordination | null;
}

/** `options` may be left out while `In` and `Out` are wire data, as for `ReconnectingSocket`. */
export type SharedSocketArgs<In, Out> = IsWireTyped<In, Out> extends true
  ? [options?: SharedSocketOptions<In, Out>]
  : [options: SharedSocketOptions<In, Out> & { codec: Codec<In, Out> }];

/** A message in the leader's queue: whose it is, its number there, and its encoded form. */
interface Envelope {
  readonly tab: string;
  readonly id: number;
  readonly data: WireData;
}

/** The leader's connection deals in wire data: each handle encodes and decodes with its own codec. */
const ENVELOPES: Codec<RawMessage, Envelope> = { encode: (envelope) => envelope.data, decode: (data) => data };
/** How long a new leader's handles wait for a silent old leader's last answers before they send again. */
const RETIRE_GRACE_MS = 500;
const RELAYED: readonly RelayedType[] = ['state', 'open', 'close', 'error', 'reconnecting', 'hold', 'heartbeat'];

type Listener = (event: any) => void;
type FlushPhase = 'running' | 'again';

/**
 * A `ReconnectingSocket` shared by the tabs of one origin: handles with the same URL and key share one real
 * connection, owned by the tab that holds a Web Lock (the leader) and relayed to the others over a
 * BroadcastChannel. Same surface as `ReconnectingSocket` for `state`, events, `send`, `close`, `opened()`,
 * `messages()` and `dispose()`; see docs/shared.md for what each means across tabs. Without Web Locks or
 * BroadcastChannel it is a per-tab `ReconnectingSocket` (and says so through `debug`).
 *
 * @example
 * ```ts
 * const socket = new SharedSocket('wss://example.com/feed', { codec: jsonCodec, key: 'prices' });
 * socket.on('message', ({ data }) => render(data));
 * socket.send({ type: 'subscribe', topic: 'prices' }); // from any tab; goes out through the leader
 * ```
 */
export class SharedSocket<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> {
  readonly #id = handleId();
  readonly #url: ConstructorParameters<typeof ReconnectingSocket>[0];
  readonly #options: ReconnectingSocketOptions<any, any>;
  readonly #codec: Codec<In, Out>;
  /** The per-tab socket when coordination is missing; then every call goes to it. */
  readonly #solo: ReconnectingSocket<In, Out> | undefined;
  readonly #coordination: Coordination | undefined;
  readonly #name: string;
  #channel: ChannelLike | undefined;
  #listeners: Map<keyof SocketEvents<In, Out>, Listener[]> | undefined;
  /** The leader's connection, while this handle leads. */
  #inner: ReconnectingSocket<RawMessage, Envelope> | undefined;
  /** The connection a leader's `close()` is closing, until it is down. */
  #retiring: ReconnectingSocket<RawMessage, Envelope> | undefined;
  #innerOff: (() => void)[] | undefined;
  /** Resolving it ends the lock callback: the lock goes to the next tab. */
  #release: (() => void) | undefined;
  /** Withdraws the pending lock request. */
  #abort: AbortController | undefined;
  #leader: string | undefined;
  /** When the leadership this handle follows (or holds) began: a `leader` message from an earlier one is stale. */
  #since = 0;
  /**
   * The id of this handle's leadership while it leads. A new one each time it leads: what was addressed to an
   * earlier leadership of this tab (a follower's send, numbered messages) must not be taken for this one's.
   */
  #term: string | undefined;
  #seq = 0;
  #cursor: Cursor = { leader: undefined, next: 0 };
  #state: StateName = 'connecting';
  #attempt = 0;
  #lastClose: CloseRecord | undefined;
  #nextId = 1;
  /** Messages accepted and not yet settled, in the order they were sent (ids only grow). */
  #outgoing: Map<number, Outgoing<Out>> | undefined;
  #end: 'closed' | 'disposed' | undefined;
  #closing: Promise<CloseRecord> | undefined;
  #closed: Promise<CloseRecord> | undefined;
  #onClosed: ((record: CloseRecord) => void) | undefined;
  #finals: ((error: SocketError) => void)[] | undefined;
  #isSuspended = false;
  #hasWarned = false;
  /** Earlier leaders whose last answers this handle still waits for (see `#adopt`). */
  #limbo: Set<string> | undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** While `#flushHeld` runs: `again` when it was asked to run again meanwhile (see there). */
  #flush: FlushPhase | undefined;
  /** On the `signal` option until this handle ends. */
  #onAbort: (() => void) | undefined;
  readonly #onPageHide = (event: { persisted?: boolean }) => this.#pageHide(event.persisted === true);
  readonly #onPageShow = (event: { persisted?: boolean }) => event.persisted && this.#pageShow();

  /** Throws `TypeError`/`RangeError` for bad options, as `ReconnectingSocket` does. */
  constructor(url: string | URL | (() => string | URL | Promise<string | URL>), ...[options]: SharedSocketArgs<In, Out>) {
    const { key = '', coordination, ...rest } = (options ?? {}) as SharedSocketOptions<In, Out>;
    if (typeof key !== 'string') throw new TypeError(`SharedSocket: key must be a string, got ${typeof key}.`);
    if (typeof url === 'function' && key === '') throw new TypeError('SharedSocket: a url function needs a key to name the shared connection.');
    // The options and the url are checked once here, whichever tab ends up leading; first, so that a url that
    // does not parse fails with the core's error, which leaves out its query string (a token, say).
    new ReconnectingSocket<any, any>(url, { ...rest, autoConnect: false, environment: null }).dispose();
    this.#url = url;
    this.#options = rest;
    this.#codec = (rest.codec ?? rawCodec) as Codec<In, Out>;
    this.#name = sharedName(typeof url === 'function' ? undefined : url, key);
    const found = coordination === undefined ? browserCoordination() : coordination;
    if (!found) {
      this.#debug('shared: no Web Locks or BroadcastChannel here; using a per-tab socket');
      this.#solo = new ReconnectingSocket<In, Out>(url, ...([rest] as unknown as ReconnectingSocketArgs<In, Out>));
      return;
    }
    this.#coordination = found;
    const channel = (this.#channel = new found.BroadcastChannel(this.#name));
    channel.onmessage = (event) => this.#receive(event.data as Relay);
    found.page?.addEventListener('pagehide', this.#onPageHide);
    found.page?.addEventListener('pageshow', this.#onPageShow);
    // As the core does: an aborted signal disposes at once; a live one is left at the final close or dispose.
    const signal = rest.signal;
    if (signal?.aborted) {
      this.dispose();
      return;
    }
    if (signal) signal.addEventListener('abort', (this.#onAbort = () => this.dispose()), { once: true });
    this.#post({ t: 'hello', from: this.#id });
    this.#requestLock();
  }

  /** The state of the shared connection as this handle sees it; `closed` once this handle is closed. */
  get state(): StateName {
    return this.#solo ? this.#solo.state : this.#state;
  }

  /** Retries since the last stable connection, as the leader reports it. */
  get attempt(): number {
    return this.#solo ? this.#solo.attempt : this.#attempt;
  }

  /** How the last connection ended (for this handle: its own close once closed). */
  get lastClose(): CloseRecord | undefined {
    return this.#solo ? this.#solo.lastClose : this.#lastClose;
  }

  /** Whether this handle owns the real connection now (always true for a per-tab socket). */
  get isLeader(): boolean {
    return this.#solo !== undefined || this.#inner !== undefined;
  }

  /** Whether the connection is shared across tabs (false: the per-tab fallback). */
  get isShared(): boolean {
    return this.#solo === undefined;
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this.#solo ? this.#solo.isDisposed : this.#end === 'disposed';
  }

  /**
   * Resolves once this handle is closed or disposed, with its final close record (as the core's `closed`): what
   * waits such as `opened()` watch for the end.
   */
  get closed(): Promise<CloseRecord> {
    if (this.#solo) return this.#solo.closed;
    return (this.#closed ??= new Promise((resolve) => (this.#onClosed = resolve)));
  }

  /** Adds a listener; returns the function that removes it (safe to call twice). */
  on<K extends keyof SocketEvents<In, Out>>(type: K, listener: (event: SocketEvents<In, Out>[K]) => void): () => void {
    if (this.#solo) return this.#solo.on(type, listener);
    if (this.#end === 'disposed') return () => {};
    const listeners = (this.#listeners ??= new Map());
    listeners.set(type, [...(listeners.get(type) ?? []), listener]);
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
    if (this.#solo) return this.#solo.off(type, listener);
    const list = this.#listeners?.get(type);
    const at = list?.indexOf(listener) ?? -1;
    if (!list || at === -1) return;
    if (list.length === 1) this.#listeners!.delete(type);
    else this.#listeners!.set(type, list.filter((_, i) => i !== at));
  }

  /**
   * Sends through the leader. In the leader's tab the result is its socket's (`sent`, `queued`...). In a
   * follower it is `queued` once the message is on its way to the leader, or held here while no leader is known
   * (same bounds as the core's queue): it is then sent once, in order, or reported by exactly one `drop` event.
   * Sent from a listener while held messages are being handed to a new leader, it is held too (`queued`), behind them.
   */
  send(message: Out, options?: { ttlMs?: number }): SendResult {
    if (this.#solo) return this.#solo.send(message, options);
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
    if (this.#end) return this.#end;
    const entry: Outgoing<Out> = {
      id: this.#nextId++,
      message,
      data,
      bytes: wireBytes(data),
      expiresAt: ttlMs === undefined ? undefined : Date.now() + ttlMs,
      stage: 'local',
      leader: undefined,
    };
    const outgoing = (this.#outgoing ??= new Map());
    // While held messages are being flushed (a listener sending from inside), this one waits behind them.
    if (this.#leader !== undefined && !this.#limbo && !this.#flush) {
      outgoing.set(entry.id, entry);
      const result = this.#route(entry);
      // The leader's own result is its socket's; a refusal was reported through it (or by the result alone).
      if (result !== 'queued') outgoing.delete(entry.id);
      return result;
    }
    const { maxMessages = 1000, maxBytes = 1_048_576, overflow = 'drop-oldest' } = this.#options.queue ?? {};
    const waiting = [...outgoing.values()].filter((m) => m.stage === 'local');
    const decision = admit(waiting, entry, { maxMessages, maxBytes, overflow }, Date.now());
    if (decision.result === 'queued') outgoing.set(entry.id, entry);
    for (const gone of decision.expired) this.#drop(gone, 'expired');
    for (const gone of decision.evicted) this.#drop(gone, 'overflow');
    if (decision.result === 'dropped') this.#emit('drop', { message, reason: 'overflow' });
    return decision.result;
  }

  /**
   * Ends this handle: it turns `closed` and emits nothing more; messages still held here are dropped (`closed`).
   * In the leader's tab the connection closes with the bounded handshake first, then the next tab takes over;
   * when this was the last handle, that is the end of the connection.
   */
  close(code = 1000, reason = ''): Promise<CloseRecord> {
    if (this.#solo) return this.#solo.close(code, reason);
    checkClose(code, reason);
    if (this.#closing) return this.#closing;
    const own: CloseRecord = { code, reason, wasClean: true, cause: 'client' };
    if (this.#end) return Promise.resolve(this.#lastClose ?? own);
    this.#end = 'closed';
    this.#abort?.abort();
    const inner = (this.#retiring = this.#inner);
    if (inner) this.#retire('closed', inner);
    this.#dropHeld('closed');
    const done = inner ? closeSettled(inner, code, reason) : Promise.resolve(own);
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
    if (this.#solo) return this.#solo.dispose();
    if (this.#end === 'disposed') return;
    const wasOpen = this.#end === undefined;
    this.#end = 'disposed';
    this.#abort?.abort();
    const inner = this.#inner;
    if (inner) this.#retire('disposed', inner).dispose();
    if (wasOpen) this.#dropHeld('disposed');
    // Disposed during close(): the lock goes only after that connection is down.
    this.#retiring?.dispose();
    this.#release?.();
    this.#finish({ code: 1006, reason: '', wasClean: false, cause: 'dispose' });
    this.#listeners = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Resolves at the next `open` of the shared connection (at once if open). Rejects with a `SocketError`:
   * `DISPOSED`, `CLOSED` (this handle was closed), `ABORTED` or `TIMEOUT`.
   */
  opened(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (this.#solo) return openedOf(this.#solo, options);
    if (this.#end) return Promise.reject(this.#endError());
    if (this.#state === 'open') return Promise.resolve();
    // A handle that joins an open connection turns open through `state` (and a synthetic `open`).
    const subscribe = (listener: () => void) => this.on('state', ({ to }) => to === 'open' && listener());
    return nextOpen(subscribe, (listener) => this.#onEnd(listener), options);
  }

  /** Decoded messages from now on, as an async iterator that ends when this handle is closed or disposed. */
  messages(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<In> {
    if (this.#solo) return messagesOf(this.#solo, options);
    const subscribe = (listener: (data: In) => void) => this.on('message', ({ data }) => listener(data));
    return iterate(subscribe, (listener) => this.#onEnd(listener), this.#end !== undefined, options.signal);
  }

  // ── leadership ──────────────────────────────────────────────────────────────────────────────────────────

  #requestLock(): void {
    const abort = (this.#abort = new AbortController());
    this.#coordination!.locks.request(this.#name, { signal: abort.signal }, () => {
      // Granted after close(), dispose() or pagehide withdrew the request: let it go at once.
      if (this.#end || abort.signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        this.#release = () => {
          this.#release = undefined;
          resolve();
        };
        this.#lead();
      });
    }).catch((error: unknown) => {
      if ((error as { name?: string })?.name !== 'AbortError') this.#debug('shared: lock request failed', error);
    });
  }

  /** This handle holds the lock: it opens the real connection (no other tab has one now) and relays it. */
  #lead(): void {
    const { signal: _signal, ...options } = this.#options;
    const inner = new ReconnectingSocket<RawMessage, Envelope>(this.#url, { ...options, autoConnect: true, codec: ENVELOPES });
    this.#inner = inner;
    this.#seq = 0;
    const from = (this.#term = handleId());
    const off: (() => void)[] = (this.#innerOff = []);
    inner.on('message', ({ data }) => this.#broadcast({ t: 'message', from, seq: this.#seq++, data }));
    for (const type of RELAYED) {
      off.push(inner.on(type, (event: any) => this.#broadcast({ t: 'event', from, type, event: cloneable(type, event), attempt: inner.attempt })));
    }
    off.push(
      inner.on('drop', ({ message, reason }) => this.#deliver(message.tab, { t: 'drop', from, to: message.tab, id: message.id, reason })),
      // The core sends its backlog right after the `open` listeners: what is still queued after that is pending.
      inner.on('open', () =>
        queueMicrotask(() => {
          if (this.#inner !== inner || inner.state !== 'open') return;
          this.#broadcast({ t: 'flushed', from, pending: inner.queued.map(({ message }) => [message.tab, message.id] as const) });
        }),
      ),
    );
    this.#broadcast({ t: 'leader', from, since: sharedNow(), state: inner.state, attempt: inner.attempt, protocol: inner.protocol });
  }

  /**
   * This handle stops leading: it stops relaying, gives the messages still queued back to their handles (its
   * own are dropped with `why`, or kept for the next leader on pagehide) and tells the others. The caller then
   * closes or disposes `inner` and releases the lock, in that order: the next leader connects only after.
   */
  #retire(why: 'closed' | 'disposed' | 'pagehide', inner: ReconnectingSocket<RawMessage, Envelope>): ReconnectingSocket<RawMessage, Envelope> {
    // Server messages keep flowing to the others until the connection is gone (its dispose removes that listener).
    for (const off of this.#innerOff ?? []) off();
    this.#innerOff = undefined;
    this.#inner = undefined;
    const term = this.#term!;
    this.#term = undefined;
    const returned = new Map<string, number[]>();
    for (const { message } of inner.clearQueue()) returned.set(message.tab, [...(returned.get(message.tab) ?? []), message.id]);
    if (this.#leader === term) this.#leader = undefined;
    for (const [to, ids] of returned) {
      if (to !== this.#id) this.#post({ t: 'returned', from: term, to, ids });
      else if (why === 'pagehide') this.#receive({ t: 'returned', from: term, to, ids });
      else for (const id of ids) this.#dropById(id, why);
    }
    // After everything else it says: a handle that reads `retire` has all its answers.
    this.#post({ t: 'retire', from: term });
    return inner;
  }

  #pageHide(isPersisted: boolean): void {
    if (this.#end) return;
    // Into the back-forward cache (or unloading): a frozen page must hold neither the connection nor a lock request.
    this.#abort?.abort();
    const inner = this.#inner;
    if (inner) {
      this.#retire('pagehide', inner).dispose();
      this.#release?.();
    }
    this.#isSuspended = isPersisted;
    this.#leaderGone('pagehide');
  }

  #pageShow(): void {
    if (this.#end || !this.#isSuspended) return;
    this.#isSuspended = false;
    this.#post({ t: 'hello', from: this.#id });
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

  #deliver(to: string, message: Relay): void {
    if (to === this.#id) this.#receive(message);
    else this.#post(message);
  }

  #receive(message: Relay): void {
    if (this.#end) return;
    switch (message.t) {
      case 'hello': {
        const inner = this.#inner;
        if (inner) this.#post({ t: 'leader', from: this.#term!, since: this.#since, state: inner.state, attempt: inner.attempt, protocol: inner.protocol });
        return;
      }
      case 'leader': {
        // The lock is exclusive: while this handle leads, another leadership's announcement is a departed
        // leader's, arriving late (an answer to a hello sent before it left). Adopting it would leave this tab
        // mirroring a gone connection while its own is open.
        if (this.#term !== undefined && message.from !== this.#term) return;
        // Leaderships follow one another (the lock): one that began before the one this handle follows is over,
        // and its announcement is late. With no leader known (after a retire), any is taken: if it is stale, its
        // own retire follows, and the handle asks again.
        if (this.#term === undefined && this.#leader !== undefined && message.since < this.#since) return;
        this.#since = message.since;
        this.#adopt(message.from);
        this.#attempt = message.attempt;
        const wasOpen = this.#state === 'open';
        this.#setState(message.state);
        if (this.#end) return;
        // Joining a connection that is already open: this handle's `open` listeners (a subscribe, say) run too.
        if (!wasOpen && message.state === 'open') this.#emit('open', { attempt: message.attempt, protocol: message.protocol });
        return;
      }
      case 'retire':
        if (message.from === this.#leader) {
          this.#leader = undefined;
          this.#leaderGone('reconnect');
          // Its successor may have announced itself already (a departed leader's late announcement can arrive
          // after the successor's, and was taken for the newer one): ask who leads now.
          this.#post({ t: 'hello', from: this.#id });
        }
        return this.#retired(message.from);
      case 'event':
        if (message.from !== this.#leader) return;
        this.#attempt = message.attempt;
        return this.#relayed(message.type, message.event);
      case 'message': {
        const verdict = acceptMessage(this.#cursor, message.from, message.seq);
        this.#cursor = verdict.cursor;
        if (verdict.gap) this.#debug(`shared: ${verdict.gap} message(s) missed`);
        if (!verdict.deliver) return;
        let data: In;
        try {
          data = this.#codec.decode(message.data as RawMessage);
        } catch (cause) {
          return this.#emitError(new SocketError('DECODE_FAILED', `decode failed: ${String(cause)}`, { cause, data: message.data }));
        }
        return this.#emit('message', { data });
      }
      case 'send': {
        const inner = this.#inner;
        // Meant for a leadership that has ended (even an earlier one of this tab): its sender sends it again to
        // the next leader, or has already; carrying it out here would send it twice.
        if (message.to !== this.#term || !inner) return;
        const envelope: Envelope = { tab: message.from, id: message.id, data: message.data };
        const result = inner.send(envelope, message.ttlMs === undefined ? undefined : { ttlMs: message.ttlMs });
        return this.#deliver(message.from, { t: 'ack', from: message.to, to: message.from, id: message.id, result });
      }
      case 'ack':
        if (message.to === this.#id) this.#settle(message.id, message.result, message.from);
        return;
      case 'drop':
        if (message.to === this.#id && this.#outgoing?.get(message.id)?.leader === message.from) this.#dropById(message.id, message.reason);
        return;
      case 'flushed': {
        if (message.from !== this.#leader || !this.#outgoing) return;
        const pending = new Set(message.pending.filter(([tab]) => tab === this.#id).map(([, id]) => id));
        for (const entry of [...this.#outgoing.values()]) {
          if (entry.stage === 'queued' && entry.leader === message.from && !pending.has(entry.id)) this.#outgoing.delete(entry.id);
        }
        return;
      }
      case 'returned':
        if (message.to !== this.#id) return;
        for (const id of message.ids) {
          const entry = this.#outgoing?.get(id);
          // Only what it still holds for this handle (after RETIRE_GRACE_MS it may have gone to a newer leader).
          if (entry?.leader === message.from) Object.assign(entry, { stage: 'local', leader: undefined });
        }
        // Its `retire` follows: they wait for the next leader.
        if (message.from !== this.#leader) this.#flushHeld();
        return;
    }
  }

  /** A new leader: what the old one had not answered for goes to the new one, in order. */
  #adopt(leader: string): void {
    if (this.#leader === leader) return;
    if (this.#leader !== undefined) this.#leaderGone('network');
    this.#leader = leader;
    // Messages an earlier leader has not answered for: its answers and its `retire` may still be on their way
    // (the lock can reach the new leader before the old one's last messages reach us). Until they arrive, or
    // RETIRE_GRACE_MS passes (it crashed), this handle's messages wait, so that none goes out twice or out of order.
    for (const entry of this.#outgoing?.values() ?? []) {
      if (entry.stage !== 'local' && entry.leader !== leader) (this.#limbo ??= new Set()).add(entry.leader!);
    }
    if (this.#limbo && this.#graceTimer === undefined) this.#graceTimer = setTimeout(() => this.#endLimbo(), RETIRE_GRACE_MS);
    this.#flushHeld();
  }

  /**
   * Leader `from` said it leaves. Its answers came before (one sender, in order): what it never answered, it
   * never took, and goes to the next leader; what it queued and did not give back, it sent.
   */
  #retired(from: string): void {
    for (const entry of [...(this.#outgoing?.values() ?? [])]) {
      if (entry.leader !== from) continue;
      if (entry.stage === 'posted') Object.assign(entry, { stage: 'local', leader: undefined });
      else if (entry.stage === 'queued') this.#outgoing!.delete(entry.id);
    }
    if (this.#limbo?.delete(from) && this.#limbo.size === 0) this.#endLimbo();
    else this.#flushHeld();
  }

  /** The earlier leaders did not say goodbye in time (they crashed): what they had not answered for goes again. */
  #endLimbo(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const limbo = this.#limbo;
    this.#limbo = undefined;
    for (const entry of this.#outgoing?.values() ?? []) {
      if (entry.stage !== 'local' && limbo?.has(entry.leader!)) Object.assign(entry, { stage: 'local', leader: undefined });
    }
    this.#flushHeld();
  }

  /** The connection this handle mirrored is gone (its leader left or was replaced): say so, once. */
  #leaderGone(cause: 'reconnect' | 'network' | 'pagehide'): void {
    if (this.#state === 'closed' || this.#state === 'connecting') return this.#setState('connecting');
    const close: SocketCloseEvent = { code: 1006, reason: '', wasClean: false, cause, willReconnect: true, delayMs: 0 };
    this.#lastClose = close;
    this.#setState('connecting');
    this.#emit('close', close);
  }

  /**
   * Hands the held messages to the leader, oldest first. A listener it calls (a `drop`, or the leader's own
   * events) may send: while this runs, `send()` holds its message behind the others, and the loop, walking the
   * live map (ids only grow, so new ones come last), reaches it in turn. Asked again from inside (an earlier
   * message handed back), it goes round once more when done.
   */
  #flushHeld(): void {
    if (this.#flush) {
      this.#flush = 'again';
      return;
    }
    try {
      do {
        // Typed wide: a listener the loop calls may set it to `again`.
        this.#flush = 'running' as FlushPhase;
        for (const entry of this.#outgoing?.values() ?? []) {
          if (this.#end || this.#leader === undefined || this.#limbo) return;
          if (entry.stage !== 'local') continue;
          if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) this.#drop(entry, 'expired');
          else {
            const result = this.#route(entry);
            if (this.#inner) this.#settle(entry.id, result, this.#term!);
          }
        }
      } while (this.#flush === 'again');
    } finally {
      this.#flush = undefined;
    }
  }

  /** Hands `entry` to the leader: straight to the connection in the leader's tab, over the channel otherwise. */
  #route(entry: Outgoing<Out>): SendResult {
    const leader = this.#leader!;
    entry.leader = leader;
    entry.stage = 'posted';
    const ttlMs = entry.expiresAt === undefined ? undefined : Math.max(1, entry.expiresAt - Date.now());
    const inner = this.#inner;
    if (inner) {
      const result = inner.send({ tab: this.#id, id: entry.id, data: entry.data }, ttlMs === undefined ? undefined : { ttlMs });
      if (result === 'queued' && this.#outgoing?.has(entry.id)) entry.stage = 'queued';
      return result;
    }
    this.#post({ t: 'send', from: this.#id, to: leader, id: entry.id, data: entry.data, ttlMs });
    return 'queued';
  }

  /** The leader's answer for a message this handle already accepted as `queued`. */
  #settle(id: number, result: SendResult, leader: string): void {
    const entry = this.#outgoing?.get(id);
    if (!entry || entry.leader !== leader) return;
    if (result === 'sent') this.#outgoing!.delete(id);
    else if (result === 'queued') entry.stage = 'queued';
    // `dropped`: the leader's `drop` for it came first (same sender, so in order) and settled it.
    else if (result !== 'dropped') this.#drop(entry, refusalReason(result));
  }

  #relayed(type: RelayedType, event: any): void {
    if (type === 'state') return this.#setState(event.to);
    if (type === 'close') {
      const close = event.error ? { ...event, error: rebuild(event.error) } : event;
      this.#lastClose = close;
      return this.#emit('close', close);
    }
    if (type === 'error') return this.#emitError(rebuild(event.error));
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

  #drop(entry: Outgoing<Out>, reason: 'overflow' | 'expired' | 'closed' | 'disposed' | 'failed'): void {
    if (!this.#outgoing?.delete(entry.id)) return;
    // Reported even while this handle ends: close() and dispose() drop what it still held.
    this.#emitEnded('drop', { message: entry.message, reason });
  }

  #dropById(id: number, reason: 'overflow' | 'expired' | 'closed' | 'disposed' | 'failed'): void {
    const entry = this.#outgoing?.get(id);
    if (entry) this.#drop(entry, reason);
  }

  /** At close/dispose: what waits here was never handed to a leader; what was is the leader's to deliver. */
  #dropHeld(reason: 'closed' | 'disposed'): void {
    for (const entry of [...(this.#outgoing?.values() ?? [])]) if (entry.stage === 'local') this.#drop(entry, reason);
    this.#outgoing = undefined;
  }

  /** This handle has ended: it leaves the channel and the page, turns closed, and wakes its waits. */
  #finish(record: CloseRecord): void {
    // The first end is the final one (a dispose() during close(), or the close it interrupted finishing later).
    this.#onClosed?.(record);
    this.#closed ??= Promise.resolve(record);
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#limbo = undefined;
    this.#channel?.close();
    this.#channel = undefined;
    this.#coordination?.page?.removeEventListener('pagehide', this.#onPageHide);
    this.#coordination?.page?.removeEventListener('pageshow', this.#onPageShow);
    if (this.#onAbort) this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
    this.#lastClose = record;
    const from = this.#state;
    this.#state = 'closed';
    const finals = this.#finals;
    this.#finals = undefined;
    // Read before the listeners run: one that disposes from the final `close` does not make this a dispose (as in the core).
    const error = finals && this.#endError();
    if (this.#end === 'closed') {
      if (from !== 'closed') this.#emitEnded('state', { from, to: 'closed' });
      this.#emitEnded('close', { ...record, willReconnect: false, delayMs: undefined });
    }
    for (const final of finals ?? []) final(error!);
  }

  #onEnd(listener: (error: SocketError) => void): () => void {
    (this.#finals ??= []).push(listener);
    return () => (this.#finals = this.#finals?.filter((f) => f !== listener));
  }

  #endError(): SocketError {
    if (this.#end === 'disposed') return new SocketError('DISPOSED', 'opened(): disposed');
    const close = this.#lastClose;
    return new SocketError('CLOSED', `opened(): closed for good${close ? ` (${close.code}, ${close.cause})` : ''}`, close && { close });
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
    console.warn(`SharedSocket: ${error.message} (${error.code}). Handle errors with on("error") or silence with the debug option; no more are printed.`);
  }

  #emit<K extends keyof SocketEvents<In, Out>>(type: K, event: SocketEvents<In, Out>[K]): void {
    if (!this.#end) this.#emitEnded(type, event);
  }

  /** Iterates over a copy: a listener may remove itself or another; one that throws does not stop the rest. */
  #emitEnded<K extends keyof SocketEvents<In, Out>>(type: K, event: SocketEvents<In, Out>[K]): void {
    for (const listener of this.#listeners?.get(type) ?? []) {
      try {
        listener(event);
      } catch (error) {
        const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
        if (report) report(error);
        else console.error(error);
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
async function closeSettled(inner: ReconnectingSocket<RawMessage, Envelope>, code: number, reason: string): Promise<CloseRecord> {
  if (inner.state === 'connecting') {
    await new Promise<void>((resolve) => {
      const offs = [inner.on('open', done), inner.on('close', done)];
      void inner.closed.then(done);
      function done() {
        for (const off of offs) off();
        resolve();
      }
    });
  }
  return inner.close(code, reason);
}

/** The same checks as `ReconnectingSocket.close()`, so misuse throws in a follower too (RFC 6455 §7.4, §5.5). */
function checkClose(code: unknown, reason: unknown): void {
  if (typeof code !== 'number' || !Number.isInteger(code) || (code !== 1000 && code !== 1001 && (code < 3000 || code > 4999))) {
    throw new RangeError(`close(): code must be 1000, 1001 or 3000-4999, got ${String(code)}.`);
  }
  if (typeof reason !== 'string') throw new TypeError(`close(): reason must be a string, got ${typeof reason}.`);
  if (wireBytes(reason) > 123) throw new RangeError(`close(): reason must be at most 123 UTF-8 bytes, got ${wireBytes(reason)}.`);
}

function cloneable(type: RelayedType, event: any): unknown {
  if (type === 'close') return cloneableClose(event);
  if (type === 'error') return { error: { code: event.error.code, message: event.error.message } };
  return event;
}

function rebuild(error: ErrorSummary): SocketError {
  return new SocketError(error.code, error.message);
}
