import type { DropReason } from '../index.js';
import type { LeaderSocket } from '../shared/options.js';
import type { Entry, Outgoing } from '../shared/outgoing.js';
import { RETIRE_GRACE_MS, type Answer, type Handover, type Relay } from '../shared/protocol.js';
import type { Succession, SuccessionHost, SuccessionOf } from '../shared/succession.js';
import type { ResumeDropReason } from './types.js';

/**
 * A `ResumableSocket` session shared by the tabs (`new SharedSocket(url, { Socket: ResumableSocket })`): how one
 * handle passes it from leader to leader. It lives here, brought by `ResumableSocket.sharedSession`, so that a page
 * sharing a plain connection does not carry it.
 *
 * Each leadership continues the session of the one before: a leader that leaves hands it over (`handOff()`) and
 * its `retire` carries it, with the messages its connection wrote. So a handle hears the next leader, and a tab
 * that got the lock leads, only after the leadership it follows has said those last words, or after
 * RETIRE_GRACE_MS (it crashed: a tab that gets the lock then starts a new session).
 *
 * A message a leadership took is the session's: it ends in `delivered` or one drop, from whichever leadership
 * holds the session then (`adopted` says which); one that is no longer in the session that goes on is `lost`
 * (it may have arrived, and sending it again could repeat it).
 */
export class SharedSession<Out> implements Succession<Out> {
  readonly #peer: SuccessionHost;
  readonly #out: Outgoing<Out>;
  /** The leadership the handle follows (its own while it leads), as `followed()` said; `undefined` while none. */
  #leader: number | undefined;
  /** What later leaderships said while the `retire` of the one this handle follows is awaited, in order. */
  #deferred: Relay[] | undefined;
  /** The session the leadership this handle followed handed over, for when this handle leads next. */
  #handover: Handover | undefined;
  /** The session this handle's leadership continues, until it began. */
  #continued: Handover | undefined;
  /** This handle holds the lock and waits for the leadership it follows to hand its session over. */
  #isHeir = false;
  /** Armed while this handle waits for the last words of the leadership it follows (`#deferred`, `#isHeir`). */
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Remove the relays of this handle's leadership: once handed over, it says nothing more. */
  #offs: (() => void)[] = [];

  constructor(peer: SuccessionHost, out: Outgoing<Out>) {
    this.#peer = peer;
    this.#out = out;
  }

  get isWaiting(): boolean {
    return this.#graceTimer !== undefined;
  }

  // ── leading ─────────────────────────────────────────────────────────────────────────────────────────────

