import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import type { OverflowPolicy } from '../index.js';
import { Emitter } from '../resume/emitter.js';
import { ResumeError, describe } from '../resume/errors.js';
import { applicationProtocol, isResumeProtocol, type Outcome } from '../resume/wire.js';
import { negotiation, type HandleProtocols, type Offer } from './negotiation.js';
import { resolveOptions, type ResumeAuthorization, type ResumeServerOptions } from './options.js';
import type { SessionHost } from './events.js';
import { ResumeSession } from './session.js';
import type { SessionRecord, SessionStore } from './store.js';

/** Events of the server helper. */
export type ResumeServerEvents = {
  /**
   * A session begins on this server: a new one (`session.recovered` false), or one parked by another server
   * that shares the store (`recovered` true). Plain clients get a session too (`isResumable` false).
   */
  session: { session: ResumeSession; request: IncomingMessage };
  /** Something went wrong (a client broke the protocol, a hook or the store failed); `session` if it had one. */
  error: { error: ResumeError; session?: ResumeSession };
};

/**
 * The resume protocol for a `ws` server: see `attachResume()`.
 */
export class ResumeServer implements SessionHost {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly overflow: OverflowPolicy;
  readonly ackDelayMs: number;
  readonly ackEvery: number;
  readonly #sessionTtlMs: number;
  readonly #store: SessionStore;
  readonly #identify: (request: IncomingMessage) => unknown;
  readonly #authorize: (context: ResumeAuthorization) => boolean | Promise<boolean>;
  readonly #wss: WebSocketServer;
  readonly #events = new Emitter<ResumeServerEvents>((type, error) => this.listenerThrew(type, error));
  readonly #previous: HandleProtocols | undefined;
  readonly #offers = new WeakMap<IncomingMessage, Offer>();
  /** Sessions this server holds: connected or parked. */
  readonly #sessions = new Map<string, ResumeSession>();
  /** Sessions with a connection, plain ones included (pinged). */
  readonly #connected = new Set<ResumeSession>();
  readonly #onConnection = (ws: WebSocket, request: IncomingMessage) => void this.#accept(ws, request);
  readonly #pingTimer: ReturnType<typeof setInterval> | undefined;
  #isClosed = false;

