import { ReconnectingSocket, type CloseRecord, type RawMessage, type UrlProvider, type WireData } from '../index.js';
import { checkShared } from '#checks';
import { ALONE, browserCoordination, type ChannelLike, type Coordination } from './coordination.js';
import { closeSettled } from './leadership.js';
import type { LeaderSocket, SharedSocketArgs, SharedSocketOptions } from './options.js';
import { Peer } from './peer.js';
import { sharedName, type Relay } from './protocol.js';

/**
 * A `ReconnectingSocket` shared by the tabs of one origin: handles with the same URL and key share one real
 * connection, owned by the tab that holds a Web Lock (the leader) and relayed to the others over a
 * BroadcastChannel. Same surface as `ReconnectingSocket` for `state`, events, `send`, `close`, `closed` and
 * `dispose()`, and `opened()`/`messages()` work on it; see docs/shared.md for what each means across tabs.
 * Without Web Locks or BroadcastChannel each handle has a connection of its own (and says so through `debug`).
 * With `Socket: ResumableSocket` the connection's session survives reconnects and leader changes.
 *
 * @example
 * ```ts
 * const socket = new SharedSocket('wss://example.com/feed', { codec: jsonCodec, key: 'prices' });
 * socket.on('message', ({ data }) => render(data));
 * socket.send({ type: 'subscribe', topic: 'prices' }); // from any tab; goes out through the leader
 * ```
 */
export class SharedSocket<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> extends Peer<In, Out> {
  readonly #signal: AbortSignal | undefined;
  readonly #coordination: Coordination;
  readonly #name: string;
  /** Open until this handle ends (then `undefined`: that is how `#finish` knows it ran). */
  #channel: ChannelLike | undefined;
  /** The connection a leader's `close()` is closing, until it is down. */
  #retiring: LeaderSocket | undefined;
  /** Resolving it ends the lock callback: the lock goes to the next tab. */
  #release: (() => void) | undefined;
  /** Withdraws the pending lock request. */
  #abort: AbortController | undefined;
  #closing: Promise<CloseRecord> | undefined;
  /** On the `signal` option until this handle ends. */
  #onAbort: (() => void) | undefined;
  readonly #onPageHide = () => this.#pageHide();
  readonly #onPageShow = (event: { persisted?: boolean }) => event.persisted && this.#pageShow();