  waits(): boolean {
    if (this.#leader === undefined) return false;
    this.#isHeir = true;
    this.#wait();
    return true;
  }

  continues(options: { resume?: object }): { resume: object } {
    this.#isHeir = false;
    const session = (this.#continued = this.#handover);
    this.#handover = undefined;
    return { resume: { ...options.resume, session } };
  }

  began(inner: LeaderSocket, l: number, offs: (() => void)[]): void {
    const peer = this.#peer;
    const continued = this.#continued;
    this.#continued = undefined;
    this.#offs = offs;
    offs.push(inner.on('delivered', ({ message }) => peer.answer(message, 'delivered', l)));
    for (const { message } of [...(continued?.sent ?? []), ...(continued?.unsent ?? [])]) peer.answer(message, 'adopted', l);
  }

  /**
   * The connection goes down at once, says nothing more, and returns the session with every message it held (no
   * answer follows for those: the next leadership adopts them). Messages not yet written have no number in the
   * session: like a plain connection's queue, they go back to their handles (this one's are dropped, unless on
   * pagehide), which send them through the next leader. Only the written ones stay in the session handed over
   * (this handle's are dropped, `wasSent`, as it ends).
   */
  handOff(inner: LeaderSocket, why: 'closed' | 'disposed' | 'pagehide', l: number): Handover {
    for (const off of this.#offs) off();
    const handover: Handover = inner.handOff!();
    const peer = this.#peer;
    peer.giveBack(handover.unsent, why, l);
    if (why !== 'pagehide') for (const { message } of handover.sent) if (message.tab === peer.id) this.settle(message.id, why, l, true);
    return (this.#handover = { ...handover, unsent: [] });
  }

  // ── following ───────────────────────────────────────────────────────────────────────────────────────────

  defers(message: Relay): boolean {
    const t = message.t;
    if (t === 'hello' || t === 'send' || t === 'ack' || message.l === this.#leader) return false;
    // A later leadership: heard after the one followed has said its last words (its last messages and its
    // session come before its `retire`), or after RETIRE_GRACE_MS.
    if (this.#deferred) return !!this.#deferred.push(message);
    if (t !== 'leader' || this.#leader === undefined) return false;
    this.#deferred = [message];
    this.#wait();
    return true;
  }

  hidden(): void {
    this.#leader = undefined;
    this.#isHeir = false;
    this.#next();
  }

  #wait(): void {
    this.#graceTimer ??= setTimeout(() => this.#gone(), RETIRE_GRACE_MS);
  }

  /** The leadership followed did not say goodbye in time (it crashed). */
  #gone(): void {
    this.#graceTimer = undefined;
    this.#leader = undefined;
    this.#peer.unfollow('network');
    this.#next();
  }

  /**
   * The leadership followed is over: this handle hears what later ones said meanwhile, in order, then leads if it
   * holds the lock, unless that has it wait for another one's last words (and its session) first.
   */
  #next(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const deferred = this.#deferred;
    this.#deferred = undefined;
    for (const message of deferred ?? []) this.#peer.receive(message);
    if (this.#isHeir && this.#graceTimer === undefined) this.#peer.lead();
  }

  // ── the session's rules for the handle's messages ──────────────────────────────────────────────────────

  /**
   * Leadership `l`'s answer for message `id`. Ignored once the message is settled, and when it comes from another
   * leadership than the one the message was handed to, except a final answer (`delivered`, a drop) for a message a
   * leadership took: the session moves from leadership to leadership, so that answer comes from whichever holds it
   * then, and only one connection holds it at a time (each hands over as it goes): the first one is the one.
   */
  settle(id: number, result: Answer, l: number, wasSent?: boolean): void {
    const entry = this.#out.get(id);
    if (!entry) return;
    if (result === 'adopted') {
      entry.at = l;
      entry.isQueued = true;
    } else if (entry.at !== l && !(entry.isQueued && result !== 'queued' && result !== 'sent' && result !== 'back')) {
      // Another leadership's.
    } else if (result === 'queued' || result === 'sent') entry.isQueued = true;
    else if (result === 'back') entry.at = undefined;
    else if (result === 'delivered') {
      if (this.#out.delete(id)) this.#out.report('delivered', { message: entry.message });
    }
    // A refusal after this handle said `queued`: one drop (`rejected`/`dropped`: the queue was full).
    else this.drop(entry, result === 'rejected' || result === 'dropped' ? 'overflow' : (result as DropReason | 'lost'), wasSent);
  }

  /**
   * Leadership `l` has ended (see `Outgoing.retired`). The session it handed over (`handover`) holds what it
   * wrote: the leadership that continues it adopts those; any other message it took is `lost`. When it is the
   * leadership this handle followed, the session is the next one's to continue (this handle's, if it leads next):
   * what later leaderships said meanwhile is heard now, and a handle that holds the lock leads.
   */
  retired(l: number, handover?: Handover): void {
    const id = this.#peer.id;
    const handed = handover && new Set([...handover.sent, ...handover.unsent].filter(({ message }) => message.tab === id).map(({ message }) => message.id));
    for (const entry of this.#out.values()) {
      if (entry.at !== l) continue;
      if (!entry.isQueued) entry.at = undefined;
      else if (!handed) this.#out.delete(entry.id);
      else if (!handed.has(entry.id)) this.drop(entry, 'lost', true);
    }
    if (l !== this.#leader) return;
    this.#leader = undefined;
    this.#handover = handover;
    this.#next();
  }

  /**
   * Leadership `l` is followed now (the session is its to continue): the messages other leaderships took and `l`
   * did not adopt are dropped (`lost`): the leadership that took one is over (it crashed, or its session was not
   * continued); it may have arrived, and sending it again could repeat it.
   */
  followed(l: number): undefined {
    this.#leader = l;
    this.#handover = undefined;
    for (const entry of this.#out.values()) if (entry.at !== undefined && entry.at !== l) this.drop(entry, 'lost', true);
  }

  drop(entry: Entry<Out>, reason: ResumeDropReason, wasSent = false): void {
    if (this.#out.delete(entry.id)) this.#out.report('drop', { message: entry.message, reason, wasSent });
  }

  /** The handle ends: it waits for no one, and drops what it still holds itself (never written). */
  end(why: 'closed' | 'disposed'): void {
    this.#isHeir = false;
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#deferred = this.#handover = undefined;
    for (const entry of this.#out.values()) if (entry.at === undefined) this.drop(entry, why);
    this.#out.end(why);
  }
}

/** Makes a handle's `SharedSession` (`ResumableSocket.sharedSession`). */
export const sharedSession: SuccessionOf = (peer, out) => new SharedSession(peer, out);
