import { SocketError, type CloseRecord, type Codec, type RawMessage, type Retry, type SocketCloseEvent, type StateName } from '../index.js';
import type { SharedSocketEvents } from './options.js';
import type { RelayedType } from './protocol.js';

/** The default codec: wire data as it is. */
export const RAW: Codec<any, any> = { encode: (message) => message, decode: (data) => data };

type Listener = (event: any) => void;

/**
 * What a handle shows of the shared connection: its state, attempt, last close and planned retry, mirrored from
 * the events the leader relays, with those events (decoded by the handle's own codec), and the handle's own end.
 * Errors go to `error` listeners, else to the `debug` hook, else (the first one) to `console.warn`, as in the core.
 *
 * Listeners of a type are called at once, in the order they were added, over a copy (a listener may remove itself
 * or another). One that throws does not stop the rest: its error goes to the runtime (`reportError`, else
 * `console.error`).
 */
export abstract class Mirror<In, Out> {
  #listeners: Map<keyof SharedSocketEvents<In, Out>, Listener[]> | undefined;
  /** @internal How this handle ended, once it did: then it tells nothing more but its last words. */
  protected ended: 'closed' | 'disposed' | undefined;
  #state: StateName = 'connecting';
  #attempt = 0;
  #lastClose: CloseRecord | undefined;
  /** The retry the leader last announced (shown while the state is closed). */
  #retry: Retry | undefined;
  readonly #codec: Codec<In, Out>;
  readonly #debug: ((message: string, detail?: unknown) => void) | undefined;
  #hasWarned = false;
  #onClosed!: (record: CloseRecord) => void;
  readonly #closed = new Promise<CloseRecord>((resolve) => (this.#onClosed = resolve));

  constructor(options: { codec?: Codec<In, Out>; debug?: (message: string, detail?: unknown) => void }) {
    this.#codec = options.codec ?? RAW;
    this.#debug = options.debug;
  }

  /** The state of the shared connection as this handle sees it; `closed` once this handle is closed. */
  get state(): StateName {
    return this.#state;
  }

  /** Retries since the last stable connection, as the leader reports it. */
  get attempt(): number {
    return this.#attempt;
  }

  /** How the last connection ended (for this handle: its own close once closed). */
  get lastClose(): CloseRecord | undefined {
    return this.#lastClose;
  }

  /** The retry the leader plans while the shared connection is down, as its `reconnecting` or `hold` said. */
  get retry(): Retry | undefined {
    return this.#state === 'closed' && !this.ended ? this.#retry : undefined;
  }

  /**
   * Resolves once this handle is closed or disposed, with its final close record (as the core's `closed`): what
   * waits such as `opened()` watch for the end.
   */
  get closed(): Promise<CloseRecord> {
    return this.#closed;
  }

