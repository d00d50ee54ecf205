import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { Emitter } from '../resume/emitter.js';
import { ResumeError } from '../resume/errors.js';
import { Inbound } from '../resume/inbound.js';
import { ACK, BYE, ESCAPED, MARK, NEXT, PING, PONG, countFrame, frameName, parseControl, pingFrame, welcomeFrame, type Outcome, type WireError } from '../resume/wire.js';
import type { SessionDropReason, SessionEndReason, SessionEvents, SessionHost, SessionSendResult } from './events.js';
import { ReplayBuffer, toBytes } from './replay.js';
import type { SessionRecord, StoredMessage } from './store.js';

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
  readonly #buffer: ReplayBuffer;
  /** What the client sent: counted, and acknowledged. */
  readonly #in: Inbound;
  /** The highest count of our messages the client acknowledged. */
  #peerAcked: number;
  #ws: WebSocket | undefined;
  #request: IncomingMessage | undefined;
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
    this.#buffer = new ReplayBuffer(record);
    this.#in = new Inbound(host.ackDelayMs, host.ackEvery, () => this.#acknowledgeNow());
    this.#in.reset(record?.received);
    this.#peerAcked = record?.acknowledged ?? 0;
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
    return this.#buffer.bytes;
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
    const buffer = this.#buffer;
    const fits = () => buffer.length < host.maxMessages && buffer.bytes + bytes <= host.maxBytes;
    if (!fits()) {
      if (host.overflow !== 'drop-oldest' || bytes > host.maxBytes || host.maxMessages === 0) {
        if (host.overflow === 'reject') return 'rejected';
        this.#events.emit('drop', { data: payload, reason: 'overflow', wasSent: false });
        return 'dropped';
      }
      while (!fits()) this.#evict('overflow');
    }
    const message: StoredMessage = { data: payload, binary, at: now };
    buffer.push(message);
    if (this.#ws?.readyState !== 1) {
      this.#host.park(this);
      return 'queued';
    }
    this.#write(message);
    buffer.written = buffer.next;
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
      this.#in.stop();
      ws.send(countFrame(BYE, this.#in.received));
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
    const buffer = this.#buffer;
    if (outcome === 'resumed' && (clientReceived > buffer.next || clientReceived < this.#peerAcked)) {
      const what = clientReceived > buffer.next ? `only ${buffer.next} were sent` : `it acknowledged ${this.#peerAcked} before`;
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
      const next = Math.max(clientReceived, buffer.first);
      ws.send(welcomeFrame({ outcome: outcome as Outcome, received: this.#in.received, next, token }));
      // Messages below `next` that the client lacks were given up (overflow, age) and reported then.
      for (let i = next - buffer.first; i < buffer.length; i++) this.#write(buffer.at(i)!);
      buffer.written = buffer.next;
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
      received: this.#in.received,
      acknowledged: this.#peerAcked,
      first: this.#buffer.first,
      messages: this.#buffer.toArray(),
    };
  }

  /** @internal Ends the session: what it still holds is dropped with a reason that fits how it ended. */
  end(reason: SessionEndReason): void {
    if (this.#isEnded) return;
    this.#isEnded = true;
    this.#in.stop();
    const drop: SessionDropReason | undefined = reason === 'expired' ? 'expired' : reason === 'failed' ? 'failed' : reason === 'moved' ? undefined : 'closed';
    const kept = this.#buffer.clear();
    if (drop) for (const [message, wasSent] of kept) this.#events.emit('drop', { data: message.data, reason: drop, wasSent });
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

  #onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws !== this.#ws || this.#isEnded) return;
    this.isAlive = true;
    if (!this.isResumable) return this.#events.emit('message', { data, isBinary });
    if (isBinary && data.length > 0 && data[0] === MARK) {
      if (data.length > 1 && data[1] === ESCAPED) data = data.subarray(2);
      else return this.#onControl(data);
    }
    if (this.#isSayingBye) return;
    if (!this.#in.take(data.length)) return;
    // Delivered before it is acknowledged: an acknowledgement never covers a message the application did not get.
    this.#events.emit('message', { data, isBinary });
    if (ws !== this.#ws) return;
    this.#in.settle();
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
        if (!this.#isSayingBye) ws.send(countFrame(ACK, this.#in.received));
        this.#isSayingBye = true;
        this.end('bye');
        ws.close(1000);
        return;
      case NEXT:
        const missed = this.#in.moveTo(control.count, true);
        if (missed > 0) this.#events.emit('gap', { missed });
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
    const next = this.#buffer.next;
    if (count > next) {
      this.#fail(`${what} acknowledged ${count} messages, but only ${next} were sent`);
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
    const buffer = this.#buffer;
    while (buffer.first < count && buffer.length) {
      const message = buffer.shift();
      if (isHeard) this.#events.emit('delivered', { data: message.data });
    }
  }

  /** Writes ACK(received) when the connection can take it. */
  #acknowledgeNow(): boolean {
    const ws = this.#ws;
    if (ws?.readyState !== 1 || this.#isSayingBye) return false;
    ws.send(countFrame(ACK, this.#in.received));
    return true;
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
    this.#in.stop();
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
    this.#in.stop();
    ws.terminate();
  }

  #write(message: StoredMessage): void {
    const { data, binary } = message;
    if (binary && typeof data !== 'string' && data.length > 0 && data[0] === MARK) this.#ws!.send(Buffer.concat([ESCAPE, data]), BINARY);
    else this.#ws!.send(data, binary ? BINARY : TEXT);
  }

  #evict(reason: SessionDropReason): void {
    const buffer = this.#buffer;
    const wasSent = buffer.first < buffer.written;
    this.#events.emit('drop', { data: buffer.shift().data, reason, wasSent });
  }

  /** Gives up messages older than `maxAgeMs`, from the front. */
  #expire(now: number): void {
    const limit = now - this.#host.maxAgeMs;
    while (this.#buffer.length && this.#buffer.at(0)!.at <= limit) this.#evict('expired');
  }

}