  constructor(wss: WebSocketServer, options: ResumeServerOptions = {}) {
    const { settings, store } = resolveOptions(wss, options);
    this.maxMessages = settings.maxMessages;
    this.maxBytes = settings.maxBytes;
    this.maxAgeMs = settings.maxAgeMs;
    this.overflow = settings.overflow;
    this.ackDelayMs = settings.ackDelayMs;
    this.ackEvery = settings.ackEvery;
    this.#sessionTtlMs = settings.sessionTtlMs;
    this.#store = store;
    this.#identify = options.identify ?? (() => undefined);
    this.#authorize = options.authorizeResume ?? (({ identity, session }) => Object.is(identity, session.identity));
    this.#wss = wss;
    this.#previous = wss.options.handleProtocols as HandleProtocols | undefined;
    wss.options.handleProtocols = negotiation(this.#previous, this.#offers, (error) => this.#report(error));
    wss.on('connection', this.#onConnection);
    if (settings.pingIntervalMs !== false) {
      this.#pingTimer = setInterval(() => this.#pingAll(), settings.pingIntervalMs);
      this.#pingTimer.unref?.();
    }
  }

  /** Sessions this server holds, connected or waiting for their client. */
  get sessions(): ReadonlyMap<string, ResumeSession> {
    return this.#sessions;
  }

  on<K extends keyof ResumeServerEvents>(type: K, listener: (event: ResumeServerEvents[K]) => void): () => void {
    return this.#events.on(type, listener);
  }
  once<K extends keyof ResumeServerEvents>(type: K, listener: (event: ResumeServerEvents[K]) => void): () => void {
    return this.#events.once(type, listener);
  }
  off<K extends keyof ResumeServerEvents>(type: K, listener: (event: ResumeServerEvents[K]) => void): void {
    this.#events.off(type, listener);
  }

  /**
   * Detaches from the `ws` server (its `handleProtocols` is restored) and ends every session this server holds
   * (`closed`: each connected client is told, BYE, and its connection closed with `code`).
   *
   * With `keepSessions`, resumable sessions are not ended: their connections are closed with `code` and the
   * sessions parked in the store, so that another server sharing it continues them (a rolling restart behind a
   * load balancer). Plain sessions end either way.
   */
  close(code = 1001, reason = 'server closing', options?: { keepSessions?: boolean }): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearInterval(this.#pingTimer);
    this.#wss.off('connection', this.#onConnection);
    this.#wss.options.handleProtocols = this.#previous;
    for (const session of [...this.#sessions.values(), ...this.#connected]) {
      if (options?.keepSessions && session.isResumable) session.socket?.close(code, reason);
      else session.close(code, reason);
    }
  }

  // ── the handshake ──────────────────────────────────────────────────────────────────────────────────────

  async #accept(ws: WebSocket, request: IncomingMessage): Promise<void> {
    ws.on('error', () => {});
    ws.binaryType = 'nodebuffer';
    const offer = this.#offers.get(request);
    if (!offer || !isResumeProtocol(ws.protocol)) {
      const session = new ResumeSession(this, '', undefined, ws.protocol, false);
      return this.#begin(session, ws, request, 'plain', '', 0, [], true);
    }
    // Frames that arrive while the session is looked up are handled, in order, once it is attached.
    const early: [Buffer, boolean][] = [];
    const hold = (data: Buffer, isBinary: boolean) => early.push([data, isBinary]);
    ws.on('message', hold);
    const protocol = applicationProtocol(ws.protocol);
    let identity: unknown;
    try {
      identity = await this.#identify(request);
    } catch (error) {
      this.#report(new ResumeError('HOOK_THREW', `resume: identify threw: ${describe(error)}; connection closed (1011)`, { cause: error }));
      ws.close(1011, 'identify failed');
      return;
    }
    let outcome: Outcome = offer.isBadSession ? 'unknown' : 'new';
    let claimed: { session: ResumeSession; isNew: boolean } | undefined;
    if (offer.session) {
      const result = await this.#claim(offer.session.token, identity, request);
      if (typeof result === 'string') outcome = result;
      else {
        claimed = result;
        outcome = 'resumed';
      }
    }
    ws.off('message', hold);
    if (this.#isClosed) {
      ws.close(1001, 'server closing');
      if (claimed) this.#repark(claimed.session);
      return;
    }
    if (claimed) {
      if (ws.readyState !== 1) return this.#repark(claimed.session);
      return this.#begin(claimed.session, ws, request, 'resumed', offer.session!.token, offer.session!.received, early, claimed.isNew);
    }
    if (ws.readyState !== 1) return;
    const token = randomBytes(16).toString('base64url');
    const session = new ResumeSession(this, sessionId(token), identity, protocol, true);
    this.#begin(session, ws, request, outcome, token, 0, early, true);
  }

  #begin(session: ResumeSession, ws: WebSocket, request: IncomingMessage, outcome: Outcome | 'plain', token: string, received: number, early: [Buffer, boolean][], isNew: boolean): void {
    if (!session.attach(ws, request, outcome, token, received, early)) {
      if (outcome === 'resumed') this.#repark(session);
      return;
    }
    if (session.isEnded) return;
    clearTimeout(session.expiryTimer);
    session.expiryTimer = undefined;
    session.claim = undefined;
    if (session.isResumable) this.#sessions.set(session.id, session);
    this.#connected.add(session);
    ws.once('close', () => {
      if (session.socket === undefined) this.#connected.delete(session);
    });
    if (isNew) this.#events.emit('session', { session, request });
  }

  /**
   * Finds and claims the session of `token`: here (parked or still connected) or in the store. Answers
   * `unknown` or `refused`, or the session.
   */
  async #claim(token: string, identity: unknown, request: IncomingMessage): Promise<Outcome | { session: ResumeSession; isNew: boolean }> {
    const id = sessionId(token);
    const local = this.#sessions.get(id);
    let record: SessionRecord | undefined;
    if (!local) {
      try {
        record = await this.#store.get(id);
      } catch (error) {
        this.#report(new ResumeError('STORE_FAILED', `resume: store.get failed: ${describe(error)}; the client gets a new session`, { cause: error }));
        return 'unknown';
      }
      if (!record || record.expiresAt <= Date.now()) return 'unknown';
    }
    const owner = local ? local.identity : record!.identity;
    let isAllowed: boolean;
    try {
      isAllowed = (await this.#authorize({ request, identity, session: { id, identity: owner } })) === true;
    } catch (error) {
      this.#report(new ResumeError('HOOK_THREW', `resume: authorizeResume threw: ${describe(error)}; resume refused`, { cause: error }));
      isAllowed = false;
    }
    if (!isAllowed) return 'refused';
    if (local) {
      if (local.isEnded) return 'unknown';
      // A connected session is this server's to hand over; a parked one is claimed from the store first, so a
      // server sharing the store cannot continue it too. Concurrent resumes share one claim; the last one wins.
      local.claim ??= local.isConnected ? Promise.resolve(true) : this.#storeDelete(local);
      if (!(await local.claim)) {
        local.end('moved');
        return 'unknown';
      }
      return local.isEnded ? 'unknown' : { session: local, isNew: false };
    }
    const session = new ResumeSession(this, id, record!.identity, record!.protocol, true, record);
    const isClaimed = await this.#storeDelete(session);
    return isClaimed ? { session, isNew: true } : 'unknown';
  }

  // ── sessions between connections ───────────────────────────────────────────────────────────────────────

  /**
   * @internal A session's connection ended, or it changed while waiting: it is (re)written to the store, once
   * per burst of changes, and expires `sessionTtlMs` after its connection ended.
   */
  park(session: ResumeSession): void {
    if (session.isEnded || session.isConnected || session.claim) return;
    this.#sessions.set(session.id, session);
    if (!session.expiryTimer) {
      session.expiresAt = Date.now() + this.#sessionTtlMs;
      session.expiryTimer = setTimeout(() => void this.#expire(session), this.#sessionTtlMs);
      session.expiryTimer.unref?.();
    }
    if (session.isSaving) return;
    session.isSaving = true;
    this.#storeCall(session, 'set', () => {
      session.isSaving = false;
      // Claimed or ended meanwhile: the store must not get it back.
      if (session.claim || session.isEnded || session.isConnected) return;
      return this.#store.set(session.toRecord(session.expiresAt));
    });
  }

