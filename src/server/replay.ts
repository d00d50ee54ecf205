import { Fifo } from '../resume/outbox.js';
import type { SessionRecord, StoredMessage } from './store.js';

/**
 * The messages a session keeps for resending: everything sent to the client and not yet acknowledged, oldest
 * first, numbered from `first` (the buffer stays a contiguous run of numbers: messages only leave from the front).
 * It counts its bytes; the session applies the bounds and reports what leaves.
 */
export class ReplayBuffer {
  readonly #items = new Fifo<StoredMessage>();
  /** The bytes of the messages held (UTF-8 for text). */
  bytes = 0;
  /** The sequence number of the oldest message held. */
  first: number;
  /** Every message numbered below this was written to some connection (it may have arrived). */
  written: number;

  /** Empty, or the messages of a parked session's record. */
  constructor(record?: SessionRecord) {
    this.first = record?.first ?? 0;
    for (const message of record?.messages ?? []) this.push(message);
    this.written = this.next;
  }

  get length(): number {
    return this.#items.length;
  }

  /** The sequence number the next message gets. */
  get next(): number {
    return this.first + this.#items.length;
  }

  /** The message numbered `first + index`. */
  at(index: number): StoredMessage | undefined {
    return this.#items.at(index);
  }

  push(message: StoredMessage): void {
    this.#items.push(message);
    this.bytes += sizeOf(message);
  }

  /** Takes the oldest message out (the caller knows there is one); the next one's number becomes `first`. */
  shift(): StoredMessage {
    const message = this.#items.shift()!;
    this.first++;
    this.bytes -= sizeOf(message);
    return message;
  }

  /** Empties the buffer; returns what it held, oldest first, each with whether it had been written. */
  clear(): [StoredMessage, boolean][] {
    const first = this.first;
    const held = this.#items.clear();
    this.first += held.length;
    this.bytes = 0;
    return held.map((message, i) => [message, first + i < this.written]);
  }

  toArray(): StoredMessage[] {
    return this.#items.toArray();
  }
}

const sizeOf = ({ data }: StoredMessage) => (typeof data === 'string' ? Buffer.byteLength(data) : data.length);

/**
 * The bytes of a message, as kept for resending. A small view of a large buffer is copied: `ws` hands out
 * messages as slices of what it read (64 KiB at a time), and keeping the slice would keep all of it, far beyond
 * what `maxBytes` counts.
 */
export function toBytes(data: Buffer | ArrayBuffer | ArrayBufferView): Uint8Array {
  const bytes = Buffer.isBuffer(data) ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
  return bytes.buffer.byteLength > 8192 && bytes.byteLength * 2 < bytes.buffer.byteLength ? Buffer.from(bytes) : bytes;
}
