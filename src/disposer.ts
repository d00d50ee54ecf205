/** Something to undo: clear a timer, remove a listener, drop a socket. */
export type Disposer = () => void;

/**
 * Owns the effects of one scope (the instance, a connection, a state). Disposal runs the disposers
 * last-in-first-out, runs every one even when one throws, and happens once; a disposer added after that runs at
 * once, so nothing can outlive its scope.
 */
export class DisposerScope {
  #disposers = new Set<Disposer>();
  #isDisposed = false;
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void = () => {}) {
    this.#onError = onError;
  }

  get isDisposed(): boolean {
    return this.#isDisposed;
  }

  /** Registers a disposer; returns it so the caller can also run it early (it then runs only once). */
  add(disposer: Disposer): Disposer {
    // Run early, a disposer leaves the set, so a long-lived scope does not grow with every expired timer.
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      this.#disposers.delete(once);
      disposer();
    };
    if (this.#isDisposed) this.#run(once);
    else this.#disposers.add(once);
    return once;
  }

  /** A `setTimeout` owned by this scope; the returned function cancels it early. */
  timeout(fn: () => void, ms: number, unref = false): Disposer {
    const id = setTimeout(() => {
      cancel();
      fn();
    }, ms);
    if (unref) (id as { unref?: () => void }).unref?.();
    const cancel = this.add(() => clearTimeout(id));
    return cancel;
  }

  /** An event listener owned by this scope. */
  listen<E>(target: { addEventListener(t: string, l: (e: E) => void): void; removeEventListener(t: string, l: (e: E) => void): void }, type: string, listener: (e: E) => void): Disposer {
    target.addEventListener(type, listener);
    return this.add(() => target.removeEventListener(type, listener));
  }

  /** Runs every disposer, newest first. Idempotent. */
  dispose(): void {
    if (this.#isDisposed) return;
    this.#isDisposed = true;
    const disposers = [...this.#disposers];
    for (let i = disposers.length - 1; i >= 0; i--) this.#run(disposers[i]!);
  }

  #run(disposer: Disposer): void {
    try {
      disposer();
    } catch (error) {
      this.#onError(error);
    }
  }
}