  /** A claimed session that could not be attached after all (the connection went, the count was wrong). */
  #repark(session: ResumeSession): void {
    session.claim = undefined;
    this.park(session);
  }

  async #expire(session: ResumeSession): Promise<void> {
    session.expiryTimer = undefined;
    if (session.isEnded || session.isConnected || session.claim) return;
    session.claim = this.#storeDelete(session);
    session.end((await session.claim) ? 'expired' : 'moved');
  }

  /** @internal A session ended: forgotten here, and in the store (unless it was claimed from there). */
  ended(session: ResumeSession): void {
    clearTimeout(session.expiryTimer);
    session.expiryTimer = undefined;
    this.#connected.delete(session);
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    if (!session.claim) void this.#storeDelete(session);
  }

  #storeDelete(session: ResumeSession): Promise<boolean> {
    return this.#storeCall(session, 'delete', () => this.#store.delete(session.id)).then((result) => result === true);
  }

  /** Runs a store call after the previous one for the same session; a failure is reported and answers undefined. */
  #storeCall<T>(session: ResumeSession, name: string, call: () => T | Promise<T>): Promise<T | undefined> {
    const result = session.storeChain.then(call).catch((error: unknown) => {
      this.#report(new ResumeError('STORE_FAILED', `resume: store.${name} failed for session ${session.id}: ${describe(error)}`, { cause: error }), session);
      return undefined;
    });
    session.storeChain = result;
    return result;
  }

  #pingAll(): void {
    for (const session of this.#connected) {
      if (!session.isAlive) session.terminate();
      else {
        session.isAlive = false;
        session.ping();
      }
    }
  }

  // ── reporting ──────────────────────────────────────────────────────────────────────────────────────────

  /** @internal */
  error(error: ResumeError, session: ResumeSession): void {
    this.#report(error, session);
  }

  /** @internal */
  listenerThrew(type: string, cause: unknown): void {
    const error = new ResumeError('LISTENER_THREW', `resume: a "${type}" listener threw: ${describe(cause)}`, { cause });
    if (type !== 'error' && this.#events.has('error')) this.#events.emit('error', { error });
    else console.error(error);
  }

  #report(error: ResumeError, session?: ResumeSession): void {
    if (this.#events.has('error')) this.#events.emit('error', { error, ...(session && { session }) });
    else console.warn(`${error.message} (listen with resume.on('error', ...) to handle these)`);
  }
}

/**
 * Adds the resume protocol to a `ws` server. Clients that offer it (`ResumableSocket` from
 * `resilient-websocket/resume`) get sessions that survive reconnects; others get plain sessions. Listen for
 * `session` instead of the server's `connection` event:
 *
 * @example
 * const wss = new WebSocketServer({ port: 8080 });
 * const resume = attachResume(wss, { sessionTtlMs: 60_000 });
 * resume.on('session', ({ session }) => {
 *   session.on('message', ({ data, isBinary }) => session.send(data, { binary: isBinary }));
 * });
 *
 * It takes over the server's `handleProtocols` (yours, if any, still chooses among the application's own
 * subprotocols) until `close()`.
 */
export function attachResume(wss: WebSocketServer, options?: ResumeServerOptions): ResumeServer {
  return new ResumeServer(wss, options);
}

/** The id a session is known by: a hash of its token, so the token is never stored or logged. */
function sessionId(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 22);
}
