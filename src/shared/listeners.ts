type Listener = (event: any) => void;

/**
 * The listeners of a shared socket's handle: `on`, `once`, `off`, and `emit`, which calls the listeners of a type
 * at once, in the order they were added, over a copy (a listener may remove itself or another). One that throws
 * does not stop the rest: its error goes to the runtime (`reportError`, else `console.error`).
 */
export class Listeners<Events> {
  #listeners: Map<keyof Events, Listener[]> | undefined;

  /** Adds a listener; returns the function that removes it (safe to call twice). */
  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    if (!this.isDeaf()) {
      const listeners = (this.#listeners ??= new Map());
      listeners.set(type, [...(listeners.get(type) ?? []), listener]);
    }
    return () => this.off(type, listener);
  }

  /** Adds a listener for the next event of this type only; returns the function that removes it. */
  once<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** Removes a listener; removing an unknown one does nothing. */
  off<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): void {
    const list = this.#listeners?.get(type)?.filter((l) => l !== listener);
    if (list?.length) this.#listeners!.set(type, list);
    else this.#listeners?.delete(type);
  }

  /** @internal Calls the listeners of `type` (of `listeners`, when given: a set taken earlier). */
  protected emit<K extends keyof Events>(type: K, event: Events[K], listeners = this.#listeners): void {
    for (const listener of listeners?.get(type) ?? []) {
      try {
        listener(event);
      } catch (error) {
        ((globalThis as { reportError?: (error: unknown) => void }).reportError ?? console.error)(error);
      }
    }
  }

  /** @internal Whether anyone listens for `type`. */
  protected hears(type: keyof Events): boolean {
    return !!this.#listeners?.has(type);
  }

  /** @internal The listeners now; with `forget`, they are removed too. */
  protected listeners(forget?: boolean): Map<keyof Events, Listener[]> | undefined {
    const listeners = this.#listeners;
    if (forget) this.#listeners = undefined;
    return listeners;
  }

  /** @internal Whether new listeners are refused (a disposed handle). */
  protected isDeaf(): boolean {
    return false;
  }
}
