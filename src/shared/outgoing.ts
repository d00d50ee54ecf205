import type { WireData } from '../index.js';
import type { ResumeDropReason } from '../resume/types.js';
import type { Answer, Handover } from './protocol.js';

/** A message a handle accepted and has not yet seen settled. */
export interface Entry<Out> {
  readonly id: number;
  readonly message: Out;
  readonly data: WireData;
  readonly expiresAt: number | undefined;
  /** The leadership it was handed to; `undefined` while it is held here. */
  at: number | undefined;
  /** Whether that leadership's socket took it (queued it; resumable: holds it until delivered), else no answer came yet. */
  isQueued?: boolean;
}

/** How a message ends for its handle: one `drop` (with `wasSent` when resumable), or `delivered`. */
export type Report<Out> = (type: 'drop' | 'delivered', event: { message: Out; reason?: ResumeDropReason; wasSent?: boolean }) => void;

/**
 * A handle's messages on their way to the server, in the order they were sent (ids only grow): held here, or
 * handed to a leadership, until its answers settle them. Each ends in exactly one report: nothing (sent, plain),
 * `delivered` (resumable), or one `drop`.
 */
export class Outgoing<Out> {
  #entries: Map<number, Entry<Out>> | undefined;
  #nextId = 1;
  readonly #isResumable: boolean;
  readonly #report: Report<Out>;

  constructor(isResumable: boolean, report: Report<Out>) {
    this.#isResumable = isResumable;
    this.#report = report;
  }

  /** Every message not yet settled, oldest first. */
  values(): IterableIterator<Entry<Out>> | [] {
    return this.#entries?.values() ?? [];
  }

  /** A message accepted: held here until it is handed to a leader. */
  add(message: Out, data: WireData, expiresAt: number | undefined): Entry<Out> {
    const entry: Entry<Out> = { id: this.#nextId++, message, data, expiresAt, at: undefined };
    (this.#entries ??= new Map()).set(entry.id, entry);
    return entry;
  }

  /** Forgets a message without a report (its result said it all, or its handle no longer hears of it). */
  forget(entry: Entry<Out>): void {
    this.#entries?.delete(entry.id);
  }

  /** The oldest message held here for want of a leader. */
  firstHeld(): Entry<Out> | undefined {
    for (const entry of this.values()) if (entry.at === undefined) return entry;
  }

  /**
   * Leadership `l`'s answer for message `id`. Ignored once the message is settled, and when it comes from another
   * leadership than the one the message was handed to, except for a resumable connection's message that a
   * leadership took: a session moves from leadership to leadership, so its final answer (`delivered`, a drop)
   * comes from whichever holds it then (`adopted` says which), and only one connection holds it at a time (they
   * follow one another, each handing over as it goes), so the first final answer is the one.
   */
  settle(id: number, result: Answer, l: number, wasSent?: boolean): void {
    const entry = this.#entries?.get(id);
    if (result === 'adopted' && entry) {
      entry.at = l;
      entry.isQueued = true;
    } else if (!entry || (entry.at !== l && !(this.#isResumable && entry.isQueued && result !== 'queued' && result !== 'sent' && result !== 'back'))) {
      // Another leadership's, or a message already settled.
    } else if (result === 'queued' || (result === 'sent' && this.#isResumable)) entry.isQueued = true;
    else if (result === 'back') entry.at = undefined;
    else if (result === 'sent' || result === 'delivered') {
      this.forget(entry);
      if (result === 'delivered') this.#report('delivered', { message: entry.message });
    }
    // A refusal after this handle said `queued`: one drop (`rejected`/`dropped`: the queue was full).
    else this.drop(entry, result === 'rejected' || result === 'dropped' ? 'overflow' : (result as ResumeDropReason), wasSent);
  }

  /**
   * Leadership `l` has ended. Its answers came before its `retire` (one sender, in order): what it queued and did
   * not give back, it sent; what it never answered for, it never took, and goes to the next leader. A resumable
   * one handed over its session with what it held (`handover`): the leadership that continues it adopts those
   * (`tab`: this handle's id, as the envelopes name it).
   */
  retired(l: number, handover: Handover | undefined, tab: number): void {
    const handed = handover && new Set([...handover.sent, ...handover.unsent].filter(({ message }) => message.tab === tab).map(({ message }) => message.id));
    for (const entry of this.values()) {
      if (entry.at !== l) continue;
      if (!entry.isQueued) entry.at = undefined;
      else if (!handed) this.forget(entry);
      else if (!handed.has(entry.id)) this.drop(entry, 'lost', true);
    }
  }

  /**
   * Leadership `l` is followed now: the messages other leaderships took and never settled are returned (their
   * answers may still come). Resumable: they are dropped instead (`lost`): the leadership that took one is over
   * and `l` did not adopt it (it crashed, or its session was not continued); it may have arrived, and sending it
   * again could repeat it.
   */
  followed(l: number): Set<number> | undefined {
    let earlier: Set<number> | undefined;
    for (const entry of this.values()) {
      if (entry.at === undefined || entry.at === l) continue;
      if (this.#isResumable) this.drop(entry, 'lost', true);
      else (earlier ??= new Set()).add(entry.at);
    }
    return earlier;
  }

  /** The messages of these leaderships (gone without a word) are held here again, to go through the next one. */
  release(leaderships: Set<number>): void {
    for (const entry of this.values()) if (leaderships.has(entry.at!)) entry.at = undefined;
  }

  /** The handle ends: what it still holds itself is dropped (`why`); what a leader took is its to deliver. */
  end(why: 'closed' | 'disposed'): void {
    for (const entry of this.values()) if (entry.at === undefined) this.drop(entry, why);
    this.#entries = undefined;
  }

  /** Drops a message (once: a message already settled is not reported again). */
  drop(entry: Entry<Out>, reason: ResumeDropReason, wasSent?: boolean): void {
    const { message } = entry;
    if (this.#entries?.delete(entry.id)) this.#report('drop', this.#isResumable ? { message, reason, wasSent: !!wasSent } : { message, reason });
  }
}