  /** Throws `TypeError`/`RangeError` for bad options or a bad URL, as `ReconnectingSocket` does. */
  constructor(url: UrlProvider, ...[options]: SharedSocketArgs<In, Out>) {
    const { key = '', coordination, Socket = ReconnectingSocket, ...rest } = (options ?? {}) as SharedSocketOptions<In, Out>;
    checkShared(Socket, key, typeof url === 'function');
    super(Socket, url, rest);
    const signal = (this.#signal = rest.signal);
    // The options and the url are checked once here, whichever tab ends up leading; first, so that a url that
    // does not parse fails with the core's error, which leaves out its query string (a token, say).
    this.idle().dispose();
    this.#name = sharedName(typeof url === 'function' ? undefined : url, key);
    let found = coordination === undefined ? browserCoordination() : coordination;
    if (!found) {
      this.debug('shared: no Web Locks or BroadcastChannel here; using a per-tab socket');
      found = ALONE;
    }
    this.#coordination = found;
    const channel = (this.#channel = new found.BroadcastChannel(this.#name));
    channel.onmessage = (event) => this.receive(event.data as Relay);
    // As the core does: an aborted signal disposes at once; a live one is left at the final close or dispose.
    if (signal?.aborted) {
      this.dispose();
      return;
    }
    signal?.addEventListener('abort', (this.#onAbort = () => this.dispose()), { once: true });
    found.page?.addEventListener('pagehide', this.#onPageHide);
    found.page?.addEventListener('pageshow', this.#onPageShow);
    this.post({ t: 'hello' });
    this.#requestLock();
  }

  /** Whether the connection is shared across tabs (false: each handle has its own, for want of Web Locks or BroadcastChannel). */
  get isShared(): boolean {
    return this.#coordination !== ALONE;
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this.ended === 'disposed';
  }

  /**
   * Ends this handle: it turns `closed` and emits nothing more; messages still held here are dropped (`closed`).
   * In the leader's tab the connection closes with the bounded handshake first (a resumable one hands its session
   * over instead), then the next tab takes over; when this was the last handle, that is the end of the connection.
   */
  close(code = 1000, reason = ''): Promise<CloseRecord> {
    // The core checks the arguments (on a socket that never connects), so misuse throws in a follower too.
    const check = this.idle();
    check.dispose();
    void check.close(code, reason);
    if (this.#closing) return this.#closing;
    if (this.ended) return Promise.resolve(this.lastClose!);
    const inner = (this.#retiring = this.#quit((this.ended = 'closed')));
    const done = inner ? closeSettled(inner, code, reason) : Promise.resolve<CloseRecord>({ code, reason, wasClean: true, cause: 'client' });
    return (this.#closing = done.then((record) => {
      inner?.dispose();
      this.#retiring = undefined;
      this.#release?.();
      this.#finish(record);
      return record;
    }));
  }

  /** Terminal and synchronous: ends this handle at once (a leader's connection is forced down). */
  dispose(): void {
    if (this.ended === 'disposed') return;
    // Its last events go out together once it is done, and then its listeners go.
    const held = this.hold();
    this.#quit((this.ended = 'disposed'))?.dispose();
    // Disposed during close(): the lock goes only after that connection is down.
    this.#retiring?.dispose();
    this.#release?.();
    this.#finish({ code: 1006, reason: '', wasClean: false, cause: 'dispose' });
    this.release(held);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ── leadership ──────────────────────────────────────────────────────────────────────────────────────────

  #requestLock(): void {
    const abort = (this.#abort = new AbortController());
    this.#coordination.locks
      .request(this.#name, { signal: abort.signal }, () =>
        // Granted after close(), dispose() or pagehide withdrew the request: let it go at once.
        this.ended || abort.signal.aborted
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              this.#release = resolve;
              this.lead();
            }),
      )
      .catch((error: unknown) => (error as Error)?.name === 'AbortError' || this.debug('shared: lock request failed', error));
  }

  /** Into the back-forward cache (or unloading): a frozen page holds neither the connection nor a lock request. */
  #pageHide(): void {
    if (this.ended) return;
    this.#quit('pagehide')?.dispose();
    this.#release?.();
  }

  #pageShow(): void {
    if (this.ended || !this.#abort!.signal.aborted) return;
    this.post({ t: 'hello' });
    this.#requestLock();
  }

  /** This handle stops asking for the lock, and stops leading if it leads (see `Peer.stop`). */
  #quit(why: 'closed' | 'disposed' | 'pagehide'): LeaderSocket | undefined {
    this.#abort?.abort();
    return this.stop(why);
  }

  // ── the channel ─────────────────────────────────────────────────────────────────────────────────────────

  /** @internal */
  protected post(message: Relay): void {
    try {
      this.#channel?.postMessage(message);
    } catch (error) {
      this.debug('shared: postMessage failed', error);
    }
  }

  // ── bookkeeping ─────────────────────────────────────────────────────────────────────────────────────────

  /** This handle has ended (the first end is the final one): it leaves the channel and the page, turns closed, wakes its waits. */
  #finish(record: CloseRecord): void {
    const channel = this.#channel;
    if (!channel) return;
    this.#channel = undefined;
    channel.close();
    const page = this.#coordination.page;
    page?.removeEventListener('pagehide', this.#onPageHide);
    page?.removeEventListener('pageshow', this.#onPageShow);
    this.#signal?.removeEventListener('abort', this.#onAbort!);
    this.final(record, this.ended === 'disposed');
  }
}
