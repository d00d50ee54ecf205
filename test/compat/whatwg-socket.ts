import { WebSocket as WS } from 'ws';

/**
 * A WHATWG-style WebSocket (an `EventTarget` with `on*`-free listeners, `MessageEvent`s, a close event with
 * `wasClean`) that behaves like Node 20's global `WebSocket` and some polyfills when a connection fails: it
 * fires `error` and never `close`, and its `readyState` stays `CONNECTING` (0) for good, `close()` included.
 * Once open, it behaves as the standard says. It runs on `ws` underneath; binary data is delivered as
 * `binaryType` says (`'blob'` by default).
 */
export class StuckOnErrorWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  /** Every instance created, in order (tests look at what the compat classes did with them). */
  static readonly created: StuckOnErrorWebSocket[] = [];

  readonly url: string;
  readyState = 0;
  protocol = '';
  extensions = '';
  /** `close()` calls made, with their arguments. */
  readonly closeCalls: Array<[number | undefined, string | undefined]> = [];
  #binaryType = 'blob';
  readonly #ws: WS;
  #isStuck = false;
  #isAbandoned = false;

  constructor(url: string | URL, protocols?: string | string[]) {
    super();
    // Serialized, as browsers do (a trailing slash on a bare host).
    this.url = new URL(url).href;
    StuckOnErrorWebSocket.created.push(this);
    const ws = (this.#ws = new WS(url, protocols));
    ws.binaryType = 'arraybuffer';
    ws.on('open', () => {
      this.readyState = 1;
      this.protocol = ws.protocol;
      this.extensions = ws.extensions;
      this.dispatchEvent(new Event('open'));
    });
    ws.on('message', (data: ArrayBuffer | Buffer, isBinary: boolean) => {
      const payload = !isBinary ? String(data) : this.#binaryType === 'blob' ? new Blob([data as ArrayBuffer]) : data;
      this.dispatchEvent(new MessageEvent('message', { data: payload }));
    });
    ws.on('error', (error) => {
      if (this.#isAbandoned) return;
      if (this.readyState === 0) this.#isStuck = true;
      this.dispatchEvent(Object.assign(new Event('error'), { error, message: error.message }));
    });
    ws.on('close', (code, reason) => {
      if (this.#isStuck) return;
      this.readyState = 3;
      this.dispatchEvent(Object.assign(new Event('close'), { code, reason: String(reason), wasClean: code !== 1006 }));
    });
  }

  get binaryType(): string {
    return this.#binaryType;
  }
  set binaryType(value: string) {
    if (value === 'blob' || value === 'arraybuffer') this.#binaryType = value;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(data: unknown): void {
    if (this.readyState !== 1) throw new Error(`StuckOnErrorWebSocket: send() while readyState ${this.readyState}`);
    this.#ws.send(data as string);
  }

  close(code?: number, reason?: string): void {
    this.closeCalls.push([code, reason]);
    if (this.readyState === 0) {
      // Stuck: nothing will ever be reported, the attempt is abandoned quietly.
      this.#isStuck = true;
      this.#isAbandoned = true;
      this.#ws.terminate();
      return;
    }
    if (this.readyState !== 1) return;
    // A code or reason it refuses throws before anything changes, as in browsers.
    this.#ws.close(code, reason);
    this.readyState = 2;
  }
}
