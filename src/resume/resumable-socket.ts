import {
  DEFAULTS,
  ReconnectingSocket,
  SocketError,
  defaultShouldReconnect,
  type CloseRecord,
  type Codec,
  type IsWireTyped,
  type QueuedMessage,
  type RawMessage,
  type Retry,
  type SendResult,
  type StateName,
  type UrlProvider,
  type WireData,
} from '../index.js';
import { Emitter } from './emitter.js';
import { describe, type ResumeError } from './errors.js';
import { Link, PLAIN, RESUMING } from './link.js';
import { Outbox, byteSize, type Admission, type Entry } from './outbox.js';
import { checkOptions, resumeHeartbeat } from './settings.js';
import { sharedSession } from './shared-session.js';
import type { ResumableSocketOptions, ResumeDropReason, ResumeSnapshot, ResumeSocketEvents } from './types.js';
import { applicationProtocol } from './wire.js';

/** `options` may be left out while `In` and `Out` are wire data; message types of your own need a `codec`. */
export type ResumableSocketArgs<In, Out> = IsWireTyped<In, Out> extends true
  ? [options?: ResumableSocketOptions<In, Out>]
  : [options: ResumableSocketOptions<In, Out> & { codec: Codec<In, Out> }];

/**
 * A `ReconnectingSocket` that loses nothing across reconnects, with a server that speaks the resume protocol
 * (`resilient-websocket/server`, or any implementation of docs/protocol.md). Both sides number their messages,
 * acknowledge what they received, and after a reconnect resend what the other side did not get, once, in order.
 *
 * The protocol is negotiated by subprotocol: against a server that does not agree, the socket runs plain (as a
 * `ReconnectingSocket`) and says so (`open` with `resume: 'unsupported'`).
 *
 * Every message `send()` accepts ends in exactly one `delivered` (the server acknowledged it) or one `drop` (it
 * cannot be resent: the server lost the session, the outbox overflowed, its `ttlMs` passed, you closed or
 * disposed) — on connections that run the protocol; on a plain one the core's promise holds instead.
 *
 * @example
 * const socket = new ResumableSocket('wss://example.com/feed', { codec: jsonCodec });
 * socket.on('open', ({ recovered }) => { if (!recovered) socket.send({ type: 'subscribe', topic: 'prices' }); });
 * socket.on('message', ({ data }) => render(data)); // once each, in order, across reconnects
 * socket.on('delivered', ({ message }) => markSent(message));
 * socket.on('drop', ({ message, reason }) => retryLater(message, reason));
 */
export class ResumableSocket<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> {
  /** @internal How `SharedSocket` handles pass the session from leader to leader (`Socket: ResumableSocket`). */
  static readonly sharedSession = sharedSession;
  readonly #inner: ReconnectingSocket<RawMessage, WireData>;
  /** The protocol over the inner socket's connections. */
  readonly #link: Link<Out>;
  readonly #events: Emitter<ResumeSocketEvents<In, Out>>;
  readonly #codec: Codec<In, Out> | undefined;
  readonly #isBlob: boolean;
  readonly #debug: ((message: string, detail?: unknown) => void) | undefined;
  readonly #outbox: Outbox<Out>;
  readonly #ttlMs: number | undefined;
  readonly #queueWhileClosed: boolean;
  /** The state listeners last heard of. */
  #shown: StateName;
  /** close() was called (or the policy gave up): sends answer `closed` until connect() or reconnect(). */
  #isStopped = false;
  /** Bumped by close(), connect() and reconnect(): a close that finishes after a newer call changes nothing. */
  #generation = 0;
  #isDisposed = false;
  /** What dispose() took from the outbox: reported (`disposed`) after the last `close` and `state`, before `end`. */
  #held: [Entry<Out>, boolean][] = [];
  #hasWarned = false;
  #onAbort: (() => void) | undefined;

