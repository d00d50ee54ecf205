import { SocketError, type CloseRecord, type Codec, type RawMessage, type Retry, type SocketCloseEvent, type StateName } from '../index.js';
import { Emitter } from '../emitter.js';
import type { SharedSocketEvents } from './options.js';
import type { RelayedType } from './protocol.js';

/** The default codec: wire data as it is. */
export const RAW: Codec<any, any> = { encode: (message) => message, decode: (data) => data };

/**
 * What a handle shows of the shared connection: its state, attempt, last close and planned retry, mirrored from
 * the events the leader relays, with those events (decoded by the handle's own codec), and the handle's own end.
 * Events go out as the core's do (its `Emitter`): one at a time, in order, never inside another; a listener that
 * throws does not stop the rest (its error is an `error` event). Errors go to `error` listeners, else to the
 * `debug` hook, else (the first one) to `console.warn`, as in the core.
 */
export abstract class Mirror<In, Out> extends Emitter<SharedSocketEvents<In, Out>> {
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
    super();
    this.#codec = options.codec ?? RAW;
    this.#debug = options.debug;
    this.ready();
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
    // One that disposes from the final `close` does not make this a dispose: its events wait behind `end`, which
    // the listeners of that moment still hear, as in the core (the waits, opened() and messages(), listen to it).
    if (!isDisposed) {
      if (from !== 'closed') this.tell('state', { from, to: 'closed' }, true);
      this.tell('close', { ...record, willReconnect: false, delayMs: undefined }, true);
    }
    this.#onClosed(record);
    this.tell('end', { close: record, isDisposed }, true);
  }

  /** @internal Reports an error (see the class). */
  protected report(error: SocketError): void {
    this.tell('error', { error });
  }

  /** @internal An error no listener took: to the `debug` hook, else (once) to `console.warn`. */
  protected override unheard(error: SocketError): void {
    this.debug(error.message, error);
    if (this.#debug || this.#hasWarned) return;
    this.#hasWarned = true;
    console.warn(`SharedSocket: ${error.message} (${error.code}). Handle errors with on("error") or silence with the debug option; no more are printed.`);
  }

  /** @internal Calls the listeners, unless this handle has ended (`evenIfEnded`: its last words). */
  protected tell<K extends keyof SharedSocketEvents<In, Out>>(type: K, event: SharedSocketEvents<In, Out>[K], evenIfEnded?: boolean): void {
    if (!this.ended || evenIfEnded) this.announce(type, event);
  }

  /** @internal A disposed handle drops every listener once its last events are out. */
  protected override isSilent(): boolean {
    return this.ended === 'disposed';
  }

  /** @internal Gives a line to the `debug` option (a hook that throws is ignored). */
  protected debug(message: string, detail?: unknown): void {
    try {
      this.#debug?.(message, detail);
    } catch {
      // A throwing debug hook must not break the handle (it runs in channel and lock callbacks too), as in the core.
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
