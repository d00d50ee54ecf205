import type { DropReason, WireData } from '../index.js';
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
 * How leaders' answers and ends settle a handle's messages: `Outgoing`'s own, or those of a session that moves
 * from leader to leader (a `Succession`, with a resumable `Socket`).
 */
export interface Rules<Out> {
  /** Leadership `l`'s answer for message `id` (`wasSent`: it had been written, for a drop). */
  settle(id: number, result: Answer, l: number, wasSent?: boolean): void;
  /** Leadership `l` has ended, handing over `handover` if it continued a session. */
  retired(l: number, handover?: Handover): void;
  /** Leadership `l` is followed now: the leaderships that took messages and never settled them, if any are awaited. */
  followed(l: number): Set<number> | undefined;
  /** Drops a message (once: a message already settled is not reported again). */
  drop(entry: Entry<Out>, reason: ResumeDropReason, wasSent?: boolean): void;
  /** The handle ends: what it still holds itself is dropped (`why`); what a leader took is its to deliver. */
  end(why: 'closed' | 'disposed'): void;
}

/**
 * A handle's messages on their way to the server, by id, in the order they were sent (ids only grow): held here,
 * or handed to a leadership, until its answers settle them (a message settled without a report is just deleted).
 * Each ends in exactly one report: nothing (sent) or one `drop`. Its own rules are those of a plain connection; a
 * `Succession` brings a session's, built on the rest.
 */
export class Outgoing<Out> extends Map<number, Entry<Out>> implements Rules<Out> {
  #nextId = 1;
  /** @internal Where the `drop` and `delivered` reports go (the handle's listeners). */
  readonly report: Report<Out>;

  constructor(report: Report<Out>) {
    super();
    this.report = report;
  }

  /** A message accepted: held here until it is handed to a leader. */
  add(message: Out, data: WireData, expiresAt: number | undefined): Entry<Out> {
    const entry: Entry<Out> = { id: this.#nextId++, message, data, expiresAt, at: undefined };
    this.set(entry.id, entry);
    return entry;
  }

  /** The oldest message held here for want of a leader. */
  firstHeld(): Entry<Out> | undefined {
    for (const entry of this.values()) if (entry.at === undefined) return entry;
  }

  /** Leadership `l`'s answer for message `id`: ignored once the message is settled, or from another leadership. */
  settle(id: number, result: Answer, l: number): void {
    const entry = this.get(id);
    if (entry?.at !== l) return;
    if (result === 'queued') entry.isQueued = true;
    else if (result === 'back') entry.at = undefined;
    else if (result === 'sent') this.delete(id);
    // A refusal after this handle said `queued`: one drop (`rejected`/`dropped`: the queue was full).
    else this.drop(entry, result === 'rejected' || result === 'dropped' ? 'overflow' : (result as DropReason));
  }

  /**
   * Leadership `l` has ended. Its answers came before its `retire` (one sender, in order): what it queued and did
   * not give back, it sent; what it never answered for, it never took, and goes to the next leader.
   */
  retired(l: number): void {
    for (const entry of this.values()) {
      if (entry.at !== l) continue;
      if (entry.isQueued) this.delete(entry.id);
      else entry.at = undefined;
    }
  }

  /**
   * Leadership `l` is followed now: the messages other leaderships took and never settled are returned (their
   * answers may still come).
   */
  followed(l: number): Set<number> | undefined {
    let earlier: Set<number> | undefined;
    for (const entry of this.values()) if (entry.at !== undefined && entry.at !== l) (earlier ??= new Set()).add(entry.at);
    return earlier;
  }

  /** The messages of these leaderships (gone without a word) are held here again, to go through the next one. */
  release(leaderships: Set<number>): void {
    for (const entry of this.values()) if (leaderships.has(entry.at!)) entry.at = undefined;
  }

  end(why: 'closed' | 'disposed'): void {
    for (const entry of this.values()) if (entry.at === undefined) this.drop(entry, why);
    this.clear();
  }

  drop(entry: Entry<Out>, reason: ResumeDropReason): void {
    if (this.delete(entry.id)) this.report('drop', { message: entry.message, reason });
  }
}
