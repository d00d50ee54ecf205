import type { OverflowPolicy, WireData } from '../index.js';

/** A first-in first-out list that takes from the front without moving the rest (an index, compacted now and then). */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  at(index: number): T | undefined {
    return this.#items[this.#head + index];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes the items `isGone` picks, keeping the order of the others; returns the removed ones. */
  remove(isGone: (item: T) => boolean): T[] {
    const gone: T[] = [];
    const kept: (T | undefined)[] = [];
    for (let i = this.#head; i < this.#items.length; i++) (isGone(this.#items[i]!) ? gone : kept).push(this.#items[i]);
    if (gone.length) {
      this.#items = kept;
      this.#head = 0;
    }
    return gone;
  }

  /** Empties the list and returns what it held, oldest first. */
  clear(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }

  toArray(): T[] {
    return this.#items.slice(this.#head) as T[];
  }
}

/** A message the client holds: not yet written (`unsent`), or written and not yet acknowledged (`sent`). */
export interface Entry<Out> {
  readonly message: Out;
  /** Its encoded form, before the resume framing. */
  readonly data: WireData;
  readonly bytes: number;
  readonly queuedAt: number;
  readonly expiresAt: number | undefined;
}

/** A message as a snapshot holds it. */
export interface Held<Out> {
  readonly message: Out;
  readonly data: WireData;
}

/** What admitting a message did: room was made (`evicted` lists what went) or it was refused. */
export type Admission<Out> = { evicted: [entry: Entry<Out>, wasSent: boolean][] } | 'dropped' | 'rejected';

/**
 * Every message the client is responsible for: the ones written and not yet acknowledged, numbered from `base`
 * (they are resent after a resume), then the ones not yet written. Bounded together by count and bytes.
 */
export class Outbox<Out> {
  readonly sent = new Fifo<Entry<Out>>();
  readonly unsent = new Fifo<Entry<Out>>();
  /** The sequence number of `sent`'s first message. */
  base = 0;
  bytes = 0;
  unsentBytes = 0;

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
    readonly overflow: OverflowPolicy,
  ) {}

  /** The sequence number the next written message gets. */
  get next(): number {
    return this.base + this.sent.length;
  }

  get size(): number {
    return this.sent.length + this.unsent.length;
  }

  /** Makes room for a message of `bytes` under the overflow policy; the caller then adds it. */
  admit(bytes: number): Admission<Out> {
    if (this.fits(bytes)) return NOTHING_EVICTED;
    // A message that could not fit in an empty outbox would evict everything and still not fit.
    if (this.overflow !== 'drop-oldest' || bytes > this.maxBytes || this.maxMessages === 0) {
      return this.overflow === 'reject' ? 'rejected' : 'dropped';
    }
    const evicted: [Entry<Out>, boolean][] = [];
    while (!this.fits(bytes)) {
      const wasSent = this.sent.length > 0;
      evicted.push([wasSent ? this.shiftSent()! : this.shiftUnsent()!, wasSent]);
    }
    return { evicted };
  }

  /** Whether a message of `bytes` fits as things are. */
  fits(bytes: number): boolean {
    return this.sent.length + this.unsent.length < this.maxMessages && this.bytes + bytes <= this.maxBytes;
  }

  pushSent(entry: Entry<Out>): void {
    this.sent.push(entry);
    this.bytes += entry.bytes;
  }

  pushUnsent(entry: Entry<Out>): void {
    this.unsent.push(entry);
    this.bytes += entry.bytes;
    this.unsentBytes += entry.bytes;
  }

  /** Takes the oldest written message out; the next one's number becomes the base. */
  shiftSent(): Entry<Out> | undefined {
    const entry = this.sent.shift();
    if (entry) {
      this.base++;
      this.bytes -= entry.bytes;
    }
    return entry;
  }

  shiftUnsent(): Entry<Out> | undefined {
    const entry = this.unsent.shift();
    if (entry) {
      this.bytes -= entry.bytes;
      this.unsentBytes -= entry.bytes;
    }
    return entry;
  }

  /** Removes the written messages numbered below `count` (the peer has them) and returns them. */
  acknowledge(count: number): Entry<Out>[] {
    const done: Entry<Out>[] = [];
    while (this.base < count && this.sent.length) done.push(this.shiftSent()!);
    return done;
  }

  /**
   * Removes the messages whose time-to-live has passed: any unsent one, and written ones from the front only
   * (a written message in the middle keeps its number until those before it are gone).
   */
  expire(now: number): [Entry<Out>, boolean][] {
    const expired: [Entry<Out>, boolean][] = [];
    const isExpired = (entry: Entry<Out>) => entry.expiresAt !== undefined && entry.expiresAt <= now;
    while (this.sent.length && isExpired(this.sent.at(0)!)) expired.push([this.shiftSent()!, true]);
    for (const entry of this.unsent.remove(isExpired)) {
      this.bytes -= entry.bytes;
      this.unsentBytes -= entry.bytes;
      expired.push([entry, false]);
    }
    return expired;
  }

  /** Everything held, as plain data, and the outbox emptied: the written messages (numbered from `base`), then the others. */
  handOff(): { base: number; sent: Held<Out>[]; unsent: Held<Out>[] } {
    const pick = ({ message, data }: Entry<Out>): Held<Out> => ({ message, data });
    const held = { base: this.base, sent: this.sent.toArray().map(pick), unsent: this.unsent.toArray().map(pick) };
    this.clearAll();
    return held;
  }

  /** Takes over what another outbox handed off (a socket that continues the session). */
  restore(base: number, sent: readonly Held<Out>[], unsent: readonly Held<Out>[]): void {
    this.base = base;
    const now = Date.now();
    const entry = ({ message, data }: Held<Out>): Entry<Out> => ({ message, data, bytes: byteSize(data), queuedAt: now, expiresAt: undefined });
    for (const item of sent) this.pushSent(entry(item));
    for (const item of unsent) this.pushUnsent(entry(item));
  }

  /** Empties both lists: written ones first, then unsent, in order. */
  clearAll(): [Entry<Out>, boolean][] {
    const all: [Entry<Out>, boolean][] = this.sent.clear().map((entry) => [entry, true]);
    this.base += all.length;
    for (const entry of this.unsent.clear()) all.push([entry, false]);
    this.bytes = 0;
    this.unsentBytes = 0;
    return all;
  }
}

const NOTHING_EVICTED = Object.freeze({ evicted: Object.freeze([]) as unknown as [] });

const NodeBuffer = (globalThis as { Buffer?: { byteLength(text: string): number } }).Buffer;

/** The UTF-8 length of a string (a lone surrogate counts as the 3 bytes of U+FFFD, as encoders write it). */
export const utf8Length: (text: string) => number = NodeBuffer
  ? (text) => NodeBuffer.byteLength(text)
  : (text) => {
      let bytes = text.length;
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code < 0x80) continue;
        if (code < 0x800) bytes += 1;
        else {
          bytes += 2;
          // A surrogate pair is 2 units and 4 bytes: the low half is already counted.
          if (code >= 0xd800 && code < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
        }
      }
      return bytes;
    };

/** Bytes on the wire of a message (UTF-8 for strings). */
export function byteSize(data: WireData): number {
  if (typeof data === 'string') return utf8Length(data);
  return 'byteLength' in data ? data.byteLength : data.size;
}
