import type { CloseRecord, ProviderContext, RawMessage, ReconnectingSocket, SendResult, SocketError, SocketOpenEvent, SocketStateEvent, StateName, WireData } from '../index.js';
import type { Emitter } from './emitter.js';
import { ResumeError } from './errors.js';
import { Inbound } from './inbound.js';
import type { Entry, Outbox } from './outbox.js';
import type { ResumableSocketOptions, ResumeDropReason, ResumeOutcome, ResumeSnapshot, ResumeSocketEvents } from './types.js';
import { ACK, BYE, ESCAPED, MARK, NEXT, PING, PONG, WELCOME, WireError } from './wire.js';
import { applicationProtocol, buildOffer, countFrame, frameData, frameName, isResumeProtocol, parseControl, pingFrame, type Welcome } from './wire.js';

/** What the current connection runs: nothing yet, the wait for WELCOME, the resume protocol, or plain. */
export const NONE = 0;
export const HANDSHAKE = 1;
export const RESUMING = 2;
export const PLAIN = 3;

/** Protocol errors in a row (no good WELCOME between them) after which the socket stops offering the protocol. */
const MAX_FAILURES = 3;

/** What the protocol needs from the `ResumableSocket` it runs in: its reports, and whether you closed it. */
export interface LinkHost<Out> {
  readonly events: Emitter<ResumeSocketEvents<any, Out>>;
  readonly debug: ((message: string, detail?: unknown) => void) | undefined;
  /** `close()` was called (or the policy gave up): nothing new goes out, and a protocol error does not reconnect. */
  isStopped(): boolean;
  isDisposed(): boolean;
  /** Decodes and emits a data message (`event`: the inner socket's, to reuse when the payload is the same). */
  deliver(data: string | ArrayBuffer, event?: { data: unknown }): void;
  drop(message: Out, reason: ResumeDropReason, wasSent: boolean): void;
  error(error: SocketError | ResumeError): void;
  /** The state listeners see changed. */
  show(to: StateName): void;
}

/**
 * The client's side of the resume protocol (docs/protocol.md) over the inner socket's successive connections:
 * the offer at each attempt, WELCOME, control frames, numbering and resending what the outbox holds, counting and
 * acknowledging what arrives, and the session's end. `ResumableSocket` feeds it the inner socket's events.
 */
export class Link<Out> {
  mode = NONE;
  readonly #inner: ReconnectingSocket<RawMessage, WireData>;
  readonly #outbox: Outbox<Out>;
  readonly #host: LinkHost<Out>;
  readonly #protocols: ResumableSocketOptions['protocols'];
  readonly #welcomeTimeoutMs: number;
  /** The session's token (from WELCOME); `undefined` while there is none. */
  #token: string | undefined;
  /** What the server sent in this session: counted, and acknowledged. */
  readonly #in: Inbound;
  /** BYE went out on this connection: what the server sends after it is not delivered (it reports it). */
  isSayingBye = false;
  /** The highest count the server acknowledged in this session. */
  #peerAcked = 0;
  #welcomeTimer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #isResumeOff = false;
  /** The last offer carried subprotocols of the application's own. */
  #hadApplicationProtocols = false;

  constructor(
    inner: ReconnectingSocket<RawMessage, WireData>,
    outbox: Outbox<Out>,
    host: LinkHost<Out>,
    protocols: ResumableSocketOptions['protocols'],
    welcomeTimeoutMs: number,
    { ackDelayMs, ackEvery }: { ackDelayMs: number; ackEvery: number },
  ) {
    this.#inner = inner;
    this.#outbox = outbox;
    this.#host = host;
    this.#protocols = protocols;
    this.#welcomeTimeoutMs = welcomeTimeoutMs;
    this.#in = new Inbound(ackDelayMs, ackEvery, () => this.#acknowledgeNow());
  }

  /** Whether the current connection speaks the protocol (waiting for WELCOME, or running it). */
  get speaksResume(): boolean {
    return this.mode === HANDSHAKE || this.mode === RESUMING;
  }

  // ── the inner socket ───────────────────────────────────────────────────────────────────────────────────

