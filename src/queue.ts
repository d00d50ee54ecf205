import type { QueueOptions, WireData } from './options.js';
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

/** The bounded outgoing queue: a FIFO limited by count and by bytes, with an overflow policy and expiry. */
export class OutgoingQueue<Out> {
  #items: QueuedMessage<Out>[] = [];
  #bytes = 0;
  readonly #limits: Required<Omit<QueueOptions, 'ttlMs'>>;

  constructor(limits: Required<Omit<QueueOptions, 'ttlMs'>>) {
    this.#limits = limits;
  }

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

  /**
   * Queues a message, or refuses it: `dropped` (full, `drop-newest`, or a message that could never fit) or
   * `rejected` (full, `reject`). `gone` receives what leaves meanwhile: the expired, and the oldest evicted to
   * make room (`drop-oldest`).
   */
  push(message: Out, data: WireData, now: number, ttlMs: number | undefined, gone: (item: QueuedMessage<Out>, reason: 'expired' | 'overflow') => void): 'queued' | 'dropped' | 'rejected' {
    for (const item of this.expire(now)) gone(item, 'expired');
    const { maxMessages, maxBytes, overflow } = this.#limits;
    const bytes = byteSize(data);
    const fits = () => this.#items.length < maxMessages && this.#bytes + bytes <= maxBytes;
    if (!fits()) {
      // A message larger than the whole budget can never fit: evicting everything for it would lose more.
      if (overflow !== 'drop-oldest' || bytes > maxBytes || maxMessages === 0) return overflow === 'reject' ? 'rejected' : 'dropped';
      while (!fits()) gone(this.shift()!, 'overflow');
    }
    this.#items.push({ message, data, bytes, queuedAt: now, expiresAt: ttlMs === undefined ? undefined : now + ttlMs });
    this.#bytes += bytes;
    return 'queued';
  }

  /** Takes the oldest message out. */
  shift(): QueuedMessage<Out> | undefined {
    const item = this.#items.shift();
    if (item) this.#bytes -= item.bytes;
    return item;
  }

  /** Removes and returns the messages whose time-to-live has passed. */
  expire(now: number): QueuedMessage<Out>[] {
    const expired = this.#items.filter((item) => item.expiresAt! <= now);
    if (expired.length) {
      this.#items = this.#items.filter((item) => !(item.expiresAt! <= now));
      for (const item of expired) this.#bytes -= item.bytes;
    }
    return expired;
  }

  /** Empties the queue and returns what it held. */
  clear(): QueuedMessage<Out>[] {
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return items;
  }
}