  /** Adds a listener (a disposed handle takes none); returns the function that removes it (safe to call twice). */
  on<K extends keyof SharedSocketEvents<In, Out>>(type: K, listener: (event: SharedSocketEvents<In, Out>[K]) => void): () => void {
    if (this.ended !== 'disposed') {
      const listeners = (this.#listeners ??= new Map());
      listeners.set(type, [...(listeners.get(type) ?? []), listener]);
    }
    return () => this.off(type, listener);
  }

  /** Adds a listener for the next event of this type only; returns the function that removes it. */
  once<K extends keyof SharedSocketEvents<In, Out>>(type: K, listener: (event: SharedSocketEvents<In, Out>[K]) => void): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** Removes a listener; removing an unknown one does nothing. */
  off<K extends keyof SharedSocketEvents<In, Out>>(type: K, listener: (event: SharedSocketEvents<In, Out>[K]) => void): void {
    const list = this.#listeners?.get(type)?.filter((l) => l !== listener);
    if (list?.length) this.#listeners!.set(type, list);
    else this.#listeners?.delete(type);
  }

  /** @internal A connection announced by its leader: this handle takes its state (and hears `open` if it is open already). */
  protected follow({ state, attempt, protocol }: { state: StateName; attempt: number; protocol: string }): void {
    this.#attempt = attempt;
    this.#setState(state);
    // Joining a connection that is already open: this handle's `open` listeners (a subscribe, say) run too.
    if (state === 'open') this.tell('open', { attempt, protocol });
  }

  /** @internal An event the leader relayed (`attempt`: its count then); server messages are decoded here. */
  protected hear(type: RelayedType, event: any, attempt: number): void {
    if (type === 'message') return this.#decode(event.data);
    this.#attempt = attempt;
    const error = event.error;
    if (error) event = { ...event, error: new SocketError(error.code, error.message) };
    if (type === 'state') return this.#setState(event.to);
    if (type === 'error') return this.report(event.error);
    if (type === 'close') this.#lastClose = event;
    if (type === 'reconnecting' || type === 'hold') this.#retry = event.hold ? event : { attempt: event.attempt, delayMs: event.delayMs };
    this.tell(type, event);
  }

  /** @internal The connection this handle mirrored is gone (its leader left, vanished or this page froze): said once. */
  protected leaderGone(cause: 'reconnect' | 'network' | 'pagehide'): void {
    const from = this.#state;
    if (from === 'connecting') return;
    this.#state = 'connecting';
    const close: SocketCloseEvent = { code: 1006, reason: '', wasClean: false, cause, willReconnect: true, delayMs: 0 };
    if (from !== 'closed') this.tell('close', (this.#lastClose = close));
    this.tell('state', { from, to: 'connecting' });
  }

  /**
   * The handle's last words: it turns closed (with `state` and `close` after `close()`), its `closed` resolves,
   * and `end` goes out, to the listeners of this moment.
   * @internal
   */
  protected final(record: CloseRecord, isDisposed: boolean): void {
    this.#lastClose = record;
    const from = this.#state;
    this.#state = 'closed';
    // Read before the listeners run: one that disposes from the final `close` (which drops every listener) does
    // not make this a dispose, and the `end` listeners of that moment still hear it, as in the core (the waits,
    // opened() and messages(), listen to it).
    const listeners = this.#listeners;
    if (!isDisposed) {
      if (from !== 'closed') this.tell('state', { from, to: 'closed' }, true);
      this.tell('close', { ...record, willReconnect: false, delayMs: undefined }, true);
    }
    this.#onClosed(record);
    this.#emit('end', { close: record, isDisposed }, listeners);
  }

  /** @internal Reports an error (see the class). */
  protected report(error: SocketError): void {
    if (this.ended) return;
    if (this.#listeners?.has('error')) return this.tell('error', { error });
    this.debug(error.message, error);
    if (this.#debug || this.#hasWarned) return;
    this.#hasWarned = true;
    console.warn(`SharedSocket: ${error.message} (${error.code}); handle errors with on("error") or the debug option. No more are printed.`);
  }

  /** @internal Calls the listeners, unless this handle has ended (`evenIfEnded`: its last words). */
  protected tell<K extends keyof SharedSocketEvents<In, Out>>(type: K, event: SharedSocketEvents<In, Out>[K], evenIfEnded?: boolean): void {
    if (!this.ended || evenIfEnded) this.#emit(type, event);
  }

  /** @internal A disposed handle drops every listener. */
  protected deafen(): void {
    this.#listeners = undefined;
  }

  /** @internal Gives a line to the `debug` option (a hook that throws is ignored). */
  protected debug(message: string, detail?: unknown): void {
    try {
      this.#debug?.(message, detail);
    } catch {
      // A throwing debug hook must not break the handle (it runs in channel and lock callbacks too), as in the core.
    }
  }

  /** Calls the listeners of `type` (of `listeners`, when given: a set taken earlier). */
  #emit<K extends keyof SharedSocketEvents<In, Out>>(type: K, event: SharedSocketEvents<In, Out>[K], listeners = this.#listeners): void {
    for (const listener of listeners?.get(type) ?? []) {
      try {
        listener(event);
      } catch (error) {
        ((globalThis as { reportError?: (error: unknown) => void }).reportError ?? console.error)(error);
      }
    }
  }

  #decode(data: RawMessage): void {
    let decoded: In;
    try {
      decoded = this.#codec.decode(data);
    } catch (cause) {
      return this.report(new SocketError('DECODE_FAILED', `decode failed: ${String(cause)}`, { cause, data }));
    }
    this.tell('message', { data: decoded });
  }

  #setState(to: StateName): void {
    const from = this.#state;
    // A listener may have ended this handle while an earlier event of the same relay was emitted.
    if (from === to || this.ended) return;
    this.#state = to;
    this.tell('state', { from, to });
  }
}