  /** The subprotocols for an attempt: the application's, the resume variants, and the session to resume. */
  offer(context: ProviderContext): string[] | undefined | Promise<string[] | undefined> {
    const protocols = this.#protocols;
    const build = (value: string | string[] | undefined) => {
      const application = value === undefined ? [] : typeof value === 'string' ? [value] : value;
      this.#hadApplicationProtocols = application.length > 0;
      if (this.#isResumeOff) return application.length ? application : undefined;
      return buildOffer(application, this.#token === undefined ? undefined : { token: this.#token, received: this.#in.received });
    };
    if (typeof protocols !== 'function') return build(protocols);
    const value = protocols(context);
    return value instanceof Promise ? value.then(build) : build(value);
  }

  onState({ to }: SocketStateEvent): void {
    const inner = this.#inner;
    if (to === 'open') {
      // The connection is gone already (its close follows): it never opened for our listeners.
      if (inner.state !== 'open') return;
      this.isSayingBye = false;
      if (!this.#isResumeOff && isResumeProtocol(inner.protocol)) {
        this.mode = HANDSHAKE;
        this.#welcomeTimer = setTimeout(() => this.#welcomeTimedOut(), this.#welcomeTimeoutMs);
        return;
      }
      this.mode = PLAIN;
    } else if (to !== 'closing' || this.mode === HANDSHAKE) this.leave();
    // While closing, the server's last acknowledgements (and a plain connection's last messages) still count; a
    // handshake is abandoned.
    this.#host.show(this.mode === HANDSHAKE ? 'connecting' : to);
  }

  onOpen(event: SocketOpenEvent): void {
    if (this.mode !== PLAIN || this.#inner.state !== 'open') return;
    const { events, debug } = this.#host;
    debug?.('resume: the server did not agree to the resume protocol; this connection runs plain');
    events.emit('open', { attempt: event.attempt, protocol: applicationProtocol(event.protocol), recovered: false, resume: 'unsupported', missed: 0 });
    events.after(() => this.flush());
    // A session the server no longer speaks for: what it did not acknowledge cannot be resent (reported after the
    // backlog's turn, as at a WELCOME).
    if (this.#token !== undefined || this.#outbox.sent.length) this.loseSession('lost');
  }

  /** A message from the inner socket; its event object is passed on as it is when nothing changes it. */
  onMessage(event: { data: string | ArrayBuffer }): void {
    let data = event.data;
    const mode = this.mode;
    if (mode === PLAIN) return this.#host.deliver(data, event);
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
    if (this.isSayingBye) return;
    if (!this.#in.take(typeof data === 'string' ? data.length : data.byteLength)) return;
    // Delivered before it is acknowledged: an acknowledgement never covers a message the application did not get.
    this.#host.deliver(data, data === event.data ? event : undefined);
    if (this.mode === RESUMING) this.#in.settle();
  }

  /**
   * An error of the inner socket: reported. And `ws` (the client in Node) fails a handshake whose response selects
   * no subprotocol when some were offered (browsers accept it). A server that selects none does not speak the
   * protocol: stop offering it, so the socket connects plain, as a `ReconnectingSocket` would, and retry at once.
   */
  onError(error: SocketError): void {
    this.#host.error(error);
    if (this.#isResumeOff || this.#hadApplicationProtocols || !/sent no subprotocol/i.test(error.message)) return;
    this.#isResumeOff = true;
    this.#host.debug?.('resume: the server selected no subprotocol; offering none from now on (plain)');
    if (!this.#host.isStopped() && !this.#host.isDisposed()) this.#inner.reconnect();
  }

  /**
   * The reconnect policy's question about a connection that ended. One the server closed with 1002 before its
   * WELCOME refused the session offered (a count it cannot have: another socket continued the session since,
   * from the same snapshot), and would refuse it again: the session is given up, as after a protocol error, and
   * the answer is to reconnect, with a new session, whatever the policy says of 1002.
   */
  isRefusal({ code }: CloseRecord): boolean {
    if (this.mode !== HANDSHAKE || code !== 1002 || this.#token === undefined) return false;
    this.#fail('the server refused the session offered (close 1002 before WELCOME)', 'RESUME_PROTOCOL', false);
    return true;
  }

  /** The connection is over (closed, given up on, or disposed): timers stop; the session and its messages stay. */
  leave(): void {
    this.mode = NONE;
    this.stop();
  }

  /** Stops the timers. */
  stop(): void {
    this.#in.stop();
    clearTimeout(this.#welcomeTimer);
    this.#welcomeTimer = undefined;
  }

  // ── frames ─────────────────────────────────────────────────────────────────────────────────────────────

  #onControl(bytes: Uint8Array): void {
    let control;
    try {
      control = parseControl(bytes);
    } catch (error) {
      return this.#fail((error as WireError).message);
    }
    if (this.mode === HANDSHAKE ? control.type !== WELCOME && control.type !== PING && control.type !== PONG : control.type === WELCOME) {
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
        if (!this.isSayingBye) this.writeFrame(countFrame(ACK, this.#in.received));
        this.isSayingBye = true;
        this.#in.stop();
        return this.loseSession('lost');
      case NEXT:
        this.#in.moveTo(control.count);
        return;
      case PING:
        this.writeFrame(pingFrame(PONG, control.payload));
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
    this.mode = RESUMING;
    this.#failures = 0;
    const { events, drop, show } = this.#host;
    const missed = isResumed ? this.#in.moveTo(welcome.next) : 0;
    show('open');
    const resume = welcome.outcome as ResumeOutcome;
    events.emit('open', { attempt: this.#inner.attempt, protocol: applicationProtocol(this.#inner.protocol), recovered: isResumed, resume, missed });
    events.after(() => this.flush());
    // What the WELCOME settles (deliveries, drops) is reported after the backlog's turn, as the core reports what
    // expired: a delivered or drop listener's send goes behind what waited. The change itself is made now.
    if (isResumed) {
      this.#acknowledged(welcome.received, 'WELCOME');
      // The offer told the server what we have.
      this.#in.markAcked();
    } else {
      this.loseSession('lost');
      this.#token = welcome.token;
    }
    const expired = outbox.expire(Date.now());
    // We gave up messages the server has not seen (overflow, expiry): say where ours continue.
    if (outbox.base > welcome.received) this.writeFrame(countFrame(NEXT, outbox.base));
    for (let i = 0; i < outbox.sent.length; i++) this.write(outbox.sent.at(i)!.data);
    for (const [entry, wasSent] of expired) drop(entry.message, 'expired', wasSent);
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
    const { events } = this.#host;
    if (events.has('delivered')) for (const entry of done) events.emit('delivered', { message: entry.message });
    return true;
  }

  /** Writes ACK(received) when the connection can take it. */
  #acknowledgeNow(): boolean {
    return this.mode === RESUMING && !this.isSayingBye && this.#inner.state === 'open' && this.writeFrame(countFrame(ACK, this.#in.received));
  }

  #welcomeTimedOut(): void {
    this.#welcomeTimer = undefined;
    if (this.mode !== HANDSHAKE) return;
    this.#fail(`the server selected ${this.#inner.protocol} but sent no WELCOME within ${this.#welcomeTimeoutMs} ms`, 'WELCOME_TIMEOUT');
  }

  /**
   * The server broke the protocol (or refused the offer): its session cannot be trusted, so it is given up (what
   * it did not acknowledge is dropped, `lost`) and a new connection starts a new one. After MAX_FAILURES in a row the
   * socket stops offering the protocol.
   */
  #fail(what: string, code: 'RESUME_PROTOCOL' | 'WELCOME_TIMEOUT' = 'RESUME_PROTOCOL', isOpen = true): void {
    // One change, also from a timer or the reconnect policy: its events wait until it is done.
    this.#host.events.batch(() => {
      this.leave();
      this.loseSession('lost');
      const isLast = ++this.#failures >= MAX_FAILURES;
      if (isLast) this.#isResumeOff = true;
      const next = isLast ? `the socket stops offering the resume protocol after ${MAX_FAILURES} failures in a row` : 'reconnecting with a new session';
      this.#host.error(new ResumeError(code, `resume: ${what}; ${next}. Check the server's resume implementation (docs/protocol.md).`));
      // A close you asked for runs its course; otherwise the next connection starts at once (a connection that is
      // over already has its retry planned).
      if (isOpen && !this.#host.isStopped()) this.#inner.reconnect();
    });
  }

  // ── sending ────────────────────────────────────────────────────────────────────────────────────────────

  /** Writes what waited for the connection, after the `open` listeners' own sends. */
  flush(): void {
    const outbox = this.#outbox;
    if (!outbox.unsent.length) return;
    const { drop, isStopped } = this.#host;
    for (const [entry, wasSent] of outbox.expire(Date.now())) drop(entry.message, 'expired', wasSent);
    while (outbox.unsent.length && this.#inner.state === 'open' && !isStopped() && !this.isSayingBye) {
      const entry = outbox.unsent.at(0)!;
      if (this.mode === RESUMING) {
        if (!this.write(entry.data)) return;
        outbox.shiftUnsent();
        outbox.pushSent(entry);
      } else if (this.mode === PLAIN) {
        outbox.shiftUnsent();
        const result = this.sendPlain(entry.data);
        if (result !== 'sent') drop(entry.message, result === 'closed' || result === 'disposed' ? result : 'failed', false);
      } else return;
    }
  }

  sendPlain(data: WireData): SendResult {
    const result = this.#inner.send(data);
    // The inner socket must never hold a frame: it would send it first on the next connection, before WELCOME.
    if (result === 'queued') this.#inner.clearQueue();
    return result === 'queued' ? 'failed' : result;
  }

  /** Writes a data message (framed here) on the open connection; false if it did not go out. */
  write(data: WireData): boolean {
    return this.writeFrame(frameData(data));
  }

  /** Writes a frame as it is. */
  writeFrame(data: WireData): boolean {
    const result = this.#inner.send(data);
    if (result === 'queued') this.#inner.clearQueue();
    return result === 'sent';
  }

  /** `close()` on a resume connection: BYE, with the last acknowledgement; nothing is written or delivered after it. */
  sayBye(): void {
    if (this.mode !== RESUMING || this.#inner.state !== 'open' || this.isSayingBye) return;
    this.#in.stop();
    this.isSayingBye = this.writeFrame(countFrame(BYE, this.#in.received));
  }

  // ── the session ────────────────────────────────────────────────────────────────────────────────────────

  /** Forgets the session: what the server did not acknowledge cannot be resent (`reason`). Unsent messages stay. */
  loseSession(reason: ResumeDropReason): void {
    const outbox = this.#outbox;
    const lost: Entry<Out>[] = [];
    for (let entry = outbox.shiftSent(); entry; entry = outbox.shiftSent()) lost.push(entry);
    outbox.base = 0;
    this.#token = undefined;
    this.#in.reset();
    this.#peerAcked = 0;
    for (const entry of lost) this.#host.drop(entry.message, reason, true);
  }

  /** Continues the session of a snapshot (throws a TypeError for one that `handOff()` cannot have made). */
  restore({ token, received, base, sent, unsent }: ResumeSnapshot<Out>): void {
    const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
    if (!isCount(received) || !isCount(base) || !Array.isArray(sent) || !Array.isArray(unsent) || (token !== undefined && typeof token !== 'string')) {
      throw new TypeError('ResumableSocket: option "resume.session" must be what handOff() returned.');
    }
    this.#token = token;
    this.#in.reset(received);
    this.#peerAcked = base;
    this.#outbox.restore(base, sent, unsent);
  }

  /**
   * The session and every message still held, as plain data; the outbox is emptied (no `drop` follows). What was
   * received is acknowledged first (on a resume connection), so the server does not send it again to the socket
   * that continues the session.
   */
  snapshot(): ResumeSnapshot<Out> {
    this.#in.now();
    return { token: this.#token, received: this.#in.received, ...this.#outbox.handOff() };
  }
}
