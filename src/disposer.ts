/** Something to undo: clear a timer, remove a listener, drop a socket. */
export type Disposer = () => void;

const ignore = () => {};

/** The longest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Owns the effects of one scope (the instance, a connection, a state). Disposal runs the disposers
 * last-in-first-out, runs every one even when one throws, and happens once; a disposer added after that runs at
 * once, so nothing can outlive its scope.
 */
export class DisposerScope {
  // An array allocated on first use: thousands of sockets each hold several scopes, each with a handful of
  // entries at most, where a Set's hash table would cost more than a linear search saves.
  #disposers: Disposer[] | undefined;
  #isDisposed = false;
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void = ignore) {
    this.#onError = onError;
  }

  get isDisposed(): boolean {
    return this.#isDisposed;
  }

  /** Registers a disposer; returns it so the caller can also run it early (it then runs only once). */
  add(disposer: Disposer): Disposer {
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      this.#forget(once);
      disposer();
    };
    this.#keep(once);
    return once;
  }

  /** A `setTimeout` owned by this scope; the returned function cancels it early. */
  timeout(fn: () => void, ms: number, unref = false): Disposer {
    const cancel = () => {
      this.#forget(cancel);
      clearTimeout(id);
    };
    // Clamped: a longer delay (a custom delay() result, say) would otherwise fire at once.
    const id = setTimeout(() => {
      this.#forget(cancel);
      fn();
    }, Math.min(ms, MAX_TIMER_MS));
    if (unref) (id as { unref?: () => void }).unref?.();
    this.#keep(cancel);
    return cancel;
  }

  /** An event listener owned by this scope; the returned function removes it early. */
  listen<E>(target: { addEventListener(t: string, l: (e: E) => void): void; removeEventListener(t: string, l: (e: E) => void): void }, type: string, listener: (e: E) => void): Disposer {
    target.addEventListener(type, listener);
    const off = () => {
      this.#forget(off);
      target.removeEventListener(type, listener);
    };
    this.#keep(off);
    return off;
  }

  /** Runs every disposer, newest first. Idempotent. */
  dispose(): void {
    if (this.#isDisposed) return;
    this.#isDisposed = true;
    const disposers = this.#disposers ?? [];
    this.#disposers = undefined;
    for (let i = disposers.length - 1; i >= 0; i--) this.#run(disposers[i]!);
  }

  #keep(disposer: Disposer): void {
    if (this.#isDisposed) this.#run(disposer);
    else (this.#disposers ??= []).push(disposer);
  }

  // Run early, a disposer leaves the set, so a long-lived scope does not grow with every expired timer.
  #forget(disposer: Disposer): void {
    const disposers = this.#disposers;
    const index = disposers ? disposers.lastIndexOf(disposer) : -1;
    if (index >= 0) disposers!.splice(index, 1);
  }

  #run(disposer: Disposer): void {
    try {
      disposer();
    } catch (error) {
      this.#onError(error);
    }
  }
}
