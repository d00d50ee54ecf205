import { SocketError, describeError, reportUncaught } from './errors.js';

type Listener = (event: any) => void;
/** A type's listeners: the usual single one as itself, several in a list (made with the second). */
type Listeners = Listener | Listener[];

/**
 * Typed listeners and the one queue events go out from. An event is queued while the change that causes it is
 * made, and goes out when the outermost call is done: one at a time, in order, never inside another event. A
 * call made by a listener acts at once, and its events queue behind those already waiting. A listener that
 * throws does not stop the others: its error goes out as an `error` event (`LISTENER_THREW`), or to the runtime
 * (`reportError`, else `console.error`) when it was an error listener or nobody listens for errors.
 */
export class Emitter<Events extends { error: { error: SocketError } }> {
  #listeners: Record<string, Listeners> | undefined;
  /** Events waiting to go out (type and payload), and steps that run in their turn (a function); made with the first. */
  #queue: unknown[] | undefined;
  /** Events are going out, or a change is being made: new ones wait their turn. */
  #isBusy = true;

  /** Adds a listener; returns the function that removes it (safe to call twice). */
  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    // Once silenced (dispose), nothing is added, unless events still wait to go out (from dispose itself).
    if (!this.isSilent() || this.#queue) {
      const all = (this.#listeners ??= {});
      const current = all[type as string];
      all[type as string] = current ? [...[current].flat(), listener] : listener;
    }
    let isOn = true;
    return () => {
      if (isOn) this.off(type, listener);
      isOn = false;
    };
  }

  /** Adds a listener for the next event of this type only; returns the function that removes it. */
  once<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** Removes a listener added with `on()`; removing an unknown one does nothing. */
  off<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): void {
    const all = this.#listeners;
    const list = [all?.[type as string] ?? []].flat();
    const at = list.lastIndexOf(listener);
    // A new list, never a splice: an event going out keeps the list it started with.
    const rest = list.filter((_, i) => i !== at);
    if (at >= 0) all![type as string] = rest[1] ? rest : rest[0]!;
  }

  /** Queues an event, or (a function) a step that runs in its turn. */
  protected emit<K extends keyof Events>(type: K | (() => void), payload?: Events[K]): void {
    (this.#queue ??= []).push(type, payload);
  }

  /**
   * Emits an event that ends a change: with nothing waiting and nothing held it goes straight to the listeners
   * (the way each message arrives), else it takes its turn in the queue.
   */
  protected announce<K extends keyof Events>(type: K, payload: Events[K]): void {
    if (this.#isBusy || this.#queue) this.emit(type, payload);
    else {
      this.#isBusy = true;
      this.deliver(type as string, payload);
      this.#isBusy = false;
    }
    this.drain();
  }

  /** Holds the events while a change is made; returns what `release` needs. */
  protected hold(): boolean {
    const wasBusy = this.#isBusy;
    this.#isBusy = true;
    return wasBusy;
  }

  /** Ends a `hold`, and lets the events out unless an outer call still holds them. */
  protected release(wasBusy: boolean): void {
    this.#isBusy = wasBusy;
    this.drain();
  }

  /** The constructor is done: what it queued goes out at the next call or microtask, so later listeners hear it. */
  protected ready(): void {
    this.#isBusy = false;
    if (this.#queue) queueMicrotask(() => this.drain());
  }

  /** Lets the waiting events out in order, unless events are already going out (they then go on) or held. */
  protected drain(): void {
    const queue = this.#queue;
    if (this.#isBusy || !queue) return;
    this.#isBusy = true;
    // Walked by index (what listeners add comes last), then dropped: an idle socket keeps no array.
    for (let i = 0; i < queue.length; i += 2) {
      const type = queue[i] as string | (() => void);
      if (typeof type === 'function') type();
      else this.deliver(type, queue[i + 1]);
    }
    this.#queue = undefined;
    this.#isBusy = false;
    // Once the events of dispose() have gone out, nobody hears anything more.
    if (this.isSilent()) this.#listeners = undefined;
  }

  /** Calls the listeners of one event, now. */
  protected deliver(type: string, payload: any): void {
    const list = this.#listeners?.[type];
    if (!list && type === 'error') {
      const error = (payload as { error: SocketError }).error;
      // A listener's throw goes to the runtime when nobody listens for errors; anything else to `unheard`.
      return error.code === 'LISTENER_THREW' ? reportUncaught(error) : this.unheard(error);
    }
    if (typeof list === 'function') this.#call(type, list, payload);
    else if (list) for (const listener of list) this.#call(type, listener, payload);
  }

  #call(type: string, listener: Listener, payload: unknown): void {
    try {
      listener(payload);
    } catch (cause) {
      const error = new SocketError('LISTENER_THREW', `a "${type}" listener threw: ${describeError(cause)}`, { cause });
      // Reported in its turn; an error listener's own throw goes to the runtime, never back to itself.
      if (type === 'error') reportUncaught(error);
      else this.emit('error', { error } as Events['error']);
    }
  }

  /** An error nobody listens for. */
  protected unheard(_error: SocketError): void {}

  /** Whether listeners are done for good (disposed). */
  protected isSilent(): boolean {
    return false;
  }
}