  /**
   * Creates the socket and, unless `autoConnect` is `false`, starts connecting. Throws `TypeError`/`RangeError`
   * for bad options, as `ReconnectingSocket` does.
   */
  constructor(url: UrlProvider, ...[options]: ResumableSocketArgs<In, Out>) {
    const all = (options ?? {}) as ResumableSocketOptions<In, Out>;
    const { resume, codec, binaryType, protocols, heartbeat, signal, shouldReconnect = defaultShouldReconnect, ...rest } = all;
    const settings = checkOptions(all);
    this.#codec = codec;
    this.#isBlob = binaryType === 'blob';
    this.#debug = rest.debug;
    const queue = { ...DEFAULTS.queue, ...rest.queue };
    this.#ttlMs = queue.ttlMs;
    this.#queueWhileClosed = queue.queueWhileClosed;
    const events = (this.#events = new Emitter((type, error) => this.#listenerThrew(type, error)));
    // The core checks every other option, with its own messages. Its providers run from the first attempt on,
    // after this constructor.
    const inner = (this.#inner = new ReconnectingSocket<RawMessage, WireData>(url, {
      ...rest,
      // Control frames are read as they arrive; a Blob would need an asynchronous read.
      binaryType: 'arraybuffer',
      protocols: (context) => this.#link.offer(context),
      shouldReconnect: (close) => this.#link.isRefusal(close) || shouldReconnect(close),
      ...(heartbeat !== undefined && { heartbeat: resumeHeartbeat(heartbeat, () => this.#link.speaksResume) }),
    }));
    const outbox = (this.#outbox = new Outbox<Out>(queue.maxMessages, queue.maxBytes, queue.overflow));
    const link = (this.#link = new Link<Out>(
      inner,
      outbox,
      {
        events,
        debug: this.#debug,
        isStopped: () => this.#isStopped,
        isDisposed: () => this.#isDisposed,
        deliver: (data, event) => this.#deliver(data, event),
        drop: (message, reason, wasSent) => this.#drop(message, reason, wasSent),
        error: (error) => this.#error(error),
        show: (to) => this.#show(to),
      },
      protocols,
      rest.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      settings,
    ));
    if (resume?.session) link.restore(resume.session);
    this.#shown = inner.state;
    // Each event of the inner socket is one change: done in full before our listeners hear of it.
    inner.on('state', (event) => events.batch(() => link.onState(event)));
    inner.on('open', (event) => events.batch(() => link.onOpen(event)));
    inner.on('message', (event) => events.batch(() => link.onMessage(event as { data: string | ArrayBuffer })));
    inner.on('close', (event) =>
      events.batch(() => {
        link.leave();
        if (!event.willReconnect && inner.state === 'closed') this.#isStopped = true;
        events.emit('close', event);
      }),
    );
    inner.on('error', ({ error }) => events.batch(() => link.onError(error)));
    // The run's end. A dispose's comes after its last close and state (from a listener, after dispose() returns):
    // what it held is reported then, as the core does, and the listeners go once these events are out.
    inner.on('end', (event) =>
      events.batch(() => {
        for (const [entry, wasSent] of this.#held.splice(0)) this.#drop(entry.message, 'disposed', wasSent);
        events.emit('end', event);
        if (event.isDisposed) events.clear();
      }),
    );
    for (const type of ['reconnecting', 'hold', 'heartbeat'] as const) inner.on(type, (event) => events.emit(type, event as never));
    // The inner socket never queues (see Link.writeFrame): a drop there would be a message of ours, already reported.
    inner.on('drop', ({ reason }) => this.#debug?.(`resume: inner socket dropped a frame (${reason})`));
    // The signal disposes this socket (which disposes the inner one), so that held messages get their drops.
    const onAbort = () => this.dispose();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#onAbort = () => signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) this.dispose();
  }

  // ── views ──────────────────────────────────────────────────────────────────────────────────────────────

  /** `connecting` (until the server's WELCOME on a resume connection), `open`, `closing` or `closed`. */
  get state(): StateName {
    const state = this.#inner.state;
    const mode = this.#link.mode;
    return state === 'open' && mode !== RESUMING && mode !== PLAIN ? 'connecting' : state;
  }
  /** Retries since the last stable connection. */
  get attempt(): number {
    return this.#inner.attempt;
  }
  /** The planned retry, if any. */
  get retry(): Retry | undefined {
    return this.#inner.retry;
  }
  /** How the last connection ended. */
  get lastClose(): CloseRecord | undefined {
    return this.#inner.lastClose;
  }
  /** The last heartbeat round trip, in milliseconds. */
  get rttMs(): number | undefined {
    return this.#inner.rttMs;
  }
  /** The application subprotocol the server selected ('' if none): the resume protocol's own name is not shown. */
  get protocol(): string {
    return applicationProtocol(this.#inner.protocol);
  }
  /** Whether the current connection runs the resume protocol (false while connecting, and on a plain one). */
  get isResumable(): boolean {
    return this.#link.mode === RESUMING;
  }
  /** Bytes waiting: in the inner socket's buffer, and in messages not yet written. */
  get bufferedAmount(): number {
    return this.#inner.bufferedAmount + this.#outbox.unsentBytes;
  }
  /** Messages not yet written, oldest first. */
  get queued(): QueuedMessage<Out>[] {
    return this.#outbox.unsent.toArray();
  }
  /** Messages written and not yet acknowledged by the server. */
  get unacknowledged(): number {
    return this.#outbox.sent.length;
  }
  get isDisposed(): boolean {
    return this.#isDisposed;
  }
  /** A promise for the final close: after `close()`, when the policy gives up, or on `dispose()`. */
  get closed(): Promise<CloseRecord> {
    return this.#inner.closed;
  }

  // ── events ─────────────────────────────────────────────────────────────────────────────────────────────

  /** Adds a listener; returns the function that removes it (safe to call twice). */
  on<K extends keyof ResumeSocketEvents<In, Out>>(type: K, listener: (event: ResumeSocketEvents<In, Out>[K]) => void): () => void {
    return this.#isDisposed ? () => {} : this.#events.on(type, listener);
  }
  /** Adds a listener for the next event of this type only; returns the function that removes it. */
  once<K extends keyof ResumeSocketEvents<In, Out>>(type: K, listener: (event: ResumeSocketEvents<In, Out>[K]) => void): () => void {
    return this.#isDisposed ? () => {} : this.#events.once(type, listener);
  }
  /** Removes a listener; removing an unknown one does nothing. */
  off<K extends keyof ResumeSocketEvents<In, Out>>(type: K, listener: (event: ResumeSocketEvents<In, Out>[K]) => void): void {
    this.#events.off(type, listener);
  }

  // ── calls ──────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Sends now if open, otherwise holds the message (bounded by `queue`). On a resume connection, `sent` and
   * `queued` both mean: exactly one `delivered` or one `drop` follows. Never throws for the socket's state.
   */
  send(message: Out, options?: { ttlMs?: number }): SendResult {
    const ttlMs = options?.ttlMs ?? this.#ttlMs;
    if (ttlMs !== undefined && !(ttlMs > 0)) throw new RangeError(`send(): ttlMs must be > 0, got ${ttlMs}.`);
    if (this.#isDisposed) return 'disposed';
    let data: WireData;
    if (this.#codec) {
      try {
        data = this.#codec.encode(message);
      } catch (cause) {
        this.#error(new SocketError('ENCODE_FAILED', `encode failed: ${describe(cause)}`, { cause, data: message }));
        return 'failed';
      }
      if (this.#isDisposed) return 'disposed';
    } else data = message as WireData;
    if (this.#isStopped && !this.#queueWhileClosed) return 'closed';
    const isOpen = !this.#isStopped && this.#inner.state === 'open';
    const link = this.#link;
    if (isOpen && link.mode === PLAIN) return link.sendPlain(data);
    const outbox = this.#outbox;
    const bytes = byteSize(data);
    // The common case (room to spare) without the eviction machinery.
    const admission = outbox.fits(bytes) ? undefined : outbox.admit(bytes);
    if (typeof admission === 'string') {
      if (admission === 'dropped') this.#drop(message, 'overflow', false);
      return admission;
    }
    const now = ttlMs === undefined ? 0 : Date.now();
    const entry: Entry<Out> = { message, data, bytes, queuedAt: now, expiresAt: ttlMs === undefined ? undefined : now + ttlMs };
    const isSent = isOpen && link.mode === RESUMING && !link.isSayingBye && link.write(data);
    if (isSent) outbox.pushSent(entry);
    else {
      if (now === 0) (entry as { queuedAt: number }).queuedAt = Date.now();
      outbox.pushUnsent(entry);
    }
    if (admission) this.#dropEvicted(admission);
    return isSent ? 'sent' : 'queued';
  }

  /**
   * Ends the session: on a resume connection, tells the server (BYE), waits for its last acknowledgement within
   * the close handshake (`closeTimeoutMs`), then closes. What is still unacknowledged is dropped (`closed`), and
   * unsent messages too unless `queue.queueWhileClosed`. Resolves with the final close record. Throws only for a
   * bad code (not 1000, 1001 or 3000–4999) or a reason over 123 UTF-8 bytes.
   */
  close(code = 1000, reason = ''): Promise<CloseRecord> {
    if (!(code === 1000 || code === 1001 || (Number.isInteger(code) && code >= 3000 && code <= 4999))) {
      throw new RangeError(`close(): code must be 1000, 1001 or 3000-4999, got ${code}.`);
    }
    if (typeof reason !== 'string' || byteSize(reason) > 123) throw new RangeError('close(): reason must be a string of at most 123 UTF-8 bytes.');
    if (this.#isDisposed) return this.#inner.close(code, reason);
    const generation = ++this.#generation;
    this.#isStopped = true;
    this.#link.sayBye();
    return this.#inner.close(code, reason).then((record) => {
      if (generation === this.#generation && !this.#isDisposed) this.#endSession('closed');
      return record;
    });
  }

  /** Starts an idle or stopped socket (the session is resumed if the server still has it). */
  connect(): void {
    this.#restart();
    this.#inner.connect();
  }

  /** Drops the current connection and starts a fresh one at once; the session is resumed on it. */
  reconnect(): void {
    this.#restart();
    this.#inner.reconnect();
  }

  /** Pings now with a short deadline. */
  probe(timeoutMs?: number): void {
    this.#inner.probe(timeoutMs);
  }

  /** Removes the messages not yet written and returns them (no `drop` follows: you hold them again). */
  clearQueue(): QueuedMessage<Out>[] {
    const cleared: Entry<Out>[] = [];
    for (let entry = this.#outbox.shiftUnsent(); entry; entry = this.#outbox.shiftUnsent()) cleared.push(entry);
    return cleared;
  }

  /**
   * Terminal: forces the connection down without ending the session on the server (it expires there); the last
   * `close` and `state`, a `drop` (`disposed`) for every message held, and `end` go out; then no listener is left.
   */
  dispose(): void {
    if (this.#isDisposed) return;
    this.#isDisposed = true;
    this.#onAbort?.();
    this.#link.leave();
    this.#held = this.#outbox.clearAll();
    this.#events.batch(() => this.#inner.dispose());
  }

  /**
   * Ends this socket without ending its session, and returns what another `ResumableSocket` needs to continue
   * it (`resume: { session }`): the token, the counts and every message still held. No `drop` follows for those:
   * the next socket is responsible for them. The socket is disposed.
   */
  handOff(): ResumeSnapshot<Out> {
    const snapshot = this.#link.snapshot();
    this.dispose();
    return snapshot;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#isDisposed) await this.close();
    this.dispose();
  }

  // ── reports ───────────────────────────────────────────────────────────────────────────────────────────

  /** Decodes and emits a data message; `event` is the inner socket's, reused when the payload is the same. */
  #deliver(data: string | ArrayBuffer, event?: { data: unknown }): void {
    if (!this.#codec && !this.#isBlob && event) return this.#events.emit('message', event as { data: In });
    const raw = this.#isBlob && typeof data !== 'string' ? new Blob([data]) : data;
    let decoded: In;
    try {
      decoded = this.#codec ? this.#codec.decode(raw) : (raw as In);
    } catch (cause) {
      this.#error(new SocketError('DECODE_FAILED', `decode failed: ${describe(cause)}`, { cause, data: raw }));
      return;
    }
    this.#events.emit('message', { data: decoded });
  }

  /** After close(): the session ended; every message held is dropped (`closed`), unsent ones kept with `queueWhileClosed`. */
  #endSession(reason: 'closed'): void {
    this.#events.batch(() => {
      this.#link.loseSession(reason);
      if (this.#queueWhileClosed) return;
      for (let entry = this.#outbox.shiftUnsent(); entry; entry = this.#outbox.shiftUnsent()) this.#drop(entry.message, reason, false);
    });
  }

  #restart(): void {
    this.#isStopped = false;
    this.#generation++;
  }

  #show(to: StateName): void {
    const from = this.#shown;
    if (from === to) return;
    this.#shown = to;
    this.#events.emit('state', { from, to });
  }

  #drop(message: Out, reason: ResumeDropReason, wasSent: boolean): void {
    this.#events.emit('drop', { message, reason, wasSent });
  }

  #dropEvicted(admission: Exclude<Admission<Out>, string>): void {
    this.#events.batch(() => admission.evicted.forEach(([entry, wasSent]) => this.#drop(entry.message, 'overflow', wasSent)));
  }

  /** Errors never vanish: to `error` listeners, else the `debug` hook, else once to `console.warn`. */
  #error(error: SocketError | ResumeError): void {
    if (this.#events.has('error')) this.#events.emit('error', { error });
    else if (this.#debug) this.#debug(`resume: ${error.message}`, error);
    else if (!this.#hasWarned) {
      this.#hasWarned = true;
      console.warn(`${error.message} (listen with socket.on('error', ...) or pass the debug option to handle errors)`);
    }
  }

  #listenerThrew(type: string, cause: unknown): void {
    const error = new SocketError('LISTENER_THREW', `a "${type}" listener threw: ${describe(cause)}`, { cause });
    if (type !== 'error' && this.#events.has('error')) this.#events.emit('error', { error });
    else ((globalThis as { reportError?: (e: unknown) => void }).reportError ?? console.error)(error);
  }
}
