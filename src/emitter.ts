import mitt, { type Emitter, type Handler } from 'mitt';
import { SocketError, describeError, reportUncaught } from './errors.js';

type WithErrors = { error: { error: SocketError } };

/**
 * The typed emitter behind `on`, `once` and `off`: mitt keeps the listeners; emission survives listeners that
 * throw. A throw never skips the other listeners: it becomes an `error` event (code `LISTENER_THREW`), or goes
 * to `reportError`/`console.error` when nobody listens for errors (or an error listener itself threw).
 */
export class SocketEmitter<Events extends WithErrors> {
  readonly #mitt: Emitter<Events> = mitt();

  /** Adds a listener; returns the function that removes it (safe to call twice). */
  on<K extends keyof Events>(type: K, listener: Handler<Events[K]>): () => void {
    this.#mitt.on(type, listener);
    let isSubscribed = true;
    return () => {
      if (isSubscribed) this.#mitt.off(type, listener);
      isSubscribed = false;
    };
  }

  /** Adds a listener for the next event of this type only; returns the function that removes it. */
  once<K extends keyof Events>(type: K, listener: Handler<Events[K]>): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** Removes a listener added with `on()`; removing an unknown one does nothing. */
  off<K extends keyof Events>(type: K, listener: Handler<Events[K]>): void {
    this.#mitt.off(type, listener);
  }

  /** Whether anyone listens for this event. */
  has(type: keyof Events): boolean {
    return (this.#mitt.all.get(type)?.length ?? 0) > 0;
  }

  /** Calls every listener, from a copy, so listeners may subscribe or unsubscribe freely. */
  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    const handlers = this.#mitt.all.get(type) as Handler<Events[K]>[] | undefined;
    if (!handlers || handlers.length === 0) return;
    // The message path usually has one listener: call it without copying the list.
    if (handlers.length === 1) this.#call(type, handlers[0]!, payload);
    else for (const handler of handlers.slice()) this.#call(type, handler, payload);
  }

  /** Removes every listener. */
  clear(): void {
    this.#mitt.all.clear();
  }

  #call<K extends keyof Events>(type: K, handler: Handler<Events[K]>, payload: Events[K]): void {
    try {
      handler(payload);
    } catch (cause) {
      const message = `a "${String(type)}" listener threw: ${describeError(cause)}. The other listeners still ran; catch inside the listener.`;
      const error = new SocketError('LISTENER_THREW', message, { cause });
      if (type !== 'error' && this.has('error')) this.emit('error', { error } as Events['error']);
      else reportUncaught(error);
    }
  }
}
