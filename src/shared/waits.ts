import { SocketError } from '../index.js';

/** Subscribes a listener; returns the function that removes it. */
type Subscribe<T> = (listener: (value: T) => void) => () => void;

/** The longest delay a timer takes (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A promise for the next `open`: resolves at the first `opened` signal, rejects with the error `onEnd` passes
 * when the handle ends, `ABORTED` when the signal aborts and `TIMEOUT` after `timeoutMs`. What it registered goes
 * when it settles.
 */
export function nextOpen(
  subscribe: Subscribe<void>,
  onEnd: Subscribe<SocketError>,
  { signal, timeoutMs }: { signal?: AbortSignal; timeoutMs?: number },
): Promise<void> {
  if (timeoutMs !== undefined && !(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
    throw new RangeError(`opened(): timeoutMs must be > 0 and <= ${MAX_TIMER_MS}, got ${timeoutMs}.`);
  }
  return new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (error?: SocketError) => {
      offOpen();
      offEnd();
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => finish(new SocketError('ABORTED', 'opened(): aborted', { cause: signal?.reason }));
    const offOpen = subscribe(() => finish());
    const offEnd = onEnd((error) => finish(error));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    if (timeoutMs !== undefined) timer = setTimeout(() => finish(new SocketError('TIMEOUT', `opened(): not open within ${timeoutMs} ms`)), timeoutMs);
  });
}

/**
 * An async iterator over values from now on; it ends when the handle ends or the signal aborts (at once if
 * `isOver`). Leaving the loop early releases its listener; values wait in memory until the loop takes them.
 */
export function iterate<T>(subscribe: Subscribe<T>, onEnd: (listener: () => void) => () => void, isOver: boolean, signal: AbortSignal | undefined): AsyncIterableIterator<T> {
  const buffered: T[] = [];
  let wake: ((result: IteratorResult<T>) => void) | undefined;
  let isDone = isOver || signal?.aborted === true;
  let offValue = () => {};
  let offEnd = () => {};
  const stop = () => {
    isDone = true;
    offValue();
    offEnd();
    signal?.removeEventListener('abort', stop);
    wake?.({ value: undefined, done: true });
    wake = undefined;
  };
  if (!isDone) {
    offValue = subscribe((value) => {
      const waiting = wake;
      wake = undefined;
      if (waiting) waiting({ value, done: false });
      else buffered.push(value);
    });
    offEnd = onEnd(stop);
    signal?.addEventListener('abort', stop);
  }
  const iterator: AsyncIterableIterator<T> = {
    next: () => {
      if (buffered.length) return Promise.resolve({ value: buffered.shift()!, done: false });
      if (isDone) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (wake = resolve));
    },
    return: () => {
      stop();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
