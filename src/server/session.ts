import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { OverflowPolicy } from '../index.js';
import { Emitter } from '../resume/emitter.js';
import { ResumeError } from '../resume/errors.js';
import { Fifo } from '../resume/outbox.js';
import { ACK, BYE, ESCAPED, MARK, NEXT, PING, PONG, countFrame, frameName, parseControl, pingFrame, welcomeFrame, type Outcome, type WireError } from '../resume/wire.js';
import type { SessionRecord, StoredMessage } from './store.js';

/** Why a session ended. `disconnected` ends a plain session (one whose client does not speak the protocol). */
export type SessionEndReason = 'closed' | 'bye' | 'expired' | 'failed' | 'moved' | 'disconnected';

/** Why a message will not be resent: the buffer overflowed, it grew older than `maxAgeMs`, or the session ended. */
export type SessionDropReason = 'overflow' | 'expired' | 'closed' | 'failed';

/** What `session.send()` did. */
export type SessionSendResult = 'sent' | 'queued' | 'dropped' | 'rejected' | 'closed';

/** Every event of a session and its payload. */
export type SessionEvents = {
  /** A message from the client: each one once, in order, across connections. `data` is as `ws` gives it. */
  message: { data: Buffer; isBinary: boolean };
  /** The client acknowledged a message. */
  delivered: { data: string | Uint8Array };
  /** A message that will not be resent; `wasSent`: it had been written to a connection and may have arrived. */
  drop: { data: string | Uint8Array; reason: SessionDropReason; wasSent: boolean };
  /** The connection ended; the session waits `sessionTtlMs` for its client. */
  detach: { code: number; reason: string };
  /** The client came back: the session continues on a new connection. */
  resume: { request: IncomingMessage };
  /** The client gave up `missed` messages it never sent (its own buffer overflowed or they expired). */
  gap: { missed: number };
  /** The session is over; nothing more is emitted. */
  end: { reason: SessionEndReason };
};

/** What a session needs from the server that holds it. */
export interface SessionHost {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly overflow: OverflowPolicy;
  readonly ackDelayMs: number;
  readonly ackEvery: number;
  park(session: ResumeSession): void;
  ended(session: ResumeSession): void;
  error(error: ResumeError, session: ResumeSession): void;
  listenerThrew(type: string, error: unknown): void;
}

const ACK_BYTES = 262_144;
const ESCAPE = Buffer.of(MARK, ESCAPED);
const BINARY = Object.freeze({ binary: true });
const TEXT = Object.freeze({ binary: false });

/**
 * One client's session. It outlives connections: messages from the client arrive once, in order, whatever
 * reconnects happen in between, and messages sent to it are kept until it acknowledges them and resent after a
 * resume. A client that does not speak the protocol gets a plain session (`isResumable` false) that passes
 * messages through and ends with its connection.
 */
export class ResumeSession {
  /** The session's id (a hash of its token: safe to log). */
  readonly id: string;
  /** What `identify()` returned for the connection that created it. */
  readonly identity: unknown;
  /** The application subprotocol ('' if none). */
  readonly protocol: string;
  /** Whether the client speaks the resume protocol. */
  readonly isResumable: boolean;
  readonly #events: Emitter<SessionEvents>;
  readonly #host: SessionHost;
  readonly #buffer = new Fifo<StoredMessage>();
  #bytes = 0;
  /** The sequence number of the buffer's first message. */
  #first: number;
  #received: number;
  /** The highest count of our messages the client acknowledged. */
  #peerAcked: number;
  #ackedUpTo: number;
  #unackedBytes = 0;
  #skip = 0;
  /** Every message numbered below this was written to some connection (it may have arrived). */
  #written: number;
  #ws: WebSocket | undefined;
  #request: IncomingMessage | undefined;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #recovered = false;
  #isSayingBye = false;
  #isEnded = false;
  /** Answered a ping (or sent anything) since the last one. */
  isAlive = true;
  /** @internal Store calls for this session, one after another. */
  storeChain: Promise<unknown> = Promise.resolve();
  /** @internal While parked: the expiry timer. */
  expiryTimer: ReturnType<typeof setTimeout> | undefined;
  /** @internal A claim in progress (its store delete), shared by concurrent resumes. */
  claim: Promise<boolean> | undefined;
  /** @internal While parked: when it expires, and whether a store write is on its way. */
  expiresAt = 0;
  isSaving = false;

