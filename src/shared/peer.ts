import type { Codec, SendResult, UrlProvider, WireData } from '../index.js';
import { Leadership, type Announcement, type LeadershipHost } from './leadership.js';
import { Mirror } from './mirror.js';
import type { LeaderSocket, LeaderSocketClass } from './options.js';
import { Outgoing, type Entry } from './outgoing.js';
import type { Answer, Envelope, Handover, Relay } from './protocol.js';

/**
 * How long a handle waits for the last words (`retire`) of a leader that is gone before it takes it as crashed:
 * it then sends again what that leader had not answered for (resumable: drops it, `lost`), and a tab that got the
 * lock leads without its session.
 */
const RETIRE_GRACE_MS = 500;

/**
 * One handle among the tabs, as the others see it: it follows the leadership announced (mirroring its
 * connection), hands its messages to it and takes its answers, and leads when its tab holds the lock: then its
 * `Leadership` runs the connection. `SharedSocket` adds the public surface, the lock and the page around it.
 *
 * Each time a handle leads is a leadership of its own, with its own id (`l`): what is meant for an ended one is
 * never taken for a later one. A resumable connection's session goes from each leadership to the next: a handle
 * that follows hears the next leader only after the one before has said its last words (`retire`, with the
 * session), and a tab that gets the lock waits for them too, both at most RETIRE_GRACE_MS (it crashed then).
 */
export abstract class Peer<In, Out> extends Mirror<In, Out> {
  /** This handle's id: the envelopes of its messages carry it, and answers are addressed to it. */
  readonly #id = Math.random();
  readonly #Socket: LeaderSocketClass;
  readonly #url: UrlProvider;
  /** The options of the connection (this handle's own, `signal` aside, when it leads). */
  readonly #options: { resume?: object; signal?: AbortSignal };
  readonly #isResumable: boolean;
  /** Messages accepted and not yet settled. */
  readonly #out: Outgoing<Out>;
  /** This handle's leadership, while it leads. */
  #lead: Leadership | undefined;
  /** The leadership this handle follows (its own while it leads); `undefined` while none is known. */
  #leader: number | undefined;
  /** When that leadership began, on the clock all tabs share: an announcement of an earlier one is late. */
  #since = 0;
  /** Earlier leaderships whose last answers this handle still waits for before it sends (see `#adopt`). */
  #limbo: Set<number> | undefined;
  /** Armed while this handle waits for departed leaderships' last words (`#limbo`; resumable: `#deferred`, `#isHeir`). */
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resumable: what later leaderships said while the `retire` of the one this handle follows is awaited, in order. */
  #deferred: Relay[] | undefined;
  /** Resumable: the session the leadership this handle followed handed over, for when this handle leads next. */
  #handover: Handover | undefined;
  /** Resumable: this handle holds the lock and waits for the leadership it follows to hand its session over. */
  #isHeir = false;

  constructor(codec: Codec<In, Out>, debug: ((message: string, detail?: unknown) => void) | undefined, Socket: LeaderSocketClass, url: UrlProvider, options: { resume?: object; signal?: AbortSignal }, isResumable: boolean) {
    super(codec, debug);
    this.#Socket = Socket;
    this.#url = url;
    this.#options = options;
    this.#isResumable = isResumable;
    this.#out = new Outgoing<Out>(isResumable, (type, event) => this.tell(type, event as any, true));
  }

  /** Whether this handle owns the real connection now. */
  get isLeader(): boolean {
    return this.#lead !== undefined;
  }

  /** @internal Says something to every other handle. */
  protected abstract post(message: Relay): void;

  /** @internal A connection with this handle's url and options that never connects: its class checks what it is given. */
  protected idle(): LeaderSocket {
    return new this.#Socket(this.#url, { ...this.#options, autoConnect: false, environment: null });
  }

