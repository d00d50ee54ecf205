type Handler = (payload: any) => void;

/**
 * A small typed emitter with the core's delivery rule: events go out one at a time, in order, from one FIFO,
 * never nested. An event emitted while a listener runs waits until the current one has reached every listener.
 * A listener that throws does not stop the others: `onThrow` hears of it.
 */
export class Emitter<Events extends Record<string, unknown>> {
  #handlers: Partial<Record<keyof Events, Handler[]>> | undefined;
  /** Events (type, payload pairs) and tasks waiting for the one being delivered. */
  #backlog: unknown[] | undefined;
  #isEmitting = false;
  /** clear() was called: the listeners go when the events stop. */
  #isCleared = false;

  constructor(private readonly onThrow: (type: string, error: unknown) => void) {}

  on<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): () => void {
    const handlers: Partial<Record<keyof Events, Handler[]>> = (this.#handlers ??= {});
    // A new list rather than a push: an emit under way keeps the list it started with.
    handlers[type] = [...(handlers[type] ?? []), listener];
    let isOn = true;
    return () => {
      if (isOn) this.off(type, listener);
      isOn = false;
    };
  }

  once<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): () => void {
    const off = this.on(type, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): void {
    const list = this.#handlers?.[type];
    const index = list ? list.lastIndexOf(listener) : -1;
    if (index < 0) return;
    const rest = list!.filter((_, i) => i !== index);
    if (rest.length) this.#handlers![type] = rest;
    else delete this.#handlers![type];
  }

  has(type: keyof Events): boolean {
    return this.#handlers?.[type] !== undefined;
  }

  /**
   * Removes every listener once the events going out and waiting have gone out, as the core does: a dispose() from a
   * listener still reports its drops.
   */
  clear(): void {
    this.#isCleared = true;
    if (!this.#isEmitting) this.#handlers = undefined;
  }

  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    if (this.#handlers?.[type] === undefined) return;
    if (this.#isEmitting) (this.#backlog ??= []).push(type, payload);
    else this.#drain(type, payload);
  }

  /**
   * Runs `change` at once, holding the events it emits until it is done: a listener that calls back in (a `send()`
   * from a `drop` listener, say) finds the change complete.
   */
  batch(change: () => void): void {
    if (this.#isEmitting) return change();
    this.#isEmitting = true;
    try {
      change();
    } finally {
      this.#isEmitting = false;
    }
    const backlog = this.#backlog;
    if (backlog?.length) this.#drain(backlog.shift(), backlog.shift());
    else if (this.#isCleared) this.#handlers = undefined;
  }

  /** Runs `task` once every event emitted before it has been delivered (at once if none is waiting). */
  after(task: () => void): void {
    if (this.#isEmitting) (this.#backlog ??= []).push(task, undefined);
    else this.#drain(task, undefined);
  }

  #drain(first: unknown, payload: unknown): void {
    this.#isEmitting = true;
    try {
      let type = first;
      for (;;) {
        if (typeof type === 'function') this.#call('task', type as Handler, undefined);
        else {
          const list = this.#handlers?.[type as keyof Events];
          if (list) for (const handler of list) this.#call(type as string, handler, payload);
        }
        const backlog = this.#backlog;
        if (!backlog?.length) break;
        type = backlog.shift();
        payload = backlog.shift();
      }
    } finally {
      this.#isEmitting = false;
      this.#backlog = undefined;
      if (this.#isCleared) this.#handlers = undefined;
    }
  }

  #call(type: string, handler: Handler, payload: unknown): void {
    try {
      handler(payload);
    } catch (error) {
      this.onThrow(type, error);
    }
  }
}
