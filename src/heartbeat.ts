import type { ResolvedOptions, WireData } from './options.js';
import type { WebSocketLike } from './transport.js';

type Config = Exclude<ResolvedOptions['heartbeat'], false>;

/**
 * What the heartbeat reports to its owner. One object serves every socket (each call names the owner), so a
 * heartbeat holds no closures of its own: thousands of open sockets each hold one.
 */
export interface HeartbeatHost<Owner> {
  /** The deadline passed with no sign of life. */
  dead(owner: Owner, deadlineMs: number): void;
  /** A pong arrived, `rttMs` after its ping. */
  rtt(owner: Owner, rttMs: number): void;
  /** Runs a user callback; a throw is reported and `fallback` is used instead. */
  call<T>(owner: Owner, option: string, callback: () => T, fallback: T): T;
  /** The heartbeat's timer ran: whatever it reported goes out now. */
  done(owner: Owner): void;
}

/**
 * Liveness checking on an open socket with one timer: it waits `intervalMs`, pings (a protocol ping where the
 * socket has one, else `heartbeat.message`) and then waits `timeoutMs` for the pong; with none, the connection
 * is dead. So a peer that dies is noticed within `intervalMs + timeoutMs`. A timer that fires much later than
 * asked means the machine slept or the tab was throttled: then it probes with the short `probeTimeoutMs`
 * instead of ending a connection that may be fine.
 */
let host: HeartbeatHost<any>;
/** Set once by the class that owns the heartbeats. */
export const setHeartbeatHost = (to: HeartbeatHost<any>): void => {
  host = to;
};

export class Heartbeat<Owner> {
  readonly #owner: Owner;
  readonly #socket: WebSocketLike;
  readonly #config: Config;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer is due (`Date.now()` scale); -1 once stopped. */
  #due = 0;
  /** When the last ping went out, until its pong came (for the round trip). */
  #sentAt = 0;
  /** The deadline the timer now counts down, in ms; 0 while it waits to ping. */
  #deadlineMs = 0;

  constructor(owner: Owner, socket: WebSocketLike, config: Config) {
    this.#owner = owner;
    this.#socket = socket;
    this.#config = config;
    this.#arm(config.intervalMs);
  }

  /** Pings now with a (short) deadline, unless a ping is already out with a shorter one. */
  probe(deadlineMs = this.#config.probeTimeoutMs): void {
    if (!this.#deadlineMs || this.#deadlineMs > deadlineMs) this.#ping(deadlineMs);
  }

  /** Sees every incoming message first; returns true when it was the pong and must not be delivered. */
  message(data: unknown): boolean {
    const { message, isPong, anyMessageIsAlive } = this.#config;
    const timer = this.#timer;
    // isPong is user code: it may probe() (a ping this message cannot answer: its timer stands) or end the connection.
    const isIt = message !== undefined && (!isPong || host.call(this.#owner, 'heartbeat.isPong', () => isPong(data), false));
    if ((isIt || anyMessageIsAlive) && this.#timer === timer && this.#due >= 0) this.#alive(isIt);
    return isIt && isPong !== undefined;
  }

  /** A protocol pong arrived. */
  pong(): void {
    this.#alive(true);
  }

  /** Leaving the open state. */
  stop(): void {
    this.#due = -1;
    clearTimeout(this.#timer);
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#due = Date.now() + ms;
    this.#timer = setTimeout(Heartbeat.#fire, ms, this);
  }

  static #fire(heartbeat: Heartbeat<unknown>): void {
    const { intervalMs, timeoutMs, probeTimeoutMs } = heartbeat.#config;
    const isLate = Date.now() - heartbeat.#due > Math.max(2_000, intervalMs);
    const deadlineMs = heartbeat.#deadlineMs;
    if (deadlineMs && !isLate) host.dead(heartbeat.#owner, deadlineMs);
    else heartbeat.#ping(isLate ? Math.min(probeTimeoutMs, deadlineMs || timeoutMs) : timeoutMs);
    host.done(heartbeat.#owner);
  }

  #ping(deadlineMs: number): void {
    const message = this.#config.message;
    // A message function that throws is reported: nothing is sent, and the next ping comes after intervalMs.
    const ping = typeof message === 'function' ? host.call<WireData | undefined>(this.#owner, 'heartbeat.message', message, undefined) : message;
    if (this.#due < 0) return;
    if (ping === undefined && message !== undefined) {
      this.#deadlineMs = 0;
      return this.#arm(this.#config.intervalMs);
    }
    this.#sentAt = Date.now();
    this.#deadlineMs = deadlineMs;
    try {
      if (ping === undefined) this.#socket.ping!();
      else this.#socket.send(ping);
    } catch {
      // A socket that cannot take the ping is as good as dead: the deadline will say so.
    }
    this.#arm(deadlineMs);
  }

  /** A sign of life: it lifts the deadline; a pong also measures the round trip of the last ping. */
  #alive(isPong: boolean): void {
    const sentAt = this.#sentAt;
    if (this.#deadlineMs) {
      this.#deadlineMs = 0;
      this.#arm(this.#config.intervalMs);
    }
    if (!isPong || !sentAt) return;
    this.#sentAt = 0;
    host.rtt(this.#owner, Date.now() - sentAt);
  }
}
