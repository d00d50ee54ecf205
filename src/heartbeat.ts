import type { DisposerScope } from './disposer.js';
import type { ResolvedOptions, WireData } from './options.js';
import type { WebSocketLike } from './transport.js';

type HeartbeatConfig = Exclude<ResolvedOptions['heartbeat'], false>;

/** What the heartbeat reports back to its owner. */
export interface HeartbeatHooks {
  /** The deadline passed with no sign of life. */
  onDead(deadlineMs: number): void;
  /** A pong arrived, `rttMs` after its ping. */
  onRtt(rttMs: number): void;
  /** Runs a user callback; a throw is reported and `fallback` is used instead. */
  guard<T>(option: string, callback: () => T, fallback: () => T): T;
}

/**
 * Liveness checking on an open socket: a protocol ping (Node `ws`) or the configured application-level ping
 * every `intervalMs`; the connection is declared dead if nothing answers within `timeoutMs`. It lives in the
 * open state's scope: disposing that scope stops it. A class owning its two timers directly, with one disposer
 * in the scope, rather than closures, because thousands of open sockets each hold one.
 */
export class Heartbeat {
  readonly #socket: WebSocketLike;
  readonly #config: HeartbeatConfig;
  readonly #hooks: HeartbeatHooks;
  readonly #now: () => number;
  readonly #isProtocol: boolean;
  /** When the unanswered ping went out; 0 once its pong arrived. Traffic may lift the deadline before that. */
  #sentAt = 0;
  #deadlineMs = 0;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setTimeout> | undefined;
  #isStopped = false;
  #lastTick: number;

  constructor(scope: DisposerScope, socket: WebSocketLike, config: HeartbeatConfig, hooks: HeartbeatHooks, now: () => number, isProtocol: boolean) {
    this.#socket = socket;
    this.#config = config;
    this.#hooks = hooks;
    this.#now = now;
    this.#isProtocol = isProtocol;
    this.#lastTick = now();
    this.#ticker = setTimeout(this.#tick, config.intervalMs);
    if (isProtocol) socket.on!('pong', this.#onPong);
    scope.add(this.#stop);
  }

  /** Pings now with a (short) deadline, unless a ping is already outstanding with a shorter one. */
  probe(deadlineMs = this.#config.probeTimeoutMs): void {
    if (this.#isStopped || (this.#deadline !== undefined && this.#deadlineMs <= deadlineMs)) return;
    let ping: WireData | undefined;
    if (!this.#isProtocol) {
      const message = this.#config.message!;
      // A message function that throws is reported; with nothing sent, no deadline is armed either.
      ping = typeof message === 'function' ? this.#hooks.guard<WireData | undefined>('heartbeat.message', message, () => undefined) : message;
      // The message function is user code: it may have closed or disposed the socket, which stopped us.
      if (ping === undefined || this.#isStopped) return;
    }
    this.#settle();
    const sentAt = (this.#sentAt = this.#now());
    this.#deadlineMs = deadlineMs;
    try {
      if (ping === undefined) this.#socket.ping!();
      else this.#socket.send(ping);
    } catch {
      // A socket that cannot take the ping is as good as dead: the deadline will say so.
    }
    this.#deadline = setTimeout(() => {
      this.#deadline = undefined;
      // The deadline itself fired late (sleep): the pong may be queued behind the wake-up, so probe again briefly.
      if (this.#now() - sentAt > deadlineMs + this.#jumpMs()) this.probe(Math.min(this.#config.probeTimeoutMs, deadlineMs));
      else this.#hooks.onDead(deadlineMs);
    }, deadlineMs);
  }

  /** Sees every incoming message first; returns true when the message was the pong and must not be delivered. */
  onMessage(data: unknown): boolean {
    const { isPong, anyMessageIsAlive } = this.#config;
    if (!this.#isProtocol && (isPong ? this.#hooks.guard('heartbeat.isPong', () => isPong(data), () => false) : true)) {
      this.#alive(true);
      return isPong !== undefined;
    }
    if (anyMessageIsAlive) this.#alive(false);
    return false;
  }

  // A timer that fires this much later than asked means the machine slept or the tab was throttled.
  #jumpMs(): number {
    return Math.max(2_000, this.#config.intervalMs);
  }

  readonly #tick = (): void => {
    const { intervalMs, probeTimeoutMs, timeoutMs } = this.#config;
    const now = this.#now();
    const late = now - this.#lastTick - intervalMs;
    this.#lastTick = now;
    this.#ticker = setTimeout(this.#tick, intervalMs);
    this.probe(late > this.#jumpMs() ? Math.min(probeTimeoutMs, timeoutMs) : timeoutMs);
  };

  readonly #onPong = (): void => this.#alive(true);

  #alive(isPong: boolean): void {
    const sentAt = this.#sentAt;
    if (isPong) this.#sentAt = 0;
    this.#settle();
    // Reported last: a `heartbeat` listener may probe() at once, and that probe's deadline must stand.
    if (isPong && sentAt !== 0) this.#hooks.onRtt(this.#now() - sentAt);
  }

  #settle(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }

  /** Leaving the open state: both timers and the pong listener go. */
  readonly #stop = (): void => {
    this.#isStopped = true;
    clearTimeout(this.#ticker);
    this.#settle();
    if (this.#isProtocol) this.#socket.off?.('pong', this.#onPong);
  };
}

/**
 * Starts liveness checking on an open socket. Returns `undefined` when there is no way to ping (a browser
 * socket with no `message` set).
 */
export function startHeartbeat(scope: DisposerScope, socket: WebSocketLike, config: HeartbeatConfig, hooks: HeartbeatHooks, now: () => number = Date.now): Heartbeat | undefined {
  const isProtocol = config.message === undefined && typeof socket.ping === 'function' && typeof socket.on === 'function';
  if (!isProtocol && config.message === undefined) return undefined;
  return new Heartbeat(scope, socket, config, hooks, now, isProtocol);
}