  /** @internal Made by the server helper. */
  constructor(host: SessionHost, id: string, identity: unknown, protocol: string, isResumable: boolean, record?: SessionRecord) {
    this.#host = host;
    this.id = id;
    this.identity = identity;
    this.protocol = protocol;
    this.isResumable = isResumable;
    this.#events = new Emitter((type, error) => host.listenerThrew(type, error));
    this.#first = record?.first ?? 0;
    this.#received = this.#ackedUpTo = record?.received ?? 0;
    this.#peerAcked = record?.acknowledged ?? 0;
    for (const message of record?.messages ?? []) this.#keep(message);
    this.#written = this.#next;
  }

  // ── views ──────────────────────────────────────────────────────────────────────────────────────────────

  /** Whether the current connection continued this session (false on the connection that created it). */
  get recovered(): boolean {
    return this.#recovered;
  }
  /** Whether a connection holds the session now. */
  get isConnected(): boolean {
    return this.#ws !== undefined;
  }
  get isEnded(): boolean {
    return this.#isEnded;
  }
  /** The current connection, if any. */
  get socket(): WebSocket | undefined {
    return this.#ws;
  }
  /** The upgrade request of the current (or last) connection. */
  get request(): IncomingMessage | undefined {
    return this.#request;
  }
  /** Messages kept for resending (sent or waiting, not yet acknowledged). */
  get buffered(): number {
    return this.#buffer.length;
  }
  /** Their bytes. */
  get bufferedBytes(): number {
    return this.#bytes;
  }
  /** Bytes the current connection has not yet written to the network (`ws`'s `bufferedAmount`). */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  on<K extends keyof SessionEvents>(type: K, listener: (event: SessionEvents[K]) => void): () => void {
    return this.#isEnded ? () => {} : this.#events.on(type, listener);
  }
  once<K extends keyof SessionEvents>(type: K, listener: (event: SessionEvents[K]) => void): () => void {
    return this.#isEnded ? () => {} : this.#events.once(type, listener);
  }
  off<K extends keyof SessionEvents>(type: K, listener: (event: SessionEvents[K]) => void): void {
    this.#events.off(type, listener);
  }

