import { SocketError } from './errors.js';
import type { CloseRecord, StateName } from './machine.js';
import { MAX_TIMER_MS } from './transport.js';

/**
 * What the waits need of a socket: its state and two of its events, with the `end` of its run (closed for good).
 * `ReconnectingSocket` and `SharedSocket` are both waitable.
 */
export interface Waitable<In = unknown> {
  readonly state: StateName;
  readonly isDisposed: boolean;
  readonly retry: unknown;
  readonly lastClose: CloseRecord | undefined;
  on(type: 'open', listener: (event: unknown) => void): () => void;
  on(type: 'message', listener: (event: { data: In }) => void): () => void;
  on(type: 'end', listener: (event: { close: CloseRecord; isDisposed: boolean }) => void): () => void;
}

/** Closed for good now: by `close()`, by the policy giving up, or disposed (an idle socket has no last close yet). */
const isOver = (socket: Waitable<any>) => socket.isDisposed || (socket.state === 'closed' && !socket.retry && socket.lastClose !== undefined);

/** The error of an `opened()` that the end of the run settled. */
const endError = (isDisposed: boolean, close: CloseRecord | undefined) =>
  isDisposed ? new SocketError('DISPOSED', 'opened(): disposed') : new SocketError('CLOSED', `opened(): closed for good (${close?.code}, ${close?.cause})`, { close });

/** Throws a RangeError for a `timeoutMs` a timer cannot honour. */
export function checkTimeout(what: string, timeoutMs: number | undefined): void {
  if (timeoutMs !== undefined && !(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
    throw new RangeError(`${what}: timeoutMs must be > 0 and <= ${MAX_TIMER_MS}, got ${timeoutMs}.`);
  }
}

/**
 * Resolves at the socket's next `open` (at once if it is open). Rejects with a `SocketError` whose code is
 * `DISPOSED`, `CLOSED` (closed for good: `close()`, or the reconnect policy gave up; `error.close` is the final
 * close record), `ABORTED` (the signal) or `TIMEOUT` (`timeoutMs`). A socket already closed for good rejects at
 * once; an idle one (`autoConnect: false`) waits for `connect()`. Everything it registered goes when it settles.
 *
 * @example
 * ```ts
 * await opened(socket, { timeoutMs: 5000 });
 * ```
 */
export function opened(socket: Waitable<any>, { signal, timeoutMs }: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
  checkTimeout('opened()', timeoutMs);
  if (isOver(socket)) return Promise.reject(endError(socket.isDisposed, socket.lastClose));
  if (socket.state === 'open') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: SocketError) => {
      offOpen();
      offEnd();
      signal?.removeEventListener('abort', aborted);
      clearTimeout(timer);
      error ? reject(error) : resolve();
    };
    const aborted = () => finish(new SocketError('ABORTED', 'opened(): aborted', { cause: signal?.reason }));
    const offOpen = socket.on('open', () => finish());
    const offEnd = socket.on('end', ({ close, isDisposed }) => finish(endError(isDisposed, close)));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(new SocketError('TIMEOUT', `opened(): not open within ${timeoutMs} ms`)), timeoutMs);
    if (signal?.aborted) aborted();
    else signal?.addEventListener('abort', aborted);
  });
}

/**
 * An async iterator over the socket's decoded messages from now on. It ends at the final close (`close()`, the
 * policy giving up, `dispose()`; at once if the socket is already closed for good), or when the signal aborts.
 * Leaving the loop early removes its listener. Messages wait in memory until the loop takes them.
 *
 * @example
 * ```ts
 * for await (const message of messages(socket)) handle(message);
 * ```
 */
export function messages<In>(socket: Waitable<In>, { signal }: { signal?: AbortSignal } = {}): AsyncIterableIterator<In> {
  const buffer: In[] = [];
  const waiting: ((result: IteratorResult<In, undefined>) => void)[] = [];
  const finish = () => {
    offMessage();
    offEnd();
    signal?.removeEventListener('abort', finish);
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
    isDone = true;
  };
  let isDone = false;
  const offMessage = socket.on('message', ({ data }) => {
    const resolve = waiting.shift();
    resolve ? resolve({ value: data, done: false }) : buffer.push(data);
  });
  const offEnd = socket.on('end', finish);
  if (signal?.aborted || isOver(socket)) finish();
  else signal?.addEventListener('abort', finish);
  const iterator: AsyncIterableIterator<In> = {
    next: () =>
      buffer.length > 0
        ? Promise.resolve({ value: buffer.shift()!, done: false })
        : isDone
          ? Promise.resolve({ value: undefined, done: true })
          : new Promise((resolve) => waiting.push(resolve)),
    return: () => {
      buffer.length = 0;
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
