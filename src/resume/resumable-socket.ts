import {
  DEFAULTS,
  ReconnectingSocket,
  SocketError,
  type CloseRecord,
  type Codec,
  type IsWireTyped,
  type ProviderContext,
  type QueuedMessage,
  type RawMessage,
  type Retry,
  type SendResult,
  type SocketOpenEvent,
  type SocketStateEvent,
  type StateName,
  type UrlProvider,
  type WireData,
} from '../index.js';
import { Emitter } from './emitter.js';
import { ResumeError, describe } from './errors.js';
import { Outbox, byteSize, type Admission, type Entry } from './outbox.js';
import type { ResumableSocketOptions, ResumeDropReason, ResumeOutcome, ResumeSnapshot, ResumeSocketEvents } from './types.js';
import {
  ACK,
  BYE,
  ESCAPED,
  MARK,
  NEXT,
  PING,
  PONG,
  WELCOME,
  WireError,
  applicationProtocol,
  buildOffer,
  countFrame,
  frameName,
  isResumeProtocol,
  parseControl,
  pingFrame,
  type Welcome,
} from './wire.js';

/** `options` may be left out while `In` and `Out` are wire data; message types of your own need a `codec`. */
export type ResumableSocketArgs<In, Out> = IsWireTyped<In, Out> extends true
  ? [options?: ResumableSocketOptions<In, Out>]
  : [options: ResumableSocketOptions<In, Out> & { codec: Codec<In, Out> }];

/** What the current connection runs: nothing yet, the wait for WELCOME, the resume protocol, or plain. */
const NONE = 0;
const HANDSHAKE = 1;
const RESUMING = 2;
const PLAIN = 3;

