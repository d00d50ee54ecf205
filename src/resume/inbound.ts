/** Acknowledge at once once this many bytes wait for an acknowledgement, so a peer's byte bound is not reached first. */
const ACK_BYTES = 262_144;

/**
 * The receiving half of a session, on either side (docs/protocol.md §3, §5, §6): it counts the peer's data
 * messages, skips the ones the peer resends that were received already, and acknowledges cumulatively: at once
 * after `ackEvery` messages or 256 KiB, otherwise within `ackDelayMs`. `ack` writes ACK(`received`) if it can,
 * and says whether it did.
 */
export class Inbound {
  /** Data messages received from the peer in this session: the number of the next one. */
  received = 0;
  /** What the last acknowledgement said. */
  #acked = 0;
  /** Bytes received since then. */
  #bytes = 0;
  /** Messages the peer is about to resend that were received already. */
  #skip = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #delayMs: number;
  readonly #every: number;
  readonly #ack: () => boolean;

  constructor(ackDelayMs: number, ackEvery: number, ack: () => boolean) {
    this.#delayMs = ackDelayMs;
    this.#every = ackEvery;
    this.#ack = ack;
  }

  /** Counts a data message of `bytes` as it arrives; false for a duplicate, which is to be ignored. */
  take(bytes: number): boolean {
    if (this.#skip > 0) {
      this.#skip--;
      return false;
    }
    this.received++;
    this.#bytes += bytes;
    return true;
  }

  /** After a message was delivered: acknowledges now if enough waits, or else arms the timer. */
  settle(): void {
    if (this.received - this.#acked >= this.#every || this.#bytes >= ACK_BYTES) this.now();
    else this.#timer ??= setTimeout(() => this.now(), this.#delayMs);
  }

  /** Acknowledges what was received, now. */
  now(): void {
    this.stop();
    if (this.#ack()) this.markAcked();
  }

  /** The peer knows what was received so far (an ACK or an offer said it). */
  markAcked(): void {
    this.#acked = this.received;
    this.#bytes = 0;
  }

  /**
   * The peer's next data message is number `count` (NEXT, or the next of a WELCOME): above `received`, the peer
   * gave up the messages between (their number is returned); below, the next ones are duplicates, skipped.
   * `isAcked`: the new count needs no acknowledgement of its own.
   */
  moveTo(count: number, isAcked = false): number {
    const missed = count - this.received;
    if (missed < 0) {
      this.#skip = -missed;
      return 0;
    }
    this.received = count;
    if (isAcked) this.#acked = count;
    return missed;
  }

  /** A session that starts over (0), or continues from a count the peer knows. */
  reset(received = 0): void {
    this.stop();
    this.received = this.#acked = received;
    this.#bytes = this.#skip = 0;
  }

  /** Disarms the timer (the connection is gone, or an ACK is going out anyway). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