  // ── calls ──────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Sends a message: strings as text, bytes as binary (or as text with `{ binary: false }`). It is kept until
   * the client acknowledges it, written now if connected (`sent`) or after the client resumes (`queued`), and
   * ends in one `delivered` or one `drop`. `dropped`/`rejected`: the buffer is full (see `overflow`); `closed`:
   * the session is over. A plain session writes it or answers `closed`.
   */
  send(data: string | Buffer | ArrayBuffer | ArrayBufferView, options?: { binary?: boolean }): SessionSendResult {
    if (this.#isEnded || this.#isSayingBye) return 'closed';
    const payload = typeof data === 'string' ? data : toBytes(data);
    const binary = typeof data === 'string' ? false : options?.binary ?? true;
    if (!this.isResumable) {
      if (this.#ws?.readyState !== 1) return 'closed';
      this.#ws.send(payload, binary ? BINARY : TEXT);
      return 'sent';
    }
    const now = Date.now();
    this.#expire(now);
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    const host = this.#host;
    const fits = () => this.#buffer.length < host.maxMessages && this.#bytes + bytes <= host.maxBytes;
    if (!fits()) {
      if (host.overflow !== 'drop-oldest' || bytes > host.maxBytes || host.maxMessages === 0) {
        if (host.overflow === 'reject') return 'rejected';
        this.#events.emit('drop', { data: payload, reason: 'overflow', wasSent: false });
        return 'dropped';
      }
      while (!fits()) this.#evict('overflow');
    }
    const message: StoredMessage = { data: payload, binary, at: now };
    this.#keep(message);
    if (this.#ws?.readyState !== 1) {
      this.#host.park(this);
      return 'queued';
    }
    this.#write(message);
    this.#written = this.#next;
    return 'sent';
  }

  /**
   * Ends the session: tells the client (BYE, with its last acknowledgement), then closes the connection with
   * `code` and `reason`. Unacknowledged messages are dropped (`closed`). The client starts a new session if it
   * reconnects.
   */
  close(code = 1000, reason = ''): void {
    if (this.#isEnded) return;
    const ws = this.#ws;
    if (ws?.readyState === 1 && this.isResumable) {
      this.#isSayingBye = true;
      this.#clearAckTimer();
      ws.send(countFrame(BYE, this.#received));
    }
    this.end('closed');
    ws?.close(code, reason);
  }

  // ── the connection (called by the server helper) ───────────────────────────────────────────────────────

  /**
   * @internal Attaches a connection: WELCOME, then the replay from the client's count, then the frames that
   * arrived meanwhile. A connection still attached (a half-open one the server has not noticed) is dropped.
   * Returns false (and fails the connection) when the client's count is impossible.
   */
  attach(ws: WebSocket, request: IncomingMessage, outcome: Outcome | 'plain', token: string, clientReceived: number, early: [Buffer, boolean][]): boolean {
    if (outcome === 'resumed' && (clientReceived > this.#next || clientReceived < this.#peerAcked)) {
      const what = clientReceived > this.#next ? `only ${this.#next} were sent` : `it acknowledged ${this.#peerAcked} before`;
      this.#host.error(new ResumeError('RESUME_PROTOCOL', `resume: session ${this.id}: the client offers to resume after ${clientReceived} messages, but ${what}`), this);
      ws.close(1002, 'resume: impossible count');
      return false;
    }
    this.#supersede();
    this.#ws = ws;
    this.#request = request;
    this.#recovered = outcome === 'resumed';
    this.isAlive = true;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(ws, data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(ws, code, reason.toString()));
    ws.on('pong', () => (this.isAlive = true));
    if (this.isResumable) {
      if (outcome === 'resumed') this.#acknowledge(clientReceived);
      this.#expire(Date.now());
      const next = Math.max(clientReceived, this.#first);
      ws.send(welcomeFrame({ outcome: outcome as Outcome, received: this.#received, next, token }));
      // Messages below `next` that the client lacks were given up (overflow, age) and reported then.
      for (let i = next - this.#first; i < this.#buffer.length; i++) this.#write(this.#buffer.at(i)!);
      this.#written = this.#next;
    }
    for (const [data, isBinary] of early) this.#onMessage(ws, data, isBinary);
    if (this.#recovered) this.#events.emit('resume', { request });
    return true;
  }

  /** @internal The record the store keeps while the session is parked. */
  toRecord(expiresAt: number): SessionRecord {
    return {
      id: this.id,
      identity: this.identity,
      protocol: this.protocol,
      expiresAt,
      received: this.#received,
      acknowledged: this.#peerAcked,
      first: this.#first,
      messages: this.#buffer.toArray(),
    };
  }

  /** @internal Ends the session: what it still holds is dropped with a reason that fits how it ended. */
  end(reason: SessionEndReason): void {
    if (this.#isEnded) return;
    this.#isEnded = true;
    this.#clearAckTimer();
    const drop: SessionDropReason | undefined = reason === 'expired' ? 'expired' : reason === 'failed' ? 'failed' : reason === 'moved' ? undefined : 'closed';
    const kept = this.#buffer.clear();
    const first = this.#first;
    this.#first += kept.length;
    this.#bytes = 0;
    if (drop) kept.forEach((message, i) => this.#events.emit('drop', { data: message.data, reason: drop, wasSent: first + i < this.#written }));
    this.#host.ended(this);
    this.#events.emit('end', { reason });
    this.#events.clear();
  }

  /** @internal Forces the current connection down (it stopped answering pings). */
  terminate(): void {
    this.#ws?.terminate();
  }

  /** @internal Pings the current connection. */
  ping(): void {
    try {
      this.#ws?.ping();
    } catch {
      // Not open any more: its close event follows.
    }
  }

  // ── frames ─────────────────────────────────────────────────────────────────────────────────────────────

  get #next(): number {
    return this.#first + this.#buffer.length;
  }

  #onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws !== this.#ws || this.#isEnded) return;
    this.isAlive = true;
    if (!this.isResumable) return this.#events.emit('message', { data, isBinary });
    if (isBinary && data.length > 0 && data[0] === MARK) {
      if (data.length > 1 && data[1] === ESCAPED) data = data.subarray(2);
      else return this.#onControl(data);
    }
    if (this.#isSayingBye) return;
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    this.#received++;
    this.#unackedBytes += data.length;
    // Delivered before it is acknowledged: an acknowledgement never covers a message the application did not get.
    this.#events.emit('message', { data, isBinary });
    if (ws !== this.#ws) return;
    if (this.#received - this.#ackedUpTo >= this.#host.ackEvery || this.#unackedBytes >= ACK_BYTES) this.#acknowledgeNow();
    else this.#ackTimer ??= setTimeout(() => this.#acknowledgeNow(), this.#host.ackDelayMs);
  }

  #onControl(bytes: Buffer): void {
    let control;
    try {
      control = parseControl(bytes);
    } catch (error) {
      return this.#fail((error as WireError).message);
    }
    switch (control.type) {
      case ACK:
        this.#acknowledged(control.count, 'ACK');
        return;
      case BYE:
        // The client ends the session: it has what it acknowledges; our last acknowledgement answers it.
        if (!this.#acknowledged(control.count, 'BYE')) return;
        const ws = this.#ws!;
        if (!this.#isSayingBye) ws.send(countFrame(ACK, this.#received));
        this.#isSayingBye = true;
        this.end('bye');
        ws.close(1000);
        return;
      case NEXT:
        if (control.count >= this.#received) {
          const missed = control.count - this.#received;
          this.#received = this.#ackedUpTo = control.count;
          if (missed > 0) this.#events.emit('gap', { missed });
        } else this.#skip = this.#received - control.count;
        return;
      case PING:
        this.#ws!.send(pingFrame(PONG, control.payload));
        return;
      case PONG:
        return;
      default:
        return this.#fail(`${frameName(control.type)} from a client`);
    }
  }

  #acknowledged(count: number, what: string): boolean {
    if (count > this.#next) {
      this.#fail(`${what} acknowledged ${count} messages, but only ${this.#next} were sent`);
      return false;
    }
    if (count < this.#peerAcked) {
      this.#fail(`${what} acknowledged ${count} messages, after acknowledging ${this.#peerAcked}`);
      return false;
    }
    this.#acknowledge(count);
    return true;
  }

  #acknowledge(count: number): void {
    this.#peerAcked = count;
    const isHeard = this.#events.has('delivered');
    while (this.#first < count && this.#buffer.length) {
      const message = this.#take();
      if (isHeard) this.#events.emit('delivered', { data: message.data });
    }
  }

  #acknowledgeNow(): void {
    this.#clearAckTimer();
    const ws = this.#ws;
    if (ws?.readyState !== 1 || this.#isSayingBye) return;
    ws.send(countFrame(ACK, this.#received));
    this.#ackedUpTo = this.#received;
    this.#unackedBytes = 0;
  }

  /** The client broke the protocol: the session cannot be trusted; it ends and the connection closes with 1002. */
  #fail(what: string): void {
    const ws = this.#ws;
    this.#host.error(new ResumeError('RESUME_PROTOCOL', `resume: session ${this.id}: ${what}; the session ends (close 1002)`), this);
    this.end('failed');
    ws?.close(1002, 'resume protocol error');
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    this.#clearAckTimer();
    if (this.#isEnded) return;
    if (!this.isResumable) return this.end('disconnected');
    this.#events.emit('detach', { code, reason });
    if (!this.#isEnded) this.#host.park(this);
  }

  /** A connection still attached when a new one resumes: it is dropped without a word; its frames are ignored. */
  #supersede(): void {
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = undefined;
    this.#clearAckTimer();
    ws.terminate();
  }

  #write(message: StoredMessage): void {
    const { data, binary } = message;
    if (binary && typeof data !== 'string' && data.length > 0 && data[0] === MARK) this.#ws!.send(Buffer.concat([ESCAPE, data]), BINARY);
    else this.#ws!.send(data, binary ? BINARY : TEXT);
  }

  #keep(message: StoredMessage): void {
    this.#buffer.push(message);
    this.#bytes += typeof message.data === 'string' ? Buffer.byteLength(message.data) : message.data.length;
  }

  #take(): StoredMessage {
    const message = this.#buffer.shift()!;
    this.#first++;
    this.#bytes -= typeof message.data === 'string' ? Buffer.byteLength(message.data) : message.data.length;
    return message;
  }

  #evict(reason: SessionDropReason): void {
    const index = this.#first;
    const message = this.#take();
    this.#events.emit('drop', { data: message.data, reason, wasSent: index < this.#written });
  }

  /** Gives up messages older than `maxAgeMs`, from the front. */
  #expire(now: number): void {
    const limit = now - this.#host.maxAgeMs;
    while (this.#buffer.length && this.#buffer.at(0)!.at <= limit) this.#evict('expired');
  }

  #clearAckTimer(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }
}

/**
 * The bytes of a message, as kept for resending. A small view of a large buffer is copied: `ws` hands out
 * messages as slices of what it read (64 KiB at a time), and keeping the slice would keep all of it, far beyond
 * what `maxBytes` counts.
 */
function toBytes(data: Buffer | ArrayBuffer | ArrayBufferView): Uint8Array {
  const bytes = Buffer.isBuffer(data) ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
  return bytes.buffer.byteLength > 8192 && bytes.byteLength * 2 < bytes.buffer.byteLength ? Buffer.from(bytes) : bytes;
}
