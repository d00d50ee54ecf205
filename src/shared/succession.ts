import type { LeaderSocket } from './options.js';
import type { Outgoing, Rules } from './outgoing.js';
import type { Answer, Envelope, Handover, Relay } from './protocol.js';

/**
 * The class of a leader's connection whose session moves from leader to leader brings, as `Socket.sharedSession`,
 * how the handles pass it on (`ResumableSocket` does: src/resume/shared-session.ts). A page that shares a plain
 * connection carries none of that code: src/shared knows only this type.
 */
export type SuccessionOf = <Out>(peer: SuccessionHost, out: Outgoing<Out>) => Succession<Out>;

/** What a handle (its `Peer`) lends its succession. */
export interface SuccessionHost {
  /** This handle's id: the envelopes of its messages carry it. */
  readonly id: number;
  /** Leadership `l`'s answer for a message it was given: to the handle it came from. */
  answer(envelope: Envelope, result: Answer, l: number, wasSent?: boolean): void;
  /** Messages the connection of leadership `l` had not written, as it ends (`why`): back to their handles, this one's dropped. */
  giveBack(queued: readonly { readonly message: Envelope }[], why: 'closed' | 'disposed' | 'pagehide', l: number): void;
  /** What another handle (or this one's leadership) said, taken in now. */
  receive(message: Relay): void;
  /** This handle holds the lock: it leads, unless its succession has it wait first. */
  lead(): void;
  /** The leadership followed is gone without a word: this handle follows none until the next announces itself. */
  unfollow(cause: 'network'): void;
}

/**
 * How the leaderships of a shared connection follow one another when each continues the session of the one
 * before. A handle hears the next leader, and a tab that got the lock leads, only after the leadership it follows
 * has said its last words (`retire`, with the session and the messages it wrote), or after RETIRE_GRACE_MS (it
 * crashed: its messages are `lost`, a new session starts). Its `Rules` settle the handle's messages: a message a
 * leadership took is the session's until `delivered` or dropped, whichever leadership holds the session then.
 * They also tell it which leadership the handle follows (`followed`) and when that one has said its last words
 * (`retired`): then the session is the next one's to continue.
 */
export interface Succession<Out> extends Rules<Out> {
  /** Whether this handle waits for the leadership it follows to say its last words (it holds its messages meanwhile). */
  readonly isWaiting: boolean;
  /** This handle holds the lock: whether it waits for the session first (it calls `lead()` again once it has it). */
  waits(): boolean;
  /** The options that make this handle's new connection continue the session handed over. */
  continues(options: { resume?: object }): { resume: object };
  /** Leadership `l` began on `inner`: it answers `adopted` for the messages it continued, then `delivered` (`offs`: its relays). */
  began(inner: LeaderSocket, l: number, offs: (() => void)[]): void;
  /** This handle's leadership ends (`why`): its connection hands the session over, which `retire` carries. */
  handOff(inner: LeaderSocket, why: 'closed' | 'disposed' | 'pagehide', l: number): Handover;
  /** What another handle said, before this one takes it in: true while it waits for the words of a leadership before. */
  defers(message: Relay): boolean;
  /** This page froze: it leads no more, and hears what it deferred. */
  hidden(): void;
}
