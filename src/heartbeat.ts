import type { ResolvedOptions, WireData } from './options.js';
import type { WebSocketLike } from './transport.js';

type HeartbeatConfig = Exclude<ResolvedOptions['heartbeat'], false>;

/**
 * What the heartbeat reports back to its owner. One object serves every socket (each call names the owner),
 * so a heartbeat holds no closures of its own.
 */
export interface HeartbeatHost<Owner> {
  /** The deadline passed with no sign of life. */
  onDead(owner: Owner, deadlineMs: number): void;
  /** A pong arrived, `rttMs` after its ping. */
  onRtt(owner: Owner, rttMs: number): void;
  /** Runs a user callback; a throw is reported and `fallback` is used instead. */
  guard<T>(owner: Owner, option: string, callback: () => T, fallback: () => T): T;
  /** The `pong` listener put on `ws` sockets; it finds the heartbeat through the socket and calls `onPong()`. */
  readonly pong: (this: WebSocketLike) => void;
}

/**
 * Liveness checking on an open socket: a protocol ping (Node `ws`) or the configured application-level ping
 * every `intervalMs`; the connection is declared dead if nothing answers within `timeoutMs`. Its owner stops it
 * when the open state ends. Timers carry the heartbeat as their argument rather than a closure, because
 * thousands of open sockets each hold one.
 */
export class Heartbeat<Owner> {
  readonly #owner: Owner;
  readonly #socket: WebSocketLike;
  readonly #config: HeartbeatConfig;
  readonly #host: HeartbeatHost<Owner>;
  readonly #isProtocol: boolean;
  /** When the unanswered ping went out; 0 once its pong arrived. Traffic may lift the deadline before that. */
  #sentAt = 0;
  #deadlineMs = 0;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setTimeout> | undefined;
  #isStopped = false;
  #lastTick: number;

  constructor(owner: Owner, socket: WebSocketLike, config: HeartbeatConfig, host: HeartbeatHost<Owner>, isProtocol: boolean) {
    this.#owner = owner;
    this.#socket = socket;
    this.#config = config;
    this.#host = host;
    this.#isProtocol = isProtocol;
    this.#lastTick = Date.now();
    this.#ticker = setTimeout(Heartbeat.#tick, config.intervalMs, this);
    if (isProtocol) socket.on!('pong', host.pong);
  }

  /** Pings now with a (short) deadline, unless a ping is already outstanding with a shorter one. */
  probe(deadlineMs = this.#config.probeTimeoutMs): void {
    if (this.#isStopped || (this.#deadline !== undefined && this.#deadlineMs <= deadlineMs)) return;
    let ping: WireData | undefined;
    if (!this.#isProtocol) {
      const message = this.#config.message!;
      // A message function that throws is reported; with nothing sent, no deadline is armed either.
      ping = typeof message === 'function' ? this.#host.guard<WireData | undefined>(this.#owner, 'heartbeat.message', message, () => undefined) : message;
      // The message function is user code: it may have closed or disposed the socket, which stopped us.
      if (ping === undefined || this.#isStopped) return;
    }
    this.#settle();
    const sentAt = (this.#sentAt = Date.now());
    this.#deadlineMs = deadlineMs;
    try {
      if (ping === undefined) this.#socket.ping!();
      else this.#socket.send(ping);
    } catch {
      // A socket that cannot take the ping is as good as dead: the deadline will say so.
    }
    this.#deadline = setTimeout(Heartbeat.#expire, deadlineMs, this, sentAt);
  }

  /** Sees every incoming message first; returns true when the message was the pong and must not be delivered. */
  onMessage(data: unknown): boolean {
    const { isPong, anyMessageIsAlive } = this.#config;
    // isPong is user code: it may probe(), which sends a ping this message cannot answer (it arrived first), so
    // the deadline armed meanwhile must stand; or it may close or drop the connection, which stops us.
    const sentAt = this.#sentAt;
    const deadline = this.#deadline;
    if (!this.#isProtocol && (isPong ? this.#host.guard(this.#owner, 'heartbeat.isPong', () => isPong(data), () => false) : true)) {
      if (this.#isStopped) return isPong !== undefined;
      if (this.#deadline === deadline) this.#alive(true);
      else if (sentAt !== 0) this.#host.onRtt(this.#owner, Date.now() - sentAt);
      return isPong !== undefined;
    }
    if (anyMessageIsAlive && !this.#isStopped && this.#deadline === deadline) this.#alive(false);
    return false;
  }

  /** A protocol pong arrived. */
  onPong(): void {
    this.#alive(true);
  }

  /** Leaving the open state: both timers and the pong listener go. */
  stop(): void {
    this.#isStopped = true;
    clearTimeout(this.#ticker);
    this.#settle();
    if (this.#isProtocol) this.#socket.off?.('pong', this.#host.pong);
  }

  // A timer that fires this much later than asked means the machine slept or the tab was throttled.
  #jumpMs(): number {
    return Math.max(2_000, this.#config.intervalMs);
  }

  static #tick(heartbeat: Heartbeat<unknown>): void {
    heartbeat.#onTick();
  }

  static #expire(heartbeat: Heartbeat<unknown>, sentAt: number): void {
    heartbeat.#onDeadline(sentAt);
  }

  #onTick(): void {
    const { intervalMs, probeTimeoutMs, timeoutMs } = this.#config;
    const now = Date.now();
    const late = now - this.#lastTick - intervalMs;
    this.#lastTick = now;
    this.#ticker = setTimeout(Heartbeat.#tick, intervalMs, this);
    this.probe(late > this.#jumpMs() ? Math.min(probeTimeoutMs, timeoutMs) : timeoutMs);
  }

  #onDeadline(sentAt: number): void {
    const deadlineMs = this.#deadlineMs;
    this.#deadline = undefined;
    // The deadline itself fired late (sleep): the pong may be queued behind the wake-up, so probe again briefly.
    if (Date.now() - sentAt > deadlineMs + this.#jumpMs()) this.probe(Math.min(this.#config.probeTimeoutMs, deadlineMs));
    else this.#host.onDead(this.#owner, deadlineMs);
  }

  #alive(isPong: boolean): void {
    const sentAt = this.#sentAt;
    if (isPong) this.#sentAt = 0;
    this.#settle();
    // Reported last: a `heartbeat` listener may probe() at once, and that probe's deadline must stand.
    if (isPong && sentAt !== 0) this.#host.onRtt(this.#owner, Date.now() - sentAt);
  }

  #settle(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }
}

/**
 * Starts liveness checking on an open socket. Returns `undefined` when there is no way to ping (a browser
 * socket with no `message` set).
 */
export function startHeartbeat<Owner>(owner: Owner, socket: WebSocketLike, config: HeartbeatConfig, host: HeartbeatHost<Owner>): Heartbeat<Owner> | undefined {
  const isProtocol = config.message === undefined && typeof socket.ping === 'function' && typeof socket.on === 'function';
  if (!isProtocol && config.message === undefined) return undefined;
  return new Heartbeat(owner, socket, config, host, isProtocol);
}
