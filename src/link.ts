import { checkArgs, checkAttempt } from '#checks';
import { canPing, create, defaultWebSocket, intern, protocolErrorCode } from '#platform';
import { ROUTE, closeRecord, listen, retire, socketError } from './connection.js';
import { Emitter } from './emitter.js';
import { SocketError, describeError } from './errors.js';
import type { SocketEvents } from './events.js';
import { Heartbeat, setHeartbeatHost } from './heartbeat.js';
import type { CloseCause, CloseRecord, Inputs, StateName } from './machine.js';
import { resolveOptions, type Provider, type RawMessage, type ReconnectingSocketArgs, type ResolvedOptions, type WireData } from './options.js';
import type { Call } from './policy.js';
import { byteSize, checkUrl, type WebSocketLike } from './transport.js';
import { checkTimeout } from './waits.js';

/** The URL to connect to, or a provider called before every attempt. */
export type UrlProvider = Provider<string | URL>;

type Any = Link<any, any>;

/**
 * The first layer of a `ReconnectingSocket` (under `Outbox`, the queue, and the class, which runs the machine):
 * one connection at a time. It runs an attempt (the providers, then the inner socket), turns the inner socket's
 * events into inputs for the machine, checks liveness with the heartbeat, and reports errors.
 *
 * Thousands of sockets live in one process: per instance there are fields, and collections come with their first
 * item. Timers and socket listeners are shared functions that find their socket through an argument.
 * @internal
 */
export abstract class Link<In, Out> extends Emitter<SocketEvents<In, Out>> {
  readonly #url: UrlProvider;
  /** The options, checked and with their defaults. */
  protected readonly options: ResolvedOptions<In, Out>;
  /** The attempt under way: it aborts the attempt's providers once the attempt is over. */
  #ctl: AbortController | undefined;
  #ws: WebSocketLike | undefined;
  /** The last error the current socket reported, for its close record. */
  #error: SocketError | undefined;
  #hb: Heartbeat<Any> | undefined;
  #rtt: number | undefined;
  /** 401/403/407 refusals of the upgrade in a row. */
  #refusals = 0;
  /** An error nobody listened for was printed. */
  #warned = false;

  constructor(url: UrlProvider, args: ReconnectingSocketArgs<In, Out>) {
    super();
    const [options] = args;
    if (typeof url !== 'function') checkUrl(url);
    checkArgs(args.length + 1, options);
    this.#url = url;
    const o = (this.options = intern(resolveOptions<In, Out>(options)));
    if (!(o.WebSocket ?? defaultWebSocket())) throw new TypeError('ReconnectingSocket: no WebSocket here; install "ws" or pass the WebSocket option.');
  }

  /** `connecting`, `open`, `closing` or `closed`. */
  abstract get state(): StateName;

  /** The latest heartbeat round-trip time in milliseconds. */
  get rttMs(): number | undefined {
    return this.#rtt;
  }