/** Acknowledge at once once this many bytes wait for an acknowledgement, so a peer's byte bound is not reached first. */
const ACK_BYTES = 262_144;
/** Protocol errors in a row (no good WELCOME between them) after which the socket stops offering the protocol. */
const MAX_FAILURES = 3;
const TIMER_LIMIT = 2_147_483_647;
const ESCAPE = Uint8Array.of(MARK, ESCAPED);

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
  readonly #inner: ReconnectingSocket<RawMessage, WireData>;
  readonly #events: Emitter<ResumeSocketEvents<In, Out>>;
  readonly #codec: Codec<In, Out> | undefined;
  readonly #isBlob: boolean;
  readonly #debug: ((message: string, detail?: unknown) => void) | undefined;
  readonly #outbox: Outbox<Out>;
  readonly #ttlMs: number | undefined;
  readonly #queueWhileClosed: boolean;
  readonly #ackDelayMs: number;
  readonly #ackEvery: number;
  readonly #welcomeTimeoutMs: number;
  readonly #protocols: ResumableSocketOptions['protocols'];

  #mode = NONE;
  /** The session: its token (from WELCOME), server messages received, and what we last acknowledged. */
  #token: string | undefined;
  #received = 0;
  #ackedUpTo = 0;
  #unackedBytes = 0;
  /** Data messages the server resends that we already have (its replay started below our count). */
  #skip = 0;
  /** The highest count the server acknowledged in this session. */
  #peerAcked = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #welcomeTimer: ReturnType<typeof setTimeout> | undefined;
  /** BYE went out on this connection: what the server sends after it is not delivered (it reports it). */
  #isSayingBye = false;
  #failures = 0;
  #isResumeOff = false;
  /** The last offer carried subprotocols of the application's own. */
  #hadApplicationProtocols = false;
  /** The state listeners last heard of. */
  #shown: StateName;
  /** close() was called (or the policy gave up): sends answer `closed` until connect() or reconnect(). */
  #isStopped = false;
  /** Bumped by close(), connect() and reconnect(): a close that finishes after a newer call changes nothing. */
  #generation = 0;
  #isDisposed = false;
  #hasWarned = false;
  #onAbort: (() => void) | undefined;

  /**
   * Creates the socket and, unless `autoConnect` is `false`, starts connecting. Throws `TypeError`/`RangeError`
   * for bad options, as `ReconnectingSocket` does.
   */
  constructor(url: UrlProvider, ...[options]: ResumableSocketArgs<In, Out>) {
    const { resume, codec, binaryType, protocols, heartbeat, signal, ...rest } = (options ?? {}) as ResumableSocketOptions<In, Out>;
    if (codec !== undefined && (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function')) {
      throw new TypeError(`ResumableSocket: option "codec" must be { encode(), decode() }, got ${typeof codec}.`);
    }
    if (binaryType !== undefined && binaryType !== 'arraybuffer' && binaryType !== 'blob') {
      throw new TypeError(`ResumableSocket: option "binaryType" must be 'arraybuffer' or 'blob', got ${JSON.stringify(binaryType)}.`);
    }
    if (signal !== undefined && typeof signal?.addEventListener !== 'function') {
      throw new TypeError(`ResumableSocket: option "signal" must be an AbortSignal, got ${signal === null ? 'null' : typeof signal}.`);
    }
    if (resume !== undefined && (typeof resume !== 'object' || resume === null)) {
      throw new TypeError(`ResumableSocket: option "resume" must be an object, got ${resume === null ? 'null' : typeof resume}.`);
    }
    this.#ackDelayMs = checkNumber('resume.ackDelayMs', resume?.ackDelayMs, 100, 1, TIMER_LIMIT);
    this.#ackEvery = checkNumber('resume.ackEvery', resume?.ackEvery, 64, 1, Number.MAX_SAFE_INTEGER, true);
    this.#codec = codec;
    this.#isBlob = binaryType === 'blob';
    this.#debug = rest.debug;
    this.#protocols = protocols;
    const queue = { ...DEFAULTS.queue, ...rest.queue };
    this.#ttlMs = queue.ttlMs;
    this.#queueWhileClosed = queue.queueWhileClosed;
    this.#welcomeTimeoutMs = rest.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    this.#events = new Emitter((type, error) => this.#listenerThrew(type, error));
    // The core checks every other option, with its own messages.
    this.#inner = new ReconnectingSocket<RawMessage, WireData>(url, {
      ...rest,
      // Control frames are read as they arrive; a Blob would need an asynchronous read.
      binaryType: 'arraybuffer',
      protocols: (context) => this.#offer(context),
      ...(heartbeat !== undefined && { heartbeat: this.#heartbeat(heartbeat) }),
    });
    this.#outbox = new Outbox<Out>(queue.maxMessages, queue.maxBytes, queue.overflow);
    if (resume?.session) this.#restore(resume.session);
    this.#shown = this.#inner.state;
    const inner = this.#inner;
    inner.on('state', (event) => this.#onState(event));
    inner.on('open', (event) => this.#onOpen(event));
    inner.on('message', (event) => this.#onMessage(event as { data: string | ArrayBuffer }));
    inner.on('close', (event) => {
      this.#leaveConnection();
      if (!event.willReconnect && inner.state === 'closed') this.#isStopped = true;
      this.#events.emit('close', event);
    });
    inner.on('error', ({ error }) => {
      this.#error(error);
      this.#noSubprotocol(error);
    });
    inner.on('reconnecting', (event) => this.#events.emit('reconnecting', event));
    inner.on('hold', (event) => this.#events.emit('hold', event));
    inner.on('heartbeat', (event) => this.#events.emit('heartbeat', event));
    // The inner socket never queues (see #write): a drop there would be a message of ours, already reported.
    inner.on('drop', ({ reason }) => this.#debug?.(`resume: inner socket dropped a frame (${reason})`));
    // The signal disposes this socket (which disposes the inner one), so that held messages get their drops.
    if (signal) {
      if (signal.aborted) this.dispose();
      else {
        const onAbort = () => this.dispose();
        signal.addEventListener('abort', onAbort, { once: true });
        this.#onAbort = () => signal.removeEventListener('abort', onAbort);
      }
    }
  }

  // ── views ──────────────────────────────────────────────────────────────────────────────────────────────

  /** `connecting` (until the server's WELCOME on a resume connection), `open`, `closing` or `closed`. */
  get state(): StateName {
    const state = this.#inner.state;
    return state === 'open' && this.#mode !== RESUMING && this.#mode !== PLAIN ? 'connecting' : state;
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
    return this.#mode === RESUMING;
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
    if (isOpen && this.#mode === PLAIN) return this.#sendPlain(data);
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
    const isSent = isOpen && this.#mode === RESUMING && !this.#isSayingBye && this.#write(data);
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
    if (this.#mode === RESUMING && this.#inner.state === 'open' && !this.#isSayingBye) {
      this.#clearAckTimer();
      this.#isSayingBye = this.#writeFrame(countFrame(BYE, this.#received));
    }
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
   * Terminal: forces the connection down without ending the session on the server (it expires there), reports
   * every message still held with a `drop` (`disposed`) and removes every listener.
   */
  dispose(): void {
    if (this.#isDisposed) return;
    this.#isDisposed = true;
    this.#onAbort?.();
    this.#leaveConnection();
    this.#clearTimers();
    this.#inner.dispose();
    for (const [entry, wasSent] of this.#outbox.clearAll()) this.#drop(entry.message, 'disposed', wasSent);
    this.#events.clear();
  }

  /**
   * Ends this socket without ending its session, and returns what another `ResumableSocket` needs to continue
   * it (`resume: { session }`): the token, the counts and every message still held. No `drop` follows for those:
   * the next socket is responsible for them. The socket is disposed.
   */
  handOff(): ResumeSnapshot<Out> {
    const pick = ({ message, data }: Entry<Out>) => ({ message, data });
    const outbox = this.#outbox;
    const snapshot: ResumeSnapshot<Out> = {
      token: this.#token,
      received: this.#received,
      base: outbox.base,
      sent: outbox.sent.toArray().map(pick),
      unsent: outbox.unsent.toArray().map(pick),
    };
    outbox.clearAll();
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

  // ── the connection ─────────────────────────────────────────────────────────────────────────────────────

  /** The subprotocols for an attempt: the application's, the resume variants, and the session to resume. */
  #offer(context: ProviderContext): string[] | undefined | Promise<string[] | undefined> {
    const protocols = this.#protocols;
    const build = (value: string | string[] | undefined) => {
      const application = value === undefined ? [] : typeof value === 'string' ? [value] : value;
      this.#hadApplicationProtocols = application.length > 0;
      if (this.#isResumeOff) return application.length ? application : undefined;
      return buildOffer(application, this.#token === undefined ? undefined : { token: this.#token, received: this.#received });
    };
    if (typeof protocols !== 'function') return build(protocols);
    const value = protocols(context);
    return value instanceof Promise ? value.then(build) : build(value);
  }

  /** The heartbeat's application-level ping is the protocol's PING on a resume connection, yours otherwise. */
  #heartbeat(heartbeat: NonNullable<ResumableSocketOptions['heartbeat']>): ResumableSocketOptions['heartbeat'] {
    if (heartbeat === false || typeof heartbeat !== 'object' || heartbeat.message === undefined) return heartbeat;
    const { message, isPong } = heartbeat;
    const speaksResume = () => this.#mode === HANDSHAKE || this.#mode === RESUMING;
    return {
      ...heartbeat,
      message: () => (speaksResume() ? pingFrame(PING) : typeof message === 'function' ? message() : message),
      // Without your isPong every message counts as the pong, ours included; with it, ours is recognised here.
      ...(isPong && { isPong: (data: unknown) => (speaksResume() ? isControl(data, PONG) : isPong(data)) }),
    };
  }

  #onState({ to }: SocketStateEvent): void {
    if (to === 'open') {
      // The connection is gone already (its close follows): it never opened for our listeners.
      if (this.#inner.state !== 'open') return;
      this.#isSayingBye = false;
      if (!this.#isResumeOff && isResumeProtocol(this.#inner.protocol)) {
        this.#mode = HANDSHAKE;
        this.#welcomeTimer = setTimeout(() => this.#welcomeTimedOut(), this.#welcomeTimeoutMs);
        return;
      }
      this.#mode = PLAIN;
    } else if (to !== 'closing' || this.#mode === HANDSHAKE) this.#leaveConnection();
    // While closing, the server's last acknowledgements (and a plain connection's last messages) still count; a
    // handshake is abandoned.
    this.#show(this.#mode === HANDSHAKE ? 'connecting' : to);
  }

  #onOpen(event: SocketOpenEvent): void {
    if (this.#mode !== PLAIN || this.#inner.state !== 'open') return;
    // A session the server no longer speaks for: what it did not acknowledge cannot be resent.
    if (this.#token !== undefined || this.#outbox.sent.length) this.#loseSession('lost');
    this.#debug?.('resume: the server did not agree to the resume protocol; this connection runs plain');
    this.#events.emit('open', { attempt: event.attempt, protocol: applicationProtocol(event.protocol), recovered: false, resume: 'unsupported', missed: 0 });
    this.#events.after(() => this.#flush());
  }

  /** A message from the inner socket; its event object is passed on as it is when nothing changes it. */
  #onMessage(event: { data: string | ArrayBuffer }): void {
    let data = event.data;
    const mode = this.#mode;
    if (mode === PLAIN) return this.#deliver(data, event);
    // A connection we have given up on (a protocol error): its last frames mean nothing now.
    if (mode === NONE) return;
    if (typeof data !== 'string' && data.byteLength > 0) {
      const bytes = new Uint8Array(data);
      if (bytes[0] === MARK) {
        if (bytes.length > 1 && bytes[1] === ESCAPED) data = data.slice(2);
        else return this.#onControl(bytes);
      }
    }
    if (mode === HANDSHAKE) return this.#fail('a data message arrived before WELCOME');
    if (this.#isSayingBye) return;
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    this.#received++;
    this.#unackedBytes += typeof data === 'string' ? data.length : data.byteLength;
    // Delivered before it is acknowledged: an acknowledgement never covers a message the application did not get.
    this.#deliver(data, data === event.data ? event : undefined);
    if (this.#received - this.#ackedUpTo >= this.#ackEvery || this.#unackedBytes >= ACK_BYTES) this.#acknowledgeNow();
    else if (this.#mode === RESUMING) this.#ackTimer ??= setTimeout(() => this.#acknowledgeNow(), this.#ackDelayMs);
  }

  #onControl(bytes: Uint8Array): void {
    let control;
    try {
      control = parseControl(bytes);
    } catch (error) {
      return this.#fail((error as WireError).message);
    }
    if (this.#mode === HANDSHAKE ? control.type !== WELCOME && control.type !== PING && control.type !== PONG : control.type === WELCOME) {
      return this.#fail(`${frameName(control.type)} ${control.type === WELCOME ? 'arrived twice' : 'arrived before WELCOME'}`);
    }
    switch (control.type) {
      case WELCOME:
        return this.#welcome(control.welcome);
      case ACK:
        this.#acknowledged(control.count, 'ACK');
        return;
      case BYE:
        // The server ended the session: it has what it acknowledges here and takes nothing more, and closes the
        // connection. Until then new messages wait for the next session.
        if (!this.#acknowledged(control.count, 'BYE')) return;
        if (!this.#isSayingBye) this.#writeFrame(countFrame(ACK, this.#received));
        this.#isSayingBye = true;
        this.#clearAckTimer();
        return this.#loseSession('lost');
      case NEXT:
        if (control.count >= this.#received) this.#received = control.count;
        else this.#skip = this.#received - control.count;
        return;
      case PING:
        this.#writeFrame(pingFrame(PONG, control.payload));
        return;
      case PONG:
        return;
    }
  }

  #welcome(welcome: Welcome): void {
    const outbox = this.#outbox;
    const isResumed = welcome.outcome === 'resumed';
    if (isResumed && welcome.token !== this.#token) return this.#fail('WELCOME resumed a session this socket did not offer');
    if (!isResumed && (welcome.received !== 0 || welcome.next !== 0)) return this.#fail('WELCOME for a new session must count 0 messages both ways');
    if (isResumed && welcome.received > outbox.next) {
      return this.#fail(`WELCOME says the server received ${welcome.received} messages, but only ${outbox.next} were sent`);
    }
    if (isResumed && welcome.received < this.#peerAcked) {
      return this.#fail(`WELCOME says the server received ${welcome.received} messages, after it acknowledged ${this.#peerAcked}`);
    }
    clearTimeout(this.#welcomeTimer);
    this.#welcomeTimer = undefined;
    this.#mode = RESUMING;
    this.#failures = 0;
    let missed = 0;
    if (isResumed) {
      this.#acknowledged(welcome.received, 'WELCOME');
      if (welcome.next >= this.#received) {
        missed = welcome.next - this.#received;
        this.#received = welcome.next;
      } else this.#skip = this.#received - welcome.next;
      // The offer told the server what we have.
      this.#ackedUpTo = this.#received;
      this.#unackedBytes = 0;
    } else {
      this.#loseSession('lost');
      this.#token = welcome.token;
    }
    for (const [entry, wasSent] of outbox.expire(Date.now())) this.#drop(entry.message, 'expired', wasSent);
    // We gave up messages the server has not seen (overflow, expiry): say where ours continue.
    if (outbox.base > welcome.received) this.#writeFrame(countFrame(NEXT, outbox.base));
    for (let i = 0; i < outbox.sent.length; i++) this.#write(outbox.sent.at(i)!.data);
    this.#show('open');
    const resume = welcome.outcome as ResumeOutcome;
    this.#events.emit('open', { attempt: this.#inner.attempt, protocol: this.protocol, recovered: isResumed, resume, missed });
    this.#events.after(() => this.#flush());
  }

  /** Writes what waited for the connection, after the `open` listeners' own sends. */
  #flush(): void {
    const outbox = this.#outbox;
    if (!outbox.unsent.length) return;
    for (const [entry, wasSent] of outbox.expire(Date.now())) this.#drop(entry.message, 'expired', wasSent);
    while (outbox.unsent.length && this.#inner.state === 'open' && !this.#isStopped && !this.#isSayingBye) {
      const entry = outbox.unsent.at(0)!;
      if (this.#mode === RESUMING) {
        if (!this.#write(entry.data)) return;
        outbox.shiftUnsent();
        outbox.pushSent(entry);
      } else if (this.#mode === PLAIN) {
        outbox.shiftUnsent();
        const result = this.#sendPlain(entry.data);
        if (result !== 'sent') this.#drop(entry.message, result === 'closed' || result === 'disposed' ? result : 'failed', false);
      } else return;
    }
  }

  #sendPlain(data: WireData): SendResult {
    const result = this.#inner.send(data);
    // The inner socket must never hold a frame: it would send it first on the next connection, before WELCOME.
    if (result === 'queued') this.#inner.clearQueue();
    return result === 'queued' ? 'failed' : result;
  }

  /** Writes a data message (framed here) on the open connection; false if it did not go out. */
  #write(data: WireData): boolean {
    return this.#writeFrame(frame(data));
  }

  /** Writes a frame as it is. */
  #writeFrame(data: WireData): boolean {
    const result = this.#inner.send(data);
    if (result === 'queued') this.#inner.clearQueue();
    return result === 'sent';
  }

  /** Removes what the server acknowledged; false (after failing the connection) for an impossible count. */
  #acknowledged(count: number, what: string): boolean {
    const outbox = this.#outbox;
    if (count > outbox.next) {
      this.#fail(`${what} acknowledged ${count} messages, but only ${outbox.next} were sent`);
      return false;
    }
    if (count < this.#peerAcked) {
      this.#fail(`${what} acknowledged ${count} messages, after acknowledging ${this.#peerAcked}`);
      return false;
    }
    this.#peerAcked = count;
    const done = outbox.acknowledge(count);
    if (this.#events.has('delivered')) for (const entry of done) this.#events.emit('delivered', { message: entry.message });
    return true;
  }

  #acknowledgeNow(): void {
    this.#clearAckTimer();
    if (this.#mode !== RESUMING || this.#isSayingBye || this.#inner.state !== 'open') return;
    if (this.#writeFrame(countFrame(ACK, this.#received))) {
      this.#ackedUpTo = this.#received;
      this.#unackedBytes = 0;
    }
  }

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

  /** The connection is over (closed, or given up on): timers stop; the session and its messages stay. */
  #leaveConnection(): void {
    if (this.#mode === NONE) return;
    this.#mode = NONE;
    this.#clearTimers();
  }

  /**
   * `ws` (the client in Node) fails a handshake whose response selects no subprotocol when some were offered
   * (browsers accept it). A server that selects none does not speak the protocol: stop offering it, so the
   * socket connects plain, as a `ReconnectingSocket` would, and retry at once.
   */
  #noSubprotocol(error: SocketError): void {
    if (this.#isResumeOff || this.#hadApplicationProtocols || !/sent no subprotocol/i.test(error.message)) return;
    this.#isResumeOff = true;
    this.#debug?.('resume: the server selected no subprotocol; offering none from now on (plain)');
    if (!this.#isStopped && !this.#isDisposed) this.#inner.reconnect();
  }

  #welcomeTimedOut(): void {
    this.#welcomeTimer = undefined;
    if (this.#mode !== HANDSHAKE) return;
    this.#fail(`the server selected ${this.#inner.protocol} but sent no WELCOME within ${this.#welcomeTimeoutMs} ms`, 'WELCOME_TIMEOUT');
  }

  /**
   * The server broke the protocol: its session cannot be trusted, so it is given up (what it did not
   * acknowledge is dropped, `lost`) and a new connection starts a new one. After MAX_FAILURES in a row the
   * socket stops offering the protocol.
   */
  #fail(what: string, code: 'RESUME_PROTOCOL' | 'WELCOME_TIMEOUT' = 'RESUME_PROTOCOL'): void {
    this.#leaveConnection();
    this.#loseSession('lost');
    const isLast = ++this.#failures >= MAX_FAILURES;
    if (isLast) this.#isResumeOff = true;
    const next = isLast ? `the socket stops offering the resume protocol after ${MAX_FAILURES} failures in a row` : 'reconnecting with a new session';
    this.#error(new ResumeError(code, `resume: ${what}; ${next}. Check the server's resume implementation (docs/protocol.md).`));
    // A close you asked for runs its course; otherwise the next connection starts at once.
    if (!this.#isStopped) this.#inner.reconnect();
  }

  /** Forgets the session: what the server did not acknowledge cannot be resent (`reason`). Unsent messages stay. */
  #loseSession(reason: ResumeDropReason): void {
    const outbox = this.#outbox;
    const lost: Entry<Out>[] = [];
    for (let entry = outbox.shiftSent(); entry; entry = outbox.shiftSent()) lost.push(entry);
    outbox.base = 0;
    this.#token = undefined;
    this.#received = this.#ackedUpTo = this.#unackedBytes = this.#skip = this.#peerAcked = 0;
    for (const entry of lost) this.#drop(entry.message, reason, true);
  }

  /** After close(): the session ended; every message held is dropped (`closed`), unsent ones kept with `queueWhileClosed`. */
  #endSession(reason: 'closed'): void {
    this.#loseSession(reason);
    if (this.#queueWhileClosed) return;
    for (let entry = this.#outbox.shiftUnsent(); entry; entry = this.#outbox.shiftUnsent()) this.#drop(entry.message, reason, false);
  }

  #restart(): void {
    this.#isStopped = false;
    this.#generation++;
  }

  #restore(session: ResumeSnapshot<Out>): void {
    const { token, received, base, sent, unsent } = session;
    const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
    if (!isCount(received) || !isCount(base) || !Array.isArray(sent) || !Array.isArray(unsent) || (token !== undefined && typeof token !== 'string')) {
      throw new TypeError('ResumableSocket: option "resume.session" must be what handOff() returned.');
    }
    this.#token = token;
    this.#received = this.#ackedUpTo = received;
    this.#outbox.base = this.#peerAcked = base;
    const now = Date.now();
    const entry = ({ message, data }: { message: Out; data: WireData }): Entry<Out> => ({ message, data, bytes: byteSize(data), queuedAt: now, expiresAt: undefined });
    for (const item of sent) this.#outbox.pushSent(entry(item));
    for (const item of unsent) this.#outbox.pushUnsent(entry(item));
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
    for (const [entry, wasSent] of admission.evicted) this.#drop(entry.message, 'overflow', wasSent);
  }

  #clearAckTimer(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  #clearTimers(): void {
    this.#clearAckTimer();
    clearTimeout(this.#welcomeTimer);
    this.#welcomeTimer = undefined;
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

/** Frames a data message: a binary one that starts with the control mark is escaped; a Blob always is. */
function frame(data: WireData): WireData {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return data.length === 0 || data[0] !== MARK ? data : escape(data);
  if (ArrayBuffer.isView(data) || 'byteLength' in data) {
    const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    return bytes.length === 0 || bytes[0] !== MARK ? data : escape(bytes);
  }
  // A Blob's first byte cannot be read synchronously.
  return new Blob([ESCAPE, data]);
}

function escape(bytes: Uint8Array): Uint8Array {
  const escaped = new Uint8Array(bytes.length + 2);
  escaped.set(ESCAPE);
  escaped.set(bytes, 2);
  return escaped;
}

function isControl(data: unknown, type: number): boolean {
  if (!(data instanceof ArrayBuffer) || data.byteLength < 2) return false;
  const bytes = new Uint8Array(data, 0, 2);
  return bytes[0] === MARK && bytes[1] === type;
}

function checkNumber(name: string, value: unknown, fallback: number, min: number, max: number, isWhole = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`ResumableSocket: option "${name}" must be a number, got ${typeof value}.`);
  if (value < min || value > max || (isWhole && !Number.isInteger(value))) {
    throw new RangeError(`ResumableSocket: option "${name}" must be a ${isWhole ? 'whole ' : ''}number >= ${min} and <= ${max}, got ${value}.`);
  }
  return value;
}
