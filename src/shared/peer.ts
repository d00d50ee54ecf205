import { SocketError, type ReconnectingSocketOptions, type SendResult, type UrlProvider, type WireData } from '../index.js';
import { connect, send, type LeadershipHost } from './leadership.js';
import { Mirror, RAW } from './mirror.js';
import type { LeaderSocket, LeaderSocketClass } from './options.js';
import { Outgoing, type Entry, type Rules } from './outgoing.js';
import { RETIRE_GRACE_MS, sharedNow, type Announcement, type Answer, type Envelope, type Handover, type Relay } from './protocol.js';
import type { Succession, SuccessionHost } from './succession.js';

/**
 * One handle among the tabs, as the others see it: it follows the leadership announced (mirroring its
 * connection), hands its messages to it and takes its answers, and leads when its tab holds the lock: then it
 * runs the connection (`connect`). `SharedSocket` adds the public surface, the lock and the page around it.
 *
 * Each time a handle leads is a leadership of its own, with its own id (`l`): what is meant for an ended one is
 * never taken for a later one. When a leadership ends, what it had not sent goes through the next. With a `Socket`
 * whose session moves from leader to leader (`ResumableSocket`), its `Succession` decides when the next leadership
 * is heard and led, and how messages settle.
 */
export abstract class Peer<In, Out> extends Mirror<In, Out> {
  /** @internal This handle's id: the envelopes of its messages carry it, and answers are addressed to it. */
  protected readonly id = Math.random();
  readonly #Socket: LeaderSocketClass;
  readonly #url: UrlProvider;
  /** The options of the connection (this handle's own, `signal` aside, when it leads). */
  readonly #options: ReconnectingSocketOptions<any, any>;
  /** Messages accepted and not yet settled. */
  readonly #out: Outgoing<Out>;
  /** With a resumable `Socket`: how the session moves from leader to leader. */
  readonly #session: Succession<Out> | undefined;
  /** How answers settle the messages: `#out`'s own rules, or the session's. */
  readonly #rules: Rules<Out>;
  /** This handle's connection, while it leads (its leadership is then `#leader`, which began at `#since`). */
  #inner: LeaderSocket | undefined;
  /** The leadership this handle follows (its own while it leads); `undefined` while none is known. */
  #leader: number | undefined;
  /** When that leadership began, on the clock all tabs share: an announcement of an earlier one is late. */
  #since = 0;
  /** Earlier leaderships whose last answers this handle still waits for before it sends (see `#adopt`). */
  #limbo: Set<number> | undefined;
  /** Armed while `#limbo` waits, at most RETIRE_GRACE_MS. */
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(Socket: LeaderSocketClass, url: UrlProvider, options: ReconnectingSocketOptions<any, any>) {
    super(options);
    this.#Socket = Socket;
    this.#url = url;
    this.#options = options;
    const out = (this.#out = new Outgoing<Out>((type, event) => this.tell(type, event as any, true)));
    // The session calls members that are protected from users (`SuccessionHost`): lent to it, as to `connect`.
    this.#rules = (this.#session = Socket.sharedSession?.(this as unknown as SuccessionHost, out)) ?? out;
  }

  /** Whether this handle owns the real connection now. */
  get isLeader(): boolean {
    return this.#inner !== undefined;
  }

  /** @internal Says something to every other handle. */
  protected abstract post(message: Relay): void;

  /** @internal A connection with this handle's url and options that never connects: its class checks what it is given. */
  protected idle(): LeaderSocket {
    return new this.#Socket(this.#url, { ...this.#options, autoConnect: false, environment: null });
  }

  /**
   * Sends through the leader. In the leader's tab the result is its socket's (`sent`, `queued`...). In a
   * follower it is `queued`: the message is on its way to the leader, or held here until one is known (a
   * hand-over); it is then sent once, in order, or reported by exactly one `drop` event (the leader's queue
   * applies its bounds). Sent from a listener while held messages are handed to a new leader, it waits behind them.
   * With a resumable `Socket`, a message `sent` or `queued` ends in exactly one `delivered` or one `drop`.
   */
  send(message: Out, options?: { ttlMs?: number }): SendResult {
    const ttlMs = options?.ttlMs ?? this.#options.queue?.ttlMs;
    if (ttlMs !== undefined && !(ttlMs > 0)) throw new RangeError(`send(): ttlMs must be > 0, got ${ttlMs}.`);
    if (this.ended) return this.ended;
    let data: WireData;
    try {
      data = (this.#options.codec ?? RAW).encode(message);
    } catch (cause) {
      this.report(new SocketError('ENCODE_FAILED', `encode failed: ${String(cause)}`, { cause, data: message }));
      return 'failed';
    }
    // The codec is user code: it may have ended this handle.
    if (this.ended) return this.ended;
    const entry = this.#out.add(message, data, ttlMs && Date.now() + ttlMs);
    // Held here while no leader is known (a hand-over), or behind older held messages (a listener sending while
    // they are handed over): the leader's queue applies its bounds when they reach it.
    if (this.#isHolding() || this.#out.firstHeld() !== entry) return 'queued';
    const result = this.#route(entry);
    // The leader's own result is its socket's, and says it all unless it is `queued` (with a session: or `sent`).
    if (result !== 'queued' && !entry.isQueued) this.#out.delete(entry.id);
    return result;
  }

  // ── leading ─────────────────────────────────────────────────────────────────────────────────────────────

  /** @internal This handle holds the lock: it leads (a succession may have it wait for the session first). */
  protected lead(): void {
    if (this.#session?.waits()) return;
    // No other tab has a connection now. Its events reach every handle, this one included, the same way. Each
    // time a handle leads is a leadership of its own.
    const { signal: _signal, ...options } = this.#options;
    const l = Math.random();
    this.#inner = connect(this.#Socket, this.#url, options, this as unknown as LeadershipHost, l, this.#session);
    this.#adopt(this.#announce(l, sharedNow()));
  }

  /** Tells every other handle which leadership this is and how its connection stands. */
  #announce(l: number, since: number): Announcement {
    const inner = this.#inner!;
    const message: Announcement = { t: 'leader', l, since, state: inner.state, attempt: inner.attempt, protocol: inner.protocol };
    this.post(message);
    return message;
  }

  /**
   * This handle stops leading if it leads: its connection gives the messages still queued back to their handles
   * (its own are dropped with `why`, or kept for the next leader on pagehide), or its succession hands the session
   * over. It settles its own and says `retire`, last. At close/dispose, what it still holds itself is dropped and
   * it waits for no one. The caller then closes or disposes the connection returned (none once handed over) and
   * releases the lock, in that order: the next leader connects only after. On pagehide the handle mirrors no
   * connection.
   * @internal
   */
  protected stop(why: 'closed' | 'disposed' | 'pagehide'): LeaderSocket | undefined {
    let inner = this.#inner;
    const l = this.#leader!;
    // A frozen page follows no one either: back, it asks who leads.
    if (inner || why === 'pagehide') this.#leader = undefined;
    if (inner) {
      this.#inner = undefined;
      const kept = this.#session?.handOff(inner, why, l);
      if (kept) inner = undefined;
      else this.giveBack(inner.clearQueue(), why, l);
      this.#retired(l, kept);
      this.post({ t: 'retire', l, s: kept });
    }
    if (why === 'pagehide') {
      this.leaderGone('pagehide');
      this.#session?.hidden();
    } else {
      clearTimeout(this.#graceTimer);
      this.#limbo = undefined;
      this.#rules.end(why);
    }
    return inner;
  }

  /** @internal */
  protected giveBack(queued: readonly { readonly message: Envelope }[], why: 'closed' | 'disposed' | 'pagehide', l: number): void {
    for (const { message } of queued) this.answer(message, message.tab === this.id && why !== 'pagehide' ? why : 'back', l);
  }

  // ── the channel ─────────────────────────────────────────────────────────────────────────────────────────

  /** @internal To every handle, this one included (the leader's own handle learns of its connection the same way). */
  protected broadcast(message: Relay): void {
    this.post(message);
    this.receive(message);
  }

  /** @internal Leadership `l`'s answer for a message it was given: to the handle it came from. */
  protected answer({ tab, id }: Envelope, result: Answer, l: number, wasSent?: boolean): void {
    if (tab === this.id) this.#rules.settle(id, result, l, wasSent);
    else this.post({ t: 'ack', l, to: tab, id, result, w: wasSent });
  }

  /** @internal What another handle (or this one's leadership) said. */
  protected receive(message: Relay): void {
    const t = message.t;
    // The lock is exclusive: while this handle leads, any other announcement is a departed leader's, late.
    // Leaderships follow one another, so one that began before the one this handle follows is over too (a
    // crashed tab's never says so). With none known (after a retire), any is taken: a late one retires in its
    // turn, and the handle asks again. A session may keep what later leaderships say for later (`defers`).
    if (this.ended || (t === 'leader' && (this.#inner || (message.since < this.#since && this.#leader !== undefined))) || this.#session?.defers(message)) return;
    switch (t) {
      case 'hello':
        if (this.#inner) this.#announce(this.#leader!, this.#since);
        return;
      case 'leader':
        return this.#adopt(message);
      case 'retire':
        if (message.l === this.#leader) {
          this.unfollow('reconnect');
          // Its successor may have announced itself before its last words arrived: ask who leads now.
          this.post({ t: 'hello' });
        }
        return this.#retired(message.l, message.s);
      case 'event':
        if (message.type === 'message' || message.l === this.#leader) this.hear(message.type, message.event, message.attempt);
        return;
      case 'send': {
        const inner = this.#inner;
        // Only the leadership it is addressed to carries it out: for an ended one (even an earlier leadership
        // of this tab), its sender sends it again through the next, or already has.
        if (!inner || message.to !== this.#leader) return;
        const envelope: Envelope = { tab: message.from, id: message.id, data: message.data };
        return this.answer(envelope, send(inner, envelope, message.ttlMs), message.to);
      }
      case 'ack':
        if (message.to === this.id) this.#rules.settle(message.id, message.result, message.l, message.w);
        return;
    }
  }

  // ── following ───────────────────────────────────────────────────────────────────────────────────────────

  /** @internal */
  protected unfollow(cause: 'reconnect' | 'network'): void {
    this.#leader = undefined;
    this.leaderGone(cause);
  }

  /** A new leadership: this handle mirrors its connection, and hands it what it holds, in order. */
  #adopt(message: Announcement): void {
    const { l } = message;
    if (l === this.#leader) return;
    if (this.#leader !== undefined) this.leaderGone('network');
    this.#leader = l;
    this.#since = message.since;
    this.follow(message);
    // Messages earlier leaderships have not answered for: their answers and their `retire` may still be on their
    // way (the lock can reach the new leader before the old one's last messages reach us). Until they arrive, or
    // RETIRE_GRACE_MS passes (it crashed), this handle's messages wait, so that none goes out twice or out of order.
    for (const at of this.#rules.followed(l) ?? []) (this.#limbo ??= new Set()).add(at);
    if (this.#limbo) this.#graceTimer ??= setTimeout(() => this.#endLimbo(), RETIRE_GRACE_MS);
    this.#flushHeld();
  }

  /** Leadership `l` has ended (see `Rules.retired`). */
  #retired(l: number, handover: Handover | undefined): void {
    this.#rules.retired(l, handover);
    if (this.#limbo?.delete(l) && !this.#limbo.size) this.#endLimbo();
    else this.#flushHeld();
  }

  /** The earlier leaders did not say goodbye in time (they crashed): what they had not answered for goes again. */
  #endLimbo(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const limbo = this.#limbo;
    this.#limbo = undefined;
    if (limbo) this.#out.release(limbo);
    this.#flushHeld();
  }

  /** Whether this handle holds its messages: no leader is known, or departed leaders' last words are awaited. */
  #isHolding(): boolean {
    return this.#leader === undefined || this.#graceTimer !== undefined || !!this.#session?.isWaiting;
  }

  /**
   * Hands the held messages to the leader, oldest first (ids only grow). A listener it calls (a `drop`, or the
   * leader's own events) may send: `send()` holds that message behind the ones still held, and whichever loop
   * runs (this one, or one started from inside) takes the oldest held message each time, so order is kept.
   */
  #flushHeld(): void {
    for (let entry; !this.ended && !this.#isHolding() && (entry = this.#out.firstHeld()); ) {
      if (entry.expiresAt! <= Date.now()) this.#rules.drop(entry, 'expired');
      else {
        const result = this.#route(entry);
        // In the leader's tab the result is known now; it was `queued` to the sender, so a refusal is a drop.
        if (this.#inner) this.#rules.settle(entry.id, result, entry.at!);
      }
    }
  }

  /** Hands `entry` to the leader: straight to the connection in the leader's tab, over the channel otherwise. */
  #route(entry: Entry<Out>): SendResult {
    const l = (entry.at = this.#leader!);
    const ttlMs = entry.expiresAt && Math.max(1, entry.expiresAt - Date.now());
    const inner = this.#inner;
    if (!inner) {
      entry.isQueued = false;
      this.post({ t: 'send', from: this.id, to: l, id: entry.id, data: entry.data, ttlMs });
      return 'queued';
    }
    const result = send(inner, { tab: this.id, id: entry.id, data: entry.data }, ttlMs);
    // A session holds what it wrote until it is delivered.
    entry.isQueued = result === 'queued' || (result === 'sent' && !!this.#session);
    return result;
  }
}
