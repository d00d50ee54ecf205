import type { CloseRecord } from './machine.js';
import { MAX_TIMER_MS } from './transport.js';
import { SocketError } from './errors.js';

/** The final close as a wait sees it: whether it was `dispose()`, and the final close record. */
export interface FinalClose {
  readonly isDisposed: boolean;
  readonly close: CloseRecord | undefined;
}

/** What a wait needs from the socket: a subscription to one event, and one to the final close. */
export interface WaitSource<T> {
  /** Subscribes to the event the wait is for; returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void;
  /** Subscribes to the final close; returns the unsubscribe. */
  onFinal(listener: (final: FinalClose) => void): () => void;
}

/** The error of an `opened()` that the final close ended: `DISPOSED`, or `CLOSED` with the close record. */
export function closedError(what: string, final: FinalClose): SocketError {
  if (final.isDisposed) return new SocketError('DISPOSED', `${what}: disposed`);
  const close = final.close;
  const how = close ? ` (${close.code}, ${close.cause})` : '';
  return new SocketError('CLOSED', `${what}: closed for good${how}`, close && { close });
}

/** Throws a RangeError for a `timeoutMs` a timer cannot honour; returns the options. */
export function checkTimeout<T extends { timeoutMs?: number }>(what: string, options: T): T {
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
    throw new RangeError(`${what}: timeoutMs must be > 0 and <= ${MAX_TIMER_MS}, got ${timeoutMs}.`);
  }
  return options;
}

/**
 * A promise for the next event, rejecting with `DISPOSED` or `CLOSED` at the final close, `ABORTED` when the
 * signal aborts and `TIMEOUT` after `timeoutMs`. Everything it registered is released when it settles.
 */
export function nextEvent(source: WaitSource<unknown>, what: string, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
  const { signal, timeoutMs } = checkTimeout(what, options);
  return new Promise<void>((resolve, reject) => {
    let offEvent: (() => void) | undefined;
    let offFinal: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (error?: SocketError) => {
      offEvent?.();
      offFinal?.();
      signal?.removeEventListener('abort', aborted);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const aborted = () => finish(new SocketError('ABORTED', `${what}: aborted`, { cause: signal?.reason }));
    if (signal?.aborted) return aborted();
    offEvent = source.subscribe(() => finish());
    offFinal = source.onFinal((final) => finish(closedError(what, final)));
    signal?.addEventListener('abort', aborted);
    if (timeoutMs !== undefined) timer = setTimeout(() => finish(new SocketError('TIMEOUT', `${what}: not open within ${timeoutMs} ms`)), timeoutMs);
  });
}

/**
 * An async iterator over events from now on. It ends at the final close or when the signal aborts (at once if
 * `isOver`); leaving the loop early releases its listener. Values wait in memory until the loop takes them.
 */
export function iterate<T>(source: WaitSource<T>, isOver: boolean, signal: AbortSignal | undefined): AsyncIterableIterator<T> {
  const buffer: T[] = [];
  const waiting: ((result: IteratorResult<T, undefined>) => void)[] = [];
  let offEvent: (() => void) | undefined;
  let offFinal: (() => void) | undefined;
  let isDone = isOver || signal?.aborted === true;
  const finish = () => {
    isDone = true;
    offEvent?.();
    offFinal?.();
    signal?.removeEventListener('abort', finish);
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
  };
  if (!isDone) {
    offEvent = source.subscribe((value) => {
      const resolve = waiting.shift();
      if (resolve) resolve({ value, done: false });
      else buffer.push(value);
    });
    offFinal = source.onFinal(finish);
    signal?.addEventListener('abort', finish);
  }
  const iterator: AsyncIterableIterator<T> = {
    next: () => {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      if (isDone) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return: () => {
      buffer.length = 0;
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
