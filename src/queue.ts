import type { OverflowPolicy, WireData } from './options.js';
import { byteSize } from './transport.js';

/** A message waiting in the outgoing queue. */
export interface QueuedMessage<Out = unknown> {
  /** The message as you passed it to `send()`. */
  readonly message: Out;
  /** Its encoded form, as it will go on the wire. */
  readonly data: WireData;
  /** Its size in bytes (UTF-8 for strings). */
  readonly bytes: number;
  /** When it was queued (`Date.now()`). */
  readonly queuedAt: number;
  /** When it expires (`Date.now()` scale), if it has a time-to-live. */
  readonly expiresAt: number | undefined;
}

/** What `push` did: `queued`, or refused (`dropped`/`rejected`); `evicted` lists messages it pushed out. */
export interface PushOutcome<Out> {
  result: 'queued' | 'dropped' | 'rejected';
  evicted: QueuedMessage<Out>[];
}

/** The bounded outgoing queue: a FIFO limited by count and by bytes, with an overflow policy. */
export class OutgoingQueue<Out> {
  #items: QueuedMessage<Out>[] = [];
  #bytes = 0;
  #withExpiry = 0;

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
    readonly overflow: OverflowPolicy,
  ) {}

  get size(): number {
    return this.#items.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** A snapshot, oldest first. */
  entries(): QueuedMessage<Out>[] {
    return this.#items.slice();
  }

  push(message: Out, data: WireData, now: number, ttlMs: number | undefined): PushOutcome<Out> {
    const bytes = byteSize(data);
    const item: QueuedMessage<Out> = { message, data, bytes, queuedAt: now, expiresAt: ttlMs === undefined ? undefined : now + ttlMs };
    const evicted: QueuedMessage<Out>[] = [];
    const fits = () => this.#items.length < this.maxMessages && this.#bytes + bytes <= this.maxBytes;
    if (!fits()) {
      // A message larger than the whole byte budget can never fit; evicting everything for it would lose more.
      if (this.overflow !== 'drop-oldest' || bytes > this.maxBytes || this.maxMessages === 0) {
        return { result: this.overflow === 'reject' ? 'rejected' : 'dropped', evicted };
      }
      while (!fits()) evicted.push(this.shift()!);
    }
    this.#items.push(item);
    this.#bytes += bytes;
    if (item.expiresAt !== undefined) this.#withExpiry++;
    return { result: 'queued', evicted };
  }

  /** Takes the oldest message out. */
  shift(): QueuedMessage<Out> | undefined {
    const item = this.#items.shift();
    if (item) this.#forget(item);
    return item;
  }

  /** Removes and returns the messages whose time-to-live has passed. */
  expire(now: number): QueuedMessage<Out>[] {
    if (this.#withExpiry === 0) return [];
    const expired: QueuedMessage<Out>[] = [];
    this.#items = this.#items.filter((item) => {
      if (item.expiresAt === undefined || item.expiresAt > now) return true;
      expired.push(item);
      this.#forget(item);
      return false;
    });
    return expired;
  }

  /** Empties the queue and returns what it held. */
  clear(): QueuedMessage<Out>[] {
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    this.#withExpiry = 0;
    return items;
  }

  #forget(item: QueuedMessage<Out>): void {
    this.#bytes -= item.bytes;
    if (item.expiresAt !== undefined) this.#withExpiry--;
  }
}
