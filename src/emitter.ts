import { SocketError, describeError, reportUncaught } from './errors.js';

type WithErrors = { error: { error: SocketError } };
type Handler<T> = (event: T) => void;
type Handlers<Events> = { [K in keyof Events]?: Handler<Events[K]> | Handler<Events[K]>[] };

/**
 * The typed emitter behind `on`, `once` and `off`. Emission survives listeners that throw: a throw never skips
 * the other listeners; it becomes an `error` event (code `LISTENER_THREW`), or goes to `reportError`/
 * `console.error` when nobody listens for errors (or an error listener itself threw).
 *
 * Thousands of sockets each hold one, usually with a listener or two: the table is allocated with the first
 * listener, a type with one listener holds the function itself, and a list is made only for a second one.
 */
export class SocketEmitter<Events extends WithErrors> {
  #handlers: Handlers<Events> | undefined;

  /** Adds a listener; returns the function that removes it (safe to call twice). */
  on<K extends keyof Events>(type: K, listener: Handler<Events[K]>): () => void {
    const handlers = (this.#handlers ??= {} as Handlers<Events>);
    const current = handlers[type];
    handlers[type] = current === undefined ? listener : Array.isArray(current) ? [...current, listener] : [current, listener];
    let isSubscribed = true;
    return () => {
      if (isSubscribed) this.off(type, listener);
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

  /** Removes one registration of a listener; removing an unknown one does nothing. */
  off<K extends keyof Events>(type: K, listener: Handler<Events[K]>): void {
    const handlers = this.#handlers;
    const current = handlers?.[type];
    if (current === listener) delete handlers![type];
    else if (Array.isArray(current)) {
      const index = current.lastIndexOf(listener);
      // A new list rather than a splice: an emit under way keeps iterating the list it started with.
      if (index >= 0) handlers![type] = current.length === 2 ? current[1 - index] : current.filter((_, i) => i !== index);
    }
  }

  /** Whether more than one listener listens for this event (an emit then walks a list). */
  hasMany(type: keyof Events): boolean {
    return Array.isArray(this.#handlers?.[type]);
  }

  /** Whether anyone listens for this event. */
  has(type: keyof Events): boolean {
    return this.#handlers?.[type] !== undefined;
  }

  /**
   * Calls every listener registered when the emit began, so listeners may subscribe or unsubscribe freely. It
   * stops early once a listener cleared the emitter (disposed the socket), or when `isLive` turns false (a
   * listener dropped the connection the event belongs to).
   */
  emit<K extends keyof Events>(type: K, payload: Events[K], isLive?: () => boolean): void {
    const current = this.#handlers?.[type];
    if (current === undefined) return;
    if (!Array.isArray(current)) return this.#call(type, current, payload);
    // Lists are never mutated in place (see off), so iterating this one is iterating a snapshot.
    for (const handler of current) {
      if (this.#handlers === undefined || (isLive && !isLive())) return;
      this.#call(type, handler, payload);
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.#handlers = undefined;
  }

  #call<K extends keyof Events>(type: K, handler: Handler<Events[K]>, payload: Events[K]): void {
    try {
      handler(payload);
    } catch (cause) {
      const error = new SocketError('LISTENER_THREW', `a "${String(type)}" listener threw: ${describeError(cause)}`, { cause });
      if (type !== 'error' && this.has('error')) this.emit('error', { error } as Events['error']);
      else reportUncaught(error);
    }
  }
}