  /** @internal A message encoded for the connection (`send()`): handed to the leader now, or held here (see `send()`). */
  protected submit(message: Out, data: WireData, ttlMs: number | undefined): SendResult {
    const entry = this.#out.add(message, data, ttlMs && Date.now() + ttlMs);
    // Held here while no leader is known (a hand-over), or behind older held messages (a listener sending while
    // they are handed over): the leader's queue applies its bounds when they reach it.
    if (this.#isHolding() || this.#out.firstHeld() !== entry) return 'queued';
    const result = this.#route(entry);
    // The leader's own result is its socket's, and says it all unless it is `queued` (resumable: or `sent`).
    if (result !== 'queued' && !entry.isQueued) this.#out.forget(entry);
    return result;
  }

  // ── leading ─────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * This handle holds the lock. A resumable connection continues the session of the leadership this handle
   * followed, so it first waits for that one's `retire` (at most RETIRE_GRACE_MS: it crashed then).
   * @internal
   */
  protected lead(): void {
    if (this.#isResumable && this.#leader !== undefined) {
      this.#isHeir = true;
      this.#graceTimer ??= setTimeout(() => this.#gone(), RETIRE_GRACE_MS);
    } else this.#takeOver();
  }

  /**
   * Opens the real connection (no other tab has one now), continuing the session handed over if any, and relays
   * its events to every handle, itself included, through the same path.
   */
  #takeOver(): void {
    this.#isHeir = false;
    const handover = this.#handover;
    this.#handover = undefined;
    const { signal: _signal, ...options } = this.#options;
    const host: LeadershipHost = { broadcast: (message) => this.#broadcast(message), post: (message) => this.post(message), answer: (...args) => this.#answer(...args) };
    this.#adopt((this.#lead = new Leadership(this.#Socket, this.#url, options, host, handover)).announce());
  }

  /**
   * This handle stops leading if it leads: its connection gives the messages still queued back to their handles
   * (its own are dropped with `why`, or kept for the next leader on pagehide); a resumable one hands its session
   * over with the messages it wrote (this handle's are dropped, `wasSent`, unless on pagehide). It settles its own
   * and says `retire`, last. At close/dispose, what it still holds itself is dropped. The caller then closes or
   * disposes the connection returned (none once handed over) and releases the lock, in that order: the next
   * leader connects only after. On pagehide the handle mirrors no connection, and waits for departed leaders no
   * more (resumable).
   * @internal
   */
  protected stop(why: 'closed' | 'disposed' | 'pagehide'): LeaderSocket | undefined {
    this.#isHeir = false;
    const lead = this.#lead;
    const l = this.#leader!;
    // A frozen page follows no one either: back, it asks who leads.
    if (lead || why === 'pagehide') this.#leader = undefined;
    let inner = lead?.inner;
    if (lead) {
      this.#lead = undefined;
      const handover = lead.handOff();
      // Messages not yet written have no number in the session: like a plain connection's queue, they go back to
      // their handles (this one's are dropped, unless on pagehide), which send them through the next leader. Only
      // the written ones stay in the session handed over (this handle's are dropped, `wasSent`, as it ends).
      const unsent = handover ? handover.unsent : lead.inner.clearQueue();
      for (const { message } of unsent) this.#answer(message, message.tab === this.#id && why !== 'pagehide' ? why : 'back', l);
      let kept: Handover | undefined;
      if (handover) {
        inner = undefined;
        if (why !== 'pagehide') for (const { message } of handover.sent) if (message.tab === this.#id) this.#out.settle(message.id, why, l, true);
        kept = this.#handover = { ...handover, unsent: [] };
      }
      this.#retired(l, kept);
      this.post({ t: 'retire', l, s: kept });
    }
    if (why !== 'pagehide') this.#out.end(why);
    else {
      this.leaderGone('pagehide');
      if (this.#isResumable) this.#next();
    }
    return inner;
  }

  // ── the channel ─────────────────────────────────────────────────────────────────────────────────────────

  /** To every handle, this one included (the leader's own handle learns of its connection the same way). */
  #broadcast(message: Relay): void {
    this.post(message);
    this.receive(message);
  }

  /** Leadership `l`'s answer for a message it was given: to the handle it came from. */
  #answer({ tab, id }: Envelope, result: Answer, l: number, wasSent?: boolean): void {
    if (tab === this.#id) this.#out.settle(id, result, l, wasSent);
    else this.post({ t: 'ack', l, to: tab, id, result, w: wasSent });
  }

  /** @internal What another handle (or this one's leadership) said. */
  protected receive(message: Relay): void {
    if (this.isEnded()) return;
    const t = message.t;
    // Resumable: what later leaderships say waits until the one followed has said its last words (see below).
    if (this.#deferred && (t === 'leader' || t === 'event' || t === 'retire') && message.l !== this.#leader) return void this.#deferred.push(message);
    switch (t) {
      case 'hello':
        this.#lead?.announce();
        return;
      case 'leader':
        // The lock is exclusive: while this handle leads, any other announcement is a departed leader's, late.
        // Leaderships follow one another, so one that began before the one this handle follows is over too (a
        // crashed tab's never says so). With none known (after a retire), any is taken: a late one retires in
        // its turn, and the handle asks again.
        if (this.#lead || (message.since < this.#since && this.#leader !== undefined)) return;
        // Resumable: the leadership followed has not said its last words yet (its last messages and its
        // session come before its `retire`): the next one is heard after them, or after RETIRE_GRACE_MS.
        if (this.#isResumable && this.#leader !== undefined && message.l !== this.#leader) {
          this.#deferred = [message];
          this.#graceTimer ??= setTimeout(() => this.#gone(), RETIRE_GRACE_MS);
        } else this.#adopt(message);
        return;
      case 'retire':
        if (message.l === this.#leader) {
          this.#leader = undefined;
          this.leaderGone('reconnect');
          // Its successor may have announced itself before its last words arrived: ask who leads now.
          this.post({ t: 'hello' });
          if (this.#isResumable) {
            this.#handover = message.s;
            this.#retired(message.l, message.s);
            return this.#next();
          }
        }
        return this.#retired(message.l, message.s);
      case 'event':
        if (message.type === 'message' || message.l === this.#leader) this.hear(message.type, message.event, message.attempt);
        return;
      case 'send': {
        const lead = this.#lead;
        // Only the leadership it is addressed to carries it out: for an ended one (even an earlier leadership
        // of this tab), its sender sends it again through the next, or already has.
        if (!lead || message.to !== lead.l) return;
        const envelope: Envelope = { tab: message.from, id: message.id, data: message.data };
        return this.#answer(envelope, lead.send(envelope, message.ttlMs), lead.l);
      }
      case 'ack':
        if (message.to === this.#id) this.#out.settle(message.id, message.result, message.l, message.w);
        return;
    }
  }

  // ── following ───────────────────────────────────────────────────────────────────────────────────────────

  /** A new leadership: this handle mirrors its connection, and hands it what it holds, in order. */
  #adopt(message: Announcement): void {
    const { l } = message;
    if (l === this.#leader) return;
    if (this.#leader !== undefined) this.leaderGone('network');
    this.#leader = l;
    this.#since = message.since;
    this.#handover = undefined;
    this.follow(message);
    // Messages earlier leaderships have not answered for: their answers and their `retire` may still be on their
    // way (the lock can reach the new leader before the old one's last messages reach us). Until they arrive, or
    // RETIRE_GRACE_MS passes (it crashed), this handle's messages wait, so that none goes out twice or out of order.
    for (const at of this.#out.followed(l) ?? []) (this.#limbo ??= new Set()).add(at);
    if (this.#limbo) this.#graceTimer ??= setTimeout(() => this.#endLimbo(), RETIRE_GRACE_MS);
    this.#flushHeld();
  }

  /**
   * Leadership `l` has ended. Its answers came before its `retire` (one sender, in order): what it queued and did
   * not give back, it sent; what it never answered for, it never took, and goes to the next leader. A resumable
   * one handed over the session with what it held (`handover`): the leadership that continues it adopts those.
   */
  #retired(l: number, handover?: Handover): void {
    this.#out.retired(l, handover, this.#id);
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

  /** Resumable: the leadership followed did not say goodbye in time (it crashed). */
  #gone(): void {
    this.#graceTimer = undefined;
    this.#leader = undefined;
    this.leaderGone('network');
    this.#next();
  }

  /**
   * Resumable: the leadership followed is over: this handle hears what later ones said meanwhile, in order, then
   * leads if it holds the lock, unless that has it wait for another one's last words (and its session) first.
   */
  #next(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const deferred = this.#deferred;
    this.#deferred = undefined;
    for (const message of deferred ?? []) this.receive(message);
    if (this.#isHeir && this.#graceTimer === undefined) this.lead();
  }

  /** Whether this handle holds its messages: no leader is known, or departed leaders' last words are awaited. */
  #isHolding(): boolean {
    return this.#leader === undefined || this.#graceTimer !== undefined;
  }

  /**
   * Hands the held messages to the leader, oldest first (ids only grow). A listener it calls (a `drop`, or the
   * leader's own events) may send: `send()` holds that message behind the ones still held, and whichever loop
   * runs (this one, or one started from inside) takes the oldest held message each time, so order is kept.
   */
  #flushHeld(): void {
    for (let entry; !this.isEnded() && !this.#isHolding() && (entry = this.#out.firstHeld()); ) {
      if (entry.expiresAt! <= Date.now()) this.#out.drop(entry, 'expired');
      else {
        const result = this.#route(entry);
        // In the leader's tab the result is known now; it was `queued` to the sender, so a refusal is a drop.
        if (this.#lead) this.#out.settle(entry.id, result, entry.at!);
      }
    }
  }

  /** Hands `entry` to the leader: straight to the connection in the leader's tab, over the channel otherwise. */
  #route(entry: Entry<Out>): SendResult {
    const l = (entry.at = this.#leader!);
    entry.isQueued = false;
    const ttlMs = entry.expiresAt && Math.max(1, entry.expiresAt - Date.now());
    const lead = this.#lead;
    if (!lead) {
      this.post({ t: 'send', from: this.#id, to: l, id: entry.id, data: entry.data, ttlMs });
      return 'queued';
    }
    const result = lead.send({ tab: this.#id, id: entry.id, data: entry.data }, ttlMs);
    if (result === 'queued' || (result === 'sent' && this.#isResumable)) entry.isQueued = true;
    return result;
  }

  /** @internal The handle ends: no more waiting for departed leaders. */
  protected stopWaiting(): void {
    clearTimeout(this.#graceTimer);
    this.#limbo = this.#deferred = this.#handover = undefined;
  }
}