  /** The subprotocol selected by the server ('' when none or not open). */
  get protocol(): string {
    return (this.state === 'open' && this.#ws!.protocol) || '';
  }

  /** Checks liveness now: pings with a short deadline (`heartbeat.probeTimeoutMs` unless given). */
  probe(timeoutMs?: number): void {
    checkTimeout('probe()', timeoutMs);
    this.#hb?.probe(timeoutMs);
    this.drain();
  }

  /** Runs one input against the machine (see `ReconnectingSocket`). */
  protected abstract input<K extends keyof Inputs>(type: K, data?: Inputs[K]): void;

  /** The current connection ended; `source` is the inner socket whose event ended it. */
  protected abstract end(close: CloseRecord, source?: WebSocketLike): void;

  // ── an attempt ──────────────────────────────────────────────────────────────────────────────────────────

  /** Starts attempt number `attempt`: the providers first, then the inner socket. */
  protected begin(attempt: number): void {
    const { protocols, headers, transport } = this.options;
    // A fresh start (the first attempt, reconnect(), connect() after a final close): new credentials get their
    // MAX_AUTH_REFUSALS attempts again.
    if (!attempt) this.#refusals = 0;
    // The controller marks the attempt as started, and aborts its providers once it is over.
    const ctl = (this.#ctl = new AbortController());
    const failed = (error: unknown) => ctl === this.#ctl && this.fail(this.report('PROVIDER_FAILED', `provider failed: ${describeError(error)}`, error), 'provider');
    const values: unknown[] = [];
    try {
      for (const p of [this.#url, protocols, headers, transport]) values.push(typeof p === 'function' ? p({ signal: ctl.signal, attempt }) : p);
    } catch (error) {
      // A provider's promise already made must not surface later as an unhandled rejection.
      Promise.all(values).catch(() => {});
      return void failed(error);
    }
    // Plain values (the usual case) open at once; a provider's promise settles on a microtask, when the machine
    // may have moved on (providers are user code: they may even have moved it on already).
    if (!values.some((value) => typeof (value as PromiseLike<unknown>)?.then === 'function')) this.#open(values, ctl);
    else Promise.all(values).then((settled) => this.#open(settled, ctl), failed);
  }

  #open([url, protocols, headers, transport]: unknown[], ctl: AbortController): void {
    if (ctl !== this.#ctl) return;
    const o = this.options;
    const Ctor = o.WebSocket ?? defaultWebSocket()!;
    let ws: WebSocketLike;
    try {
      // In development: a bad provider result is named, and what this WebSocket cannot honour is said once.
      checkAttempt(protocols, headers, transport, Ctor, this, o.debug);
      ws = create(Ctor, checkUrl(url), protocols, headers, transport, o.maxMessageBytes);
    } catch (error) {
      return this.fail(this.report('PROVIDER_FAILED', `cannot open: ${describeError(error)}`, error), 'provider');
    }
    // The debug hook and the constructor may be user code that moved the machine on: then this socket goes.
    if (this.#ctl !== ctl) return retire(ws);
    this.#ws = ws;
    listen(ws, this, o.binaryType);
    this.drain();
  }

  /** The inner socket (while there is one). */
  protected get socket(): WebSocketLike | undefined {
    return this.#ws;
  }

  /** Whether an attempt has started: its providers were called (it has a controller), or it has a socket. */
  protected get isStarted(): boolean {
    return !!(this.#ws || this.#ctl);
  }

  /** The socket is open: the refusals are forgiven and the heartbeat starts. */
  protected connected(): void {
    const ws = this.#ws!;
    const heartbeat = this.options.heartbeat;
    this.#refusals = 0;
    if (heartbeat && (heartbeat.message !== undefined || canPing(ws))) this.#hb = new Heartbeat(this, ws, heartbeat);
  }

  /** Stops what the state owned: the attempt's providers and the heartbeat. */
  protected halt(): void {
    this.#ctl?.abort();
    this.#hb?.stop();
    this.#ctl = this.#hb = undefined;
  }

  /** Starts the closing handshake with a close frame. */
  protected shut([code, reason]: readonly [number, string]): void {
    const ws = this.#ws!;
    try {
      ws.close(code, reason);
    } catch {
      // Browsers refuse 1001 from scripts (it is legal on the wire); the close timer bounds the rest.
      try {
        ws.close(1000, reason);
      } catch {}
    }
  }

  /** Forgets the inner socket, and forces it down if it is not down yet. */
  protected detach(): void {
    const ws = this.#ws;
    this.#ws = this.#error = undefined;
    if (ws) retire(ws);
  }

  /** Ends the current connection from this side, for `error` (already reported: it goes out first). */
  protected fail(error: SocketError, cause: CloseCause, more?: Partial<CloseRecord>, source?: WebSocketLike): void {
    this.end({ code: 1006, reason: '', wasClean: false, cause, error, ...more }, source);
  }

  // ── the inner socket's events ────────────────────────────────────────────────────────────────────────────

  /** @internal Where the inner socket's events go (called by the shared listeners of connection.ts). */
  [ROUTE](socket: WebSocketLike, type: string, value?: unknown, reason?: string, wasClean?: boolean): void {
    const ws = this.#ws;
    if (type === 'late') this.debug('late error (absorbed)', value);
    else if (socket !== ws) return;
    else if (type === 'open') return this.input('OPENED');
    else if (type === 'close') return this.end(closeRecord(value, reason, wasClean, this.#error), ws);
    else if (type === 'message') this.#message(ws, value);
    else if (type === 'pong') this.#hb?.pong();
    else if (type === 'refused') {
      // 407: the proxy wants credentials, which a transport provider may bring next time, as with a token.
      const { status } = value as { status: number };
      const isAuth = status === 401 || status === 403 || status === 407;
      const refusals = (this.#refusals = isAuth ? this.#refusals + 1 : 0);
      return this.fail(this.report('SOCKET_ERROR', `upgrade refused: HTTP ${status}`), 'refused', { ...(value as object), ...(isAuth && { refusals }) }, ws);
    } else {
      const error = socketError(value);
      const code = protocolErrorCode(error.cause);
      this.emit('error', { error });
      // A bad frame, invalid UTF-8 or a message too big (RFC 6455 §7.1.7): ws failed the connection, with that
      // code. An error while connecting ends the attempt: some implementations never fire `close` after it.
      if (code || this.state === 'connecting') return this.fail(error, code ? 'protocol' : 'network', code ? { code } : undefined, ws);
      this.#error = error;
    }
    this.drain();
  }

  #message(ws: WebSocketLike, raw: unknown): void {
    const o = this.options;
    const limit = o.maxMessageBytes;
    // ws enforces the limit itself (maxPayload) before buffering; elsewhere it is enforced on arrival.
    if (limit !== undefined && !ws.terminate && byteSize(raw as WireData) > limit) return this.fail(this.report('SOCKET_ERROR', `message over maxMessageBytes (${limit})`), 'protocol', { code: 1009 }, ws);
    const hb = o.heartbeat;
    const isPong = hb && hb.message !== undefined && hb.isPong;
    // A pong is not a message, even outside `open` (during the close handshake, say).
    if (this.#hb ? this.#hb.message(raw) : !!isPong && this.call('heartbeat.isPong', () => isPong(raw), false)) return;
    try {
      const data = o.codec.decode(raw as RawMessage);
      // isPong and decode are user code: a message of a connection they ended goes with it.
      if (ws === this.#ws) return this.announce('message', { data });
    } catch (cause) {
      this.report('DECODE_FAILED', `decode failed: ${describeError(cause)}`, cause, raw);
    }
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────

  /** Reports an error of ours (an `error` event, in its turn). */
  protected report(code: SocketError['code'], message: string, cause?: unknown, data?: unknown): SocketError {
    const error = new SocketError(code, message, { cause, data });
    this.emit('error', { error });
    return error;
  }

  /** Errors never vanish: with no error listener they go to the debug hook; with neither, the first is printed once. */
  protected override unheard(error: SocketError): void {
    this.debug(error.message, error);
    if (this.options.debug || this.#warned) return;
    this.#warned = true;
    console.warn(`ReconnectingSocket: ${error.message} (${error.code}). Handle errors with on("error") or silence with the debug option; no more are printed.`);
  }

  /** Runs one of your option callbacks; a throw is reported and `fallback` is used instead. */
  protected call<T>(option: string, callback: () => T, fallback: T): T {
    try {
      return callback();
    } catch (cause) {
      this.report('CALLBACK_THREW', `option "${option}" threw (the default was used): ${describeError(cause)}`, cause);
      return fallback;
    }
  }

  /** `call` for the policy's functions (made only when they run). */
  protected caller(): Call {
    return (option, callback, fallback) => this.call(option, callback, fallback);
  }

  protected debug(message: string, detail?: unknown): void {
    try {
      this.options.debug?.(message, detail);
    } catch {
      // A throwing debug hook must not break the socket.
    }
  }

  static {
    setHeartbeatHost({
      dead: (self: Any, ms) => self.fail(self.report('HEARTBEAT_TIMEOUT', `no pong within ${ms} ms`), 'heartbeat-timeout'),
      rtt: (self: Any, rttMs) => {
        self.#rtt = rttMs;
        self.emit('heartbeat', { rttMs });
      },
      call: (self: Any, option, callback, fallback) => self.call(option, callback, fallback),
      done: (self: Any) => self.drain(),
    });
  }
}
