import { describeError } from './errors.js';
import type { DropReason, SendResult } from './events.js';
import { Link } from './link.js';
import type { State } from './machine.js';
import type { WireData } from './options.js';
import { OutgoingQueue, type QueuedMessage } from './queue.js';
import type { WebSocketLike } from './transport.js';

/**
 * The second layer of a `ReconnectingSocket` (over `Link`, one connection; under the class, which runs the
 * machine): `send()` and the one bounded queue. A message either goes out on the open socket, or waits in the
 * queue and goes out once, in order, after the next `open` listeners; or one `drop` event says why it never will.
 * @internal
 */
export abstract class Outbox<In, Out> extends Link<In, Out> {
  #queue: OutgoingQueue<Out> | undefined;
  /** The socket whose backlog goes out after its `open` listeners: until then, their sends go first. */
  #flushFor: WebSocketLike | undefined;

  /** Whether `dispose()` was called (or the `signal` aborted). */
  abstract get isDisposed(): boolean;

  /** Whether the socket is closed for good, or closes for good once its close handshake ends. */
  protected abstract get isStopping(): boolean;

  /** Bytes not yet on the wire: the queue (UTF-8 for strings) plus the inner socket's buffer. */
  get bufferedAmount(): number {
    return (this.#queue?.bytes ?? 0) + (this.socket?.bufferedAmount ?? 0);
  }

  /** A snapshot of the outgoing queue, oldest first. */
  get queued(): QueuedMessage<Out>[] {
    return this.#queue?.entries() ?? [];
  }

  /**
   * Sends now if open, otherwise queues (bounded; see the `queue` option). Never throws for the socket's state:
   * the result says what happened. A message the codec cannot turn into wire data (a string, binary data or a
   * Blob) is refused with `'failed'` and an `ENCODE_FAILED` error, in every state.
   */
  send(message: Out, options?: { ttlMs?: number }): SendResult {
    const ttlMs = options?.ttlMs ?? this.options.queue.ttlMs;
    // Misuse throws whatever the state, so a bad ttlMs cannot hide until the first outage.
    if (ttlMs !== undefined && !(ttlMs > 0)) throw new RangeError(`send(): ttlMs must be > 0, got ${ttlMs}.`);
    let result: SendResult = 'disposed';
    if (!this.isDisposed) {
      try {
        const data = this.options.codec.encode(message);
        if (typeof data !== 'string' && !((data as ArrayBufferLike)?.byteLength >= 0 || (data as Blob)?.size >= 0)) throw new TypeError(`not wire data: ${typeof data}`);
        // encode() is user code: it may have closed or disposed the socket, so the state is read afresh.
        result = this.isDisposed ? 'disposed' : this.#place(message, data, ttlMs);
      } catch (cause) {
        this.report('ENCODE_FAILED', `encode failed: ${describeError(cause)}`, cause, message);
        result = 'failed';
      }
    }
    this.drain();
    return result;
  }

  /** Empties the outgoing queue and returns what it held (no `drop` events). */
  clearQueue(): QueuedMessage<Out>[] {
    const queue = this.#queue;
    this.#queue = undefined;
    return queue?.clear() ?? [];
  }

  /** Sends now if the socket is open and nothing waits ahead of the message; else queues it. */
  #place(message: Out, data: WireData, ttlMs: number | undefined): SendResult {
    const ws = this.socket;
    if (this.state === 'open' && ws!.readyState === 1 && (!this.#queue?.size || this.#flushFor === ws)) return this.#write(ws!, message, data) ? 'sent' : 'failed';
    if (this.isStopping && !this.options.queue.queueWhileClosed) return 'closed';
    const queue = (this.#queue ??= new OutgoingQueue(this.options.queue));
    const result = queue.push(message, data, Date.now(), ttlMs, (item, reason) => this.#drop(item.message, reason));
    if (result === 'dropped') this.#drop(message, 'overflow');
    return result;
  }

  /** The backlog goes out after the `open` listeners: their sends go first, and their close() stops it. */
  protected opened(ws: WebSocketLike): void {
    if (!this.#queue) return;
    this.#flushFor = ws;
    this.emit(() => this.#flush(ws));
  }

  /** Sends the backlog in order while the socket stays open; expired messages are dropped first. */
  #flush(ws: WebSocketLike): void {
    const queue = this.#queue;
    if (this.#flushFor !== ws || !queue) return;
    this.#flushFor = undefined;
    for (const { message } of queue.expire(Date.now())) this.#drop(message, 'expired');
    for (let item; this.socket === ws && ws.readyState === 1 && (item = queue.shift()); ) if (!this.#write(ws, item.message, item.data)) this.#drop(item.message, 'failed');
    if (!queue.size && this.#queue === queue) this.#queue = undefined;
  }

  /** Writes to the open socket; a refusal (a data type it cannot send, say) is reported and not retried. */
  #write(ws: WebSocketLike, message: Out, data: WireData): boolean {
    try {
      ws.send(data);
      return true;
    } catch (cause) {
      this.report('SEND_FAILED', `send refused: ${describeError(cause)}`, cause, message);
      return false;
    }
  }

  /** The final close drops the queue when nothing will send it: on dispose(), and on close() unless `queueWhileClosed`. */
  protected stopped(end: State['end']): void {
    const queue = this.#queue;
    if (queue && (end === 'disposed' || (end === 'user' && !this.options.queue.queueWhileClosed))) {
      this.#queue = undefined;
      for (const { message } of queue.clear()) this.#drop(message, end === 'disposed' ? end : 'closed');
    }
  }

  #drop(message: Out, reason: DropReason): void {
    this.emit('drop', { message, reason });
  }
}
