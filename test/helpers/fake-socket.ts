import { afterEach, beforeEach, vi } from 'vitest';
import { ReconnectingSocket, createManualEnvironment, type ManualEnvironment, type ReconnectingSocketOptions, type WebSocketConstructor } from '../../src/index.js';
import type { WireData } from '../../src/options.js';
import type { WebSocketLike } from '../../src/transport.js';

/**
 * A scripted WebSocket for unit tests: no I/O, no timers of its own (asynchronous events go through
 * `queueMicrotask`, so `vi.getTimerCount()` only ever sees the library's timers).
 *
 * `FakeSocket` behaves like a browser's WHATWG WebSocket (no `ping`/`terminate`; `close()` accepts only 1000
 * and 3000-4999). `FakeWsSocket` behaves like Node `ws` (adds `ping`, `terminate`, `on`/`off`, and emits
 * `pong`). Both are constructors you pass as the `WebSocket` option; every instance lands in
 * `FakeSocket.instances`.
 *
 * The test plays the server: `serverOpen()`, `serverMessage()`, `serverClose()`, `serverError()`,
 * `serverDrop()`, and for `FakeWsSocket` `serverPong()`.
 */

type Listener = (event: any) => void;
type EmitterListener = (...args: any[]) => void;

const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

function sizeOf(data: WireData): number {
  if (typeof data === 'string') return utf8Bytes(data);
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return (data as ArrayBufferLike | ArrayBufferView).byteLength;
}

/** Flushes pending microtasks (where the fake's asynchronous events are delivered). Works under fake timers. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export class FakeSocket implements WebSocketLike {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  /** Every socket created since the last `reset()`, oldest first (both flavours). */
  static readonly instances: FakeSocket[] = [];
  /** Errors thrown by listeners while the fake dispatched an event (a real runtime would report them as uncaught). */
  static readonly uncaught: unknown[] = [];
  /** Called with each new socket, inside its constructor (e.g. to throw, or to answer at once). */
  static onCreate: ((socket: FakeSocket) => void) | undefined;

  /** Forgets every instance, uncaught error and `onCreate` hook. Call it in `beforeEach`. */
  static reset(): void {
    FakeSocket.instances.length = 0;
    FakeSocket.uncaught.length = 0;
    FakeSocket.onCreate = undefined;
  }

  /** The newest socket; throws when none was created. */
  static latest(): FakeSocket {
    const socket = FakeSocket.instances.at(-1);
    if (!socket) throw new Error('FakeSocket: no socket was created yet.');
    return socket;
  }

  readonly url: string;
  readonly protocols: string | string[] | undefined;
  /** The third constructor argument (handshake options such as headers), if any. */
  readonly handshake: { headers?: Record<string, string> } | undefined;
  /** The subprotocol the "server" selected in `serverOpen()`. */
  protocol = '';
  extensions = '';
  /** Bytes the fake pretends are not yet on the wire; tests may set it. */
  bufferedAmount = 0;
  binaryType = 'blob';
  /** What was sent while open, in order. */
  readonly sent: WireData[] = [];
  /** What was sent while closing or closed (a browser discards it silently). */
  readonly discarded: WireData[] = [];
  /** Every `close()` call, including rejected ones and no-ops. */
  readonly closeCalls: Array<{ code?: number; reason?: string }> = [];

  onopen: Listener | null = null;
  onmessage: Listener | null = null;
  onclose: Listener | null = null;
  onerror: Listener | null = null;

  #readyState = CONNECTING;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(url: string, protocols?: string | string[], handshake?: { headers?: Record<string, string> }) {
    this.url = url;
    this.protocols = protocols;
    this.handshake = handshake;
    FakeSocket.instances.push(this);
    FakeSocket.onCreate?.(this);
  }

  get readyState(): number {
    return this.#readyState;
  }

  /** The ready state as a name, for readable assertions. */
  get stateName(): (typeof STATE_NAMES)[number] {
    return STATE_NAMES[this.#readyState]!;
  }

  /** Whether the connection has been closed by either side (the close event has fired, or will not come). */
  get isClosed(): boolean {
    return this.#readyState === CLOSED;
  }

  // ── the WebSocket interface ─────────────────────────────────────────────────────────────────────────────

  send(data: WireData): void {
    if (this.#readyState === CONNECTING) throw this.invalidState('send');
    if (this.#readyState === OPEN) {
      this.sent.push(data);
      return;
    }
    // WHATWG: after close, data is discarded but still counted in bufferedAmount.
    this.discarded.push(data);
    this.bufferedAmount += sizeOf(data);
  }

  close(code?: number, reason?: string): void {
    this.closeCalls.push({ ...(code !== undefined && { code }), ...(reason !== undefined && { reason }) });
    this.checkClose(code, reason);
    if (this.#readyState === CONNECTING) {
      // WHATWG "fail the WebSocket connection": CLOSING now, then error and close as a later task.
      this.#readyState = CLOSING;
      this.later(() => {
        this.fire('error', {});
        this.finish(1006, '', false);
      });
    } else if (this.#readyState === OPEN) {
      // The close frame is on its way; the close event comes when the "server" answers (serverClose).
      this.#readyState = CLOSING;
    }
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  // ── inspection ──────────────────────────────────────────────────────────────────────────────────────────

  /** Listeners attached right now: of one type, or all of them (addEventListener, on(), and on* attributes). */
  listenerCount(type?: string): number {
    const types = type === undefined ? this.listenerTypes() : [type];
    let count = 0;
    for (const t of types) count += (this.#listeners.get(t)?.size ?? 0) + this.emitterCount(t) + (this.attribute(t) ? 1 : 0);
    return count;
  }

  /** Every event type that has at least one listener. */
  listenerTypes(): string[] {
    const types = new Set<string>();
    for (const [t, set] of this.#listeners) if (set.size > 0) types.add(t);
    for (const t of this.emitterTypes()) types.add(t);
    for (const t of ['open', 'message', 'close', 'error']) if (this.attribute(t)) types.add(t);
    return [...types].sort();
  }

  // ── the "server" side, driven by the test ──────────────────────────────────────────────────────────────

  /** Completes the handshake: OPEN, then the `open` event (synchronously). */
  serverOpen(protocol = '', extensions = ''): void {
    this.expectState('serverOpen', CONNECTING);
    this.protocol = protocol;
    this.extensions = extensions;
    this.#readyState = OPEN;
    this.fire('open', {});
  }

  /** Delivers a message: a string is a text frame, an ArrayBuffer or typed array a binary frame. */
  serverMessage(data: string | ArrayBuffer | ArrayBufferView): void {
    // Frames that arrive while our close frame is in flight are still delivered (RFC 6455 §5.5.1).
    this.expectState('serverMessage', OPEN, CLOSING);
    const binary = typeof data === 'string' ? undefined : toArrayBuffer(data);
    const payload = binary === undefined ? data : this.binaryType === 'blob' ? new Blob([binary]) : binary;
    this.fire('message', { data: payload, origin: '' });
  }

  /**
   * The connection ends: CLOSED, then the `close` event (synchronously). Without a code, echoes the code and
   * reason of our own close() if we sent one (as `ws` servers do), else 1005 (no status).
   */
  serverClose(code?: number, reason?: string, wasClean = true): void {
    this.expectState('serverClose', CONNECTING, OPEN, CLOSING);
    const ours = this.closeCalls.find((call) => call.code !== undefined);
    if (code === undefined && ours) this.finish(ours.code!, reason ?? ours.reason ?? '', wasClean);
    else this.finish(code ?? 1005, reason ?? '', wasClean);
  }

  /** An `error` event (synchronously). A real socket follows it with a close; use `serverDrop()` for both. */
  serverError(message = 'fake socket error'): void {
    this.expectState('serverError', CONNECTING, OPEN, CLOSING);
    this.fire('error', { message, error: new Error(message) });
  }

  /** The connection dies without a close frame: `error`, then `close` 1006 unclean (handshake refused, reset…). */
  serverDrop(): void {
    this.serverError('connection lost');
    if (this.#readyState !== CLOSED) this.finish(1006, '', false);
  }

  // ── internals shared with FakeWsSocket ──────────────────────────────────────────────────────────────────

  protected get state(): number {
    return this.#readyState;
  }

  protected set state(value: number) {
    this.#readyState = value;
  }

  protected checkClose(code: number | undefined, reason: string | undefined): void {
    // WHATWG close(): only 1000 and 3000-4999 from scripts, reason at most 123 UTF-8 bytes.
    if (code !== undefined && code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw new DOMException(`Failed to execute 'close' on 'WebSocket': The code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
    }
    if (reason !== undefined && utf8Bytes(reason) > 123) {
      throw new DOMException("Failed to execute 'close' on 'WebSocket': The message must not be greater than 123 bytes.", 'SyntaxError');
    }
  }

  protected invalidState(method: string): Error {
    return new DOMException(`Failed to execute '${method}' on 'WebSocket': Still in CONNECTING state.`, 'InvalidStateError');
  }

  /** The close event, once: CLOSED, then dispatch. */
  protected finish(code: number, reason: string, wasClean: boolean): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.fire('close', { code, reason, wasClean });
  }

  protected fire(type: string, fields: Record<string, unknown>): void {
    const event = { type, target: this, currentTarget: this, ...fields };
    const set = this.#listeners.get(type);
    const listeners = [...(set ?? [])];
    const attribute = this.attribute(type);
    if (attribute) listeners.push(attribute);
    for (const listener of listeners) {
      // EventTarget semantics: a listener removed during dispatch is not called; a throw does not stop the others.
      if (listener !== attribute && !set?.has(listener)) continue;
      this.guard(() => listener.call(this, event));
    }
    this.fireEmitter(type, fields);
  }

  protected guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      FakeSocket.uncaught.push(error);
    }
  }

  protected later(fn: () => void): void {
    queueMicrotask(fn);
  }

  protected expectState(method: string, ...states: number[]): void {
    if (!states.includes(this.#readyState)) {
      const allowed = states.map((s) => STATE_NAMES[s]).join(' or ');
      throw new Error(`FakeSocket: ${method}() needs readyState ${allowed}, but it is ${this.#readyState} (${this.stateName}).`);
    }
  }

  protected emitterCount(_type: string): number {
    return 0;
  }

  protected emitterTypes(): string[] {
    return [];
  }

  protected fireEmitter(_type: string, _fields: Record<string, unknown>): void {}

  private attribute(type: string): Listener | null {
    switch (type) {
      case 'open':
        return this.onopen;
      case 'message':
        return this.onmessage;
      case 'close':
        return this.onclose;
      case 'error':
        return this.onerror;
      default:
        return null;
    }
  }
}

function toArrayBuffer(data: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (data instanceof ArrayBuffer) return data;
  const copy = new Uint8Array(data.byteLength);
  copy.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return copy.buffer;
}

/**
 * Like Node `ws`: `ping()`, `terminate()`, an EventEmitter `on`/`off` (`message` with `(data, isBinary)`,
 * `pong`, `open`, `close`, `error`), any valid protocol close code, and `send()` that throws only while
 * connecting.
 */
export class FakeWsSocket extends FakeSocket {
  /** Every `ping()` payload sent while open. */
  readonly pings: unknown[] = [];
  /** How many times `terminate()` was called. */
  terminateCalls = 0;
  /** Answer each ping with a pong on a microtask. */
  autoPong = false;
  readonly #emitter = new Map<string, EmitterListener[]>();

  constructor(url: string, protocols?: string | string[], handshake?: { headers?: Record<string, string> }) {
    super(url, protocols, handshake);
    this.binaryType = 'nodebuffer';
  }

  ping(data?: unknown): void {
    if (this.state === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (this.state !== OPEN) return;
    this.pings.push(data);
    if (this.autoPong) this.later(() => this.state === OPEN && this.serverPong(data));
  }

  terminate(): void {
    this.terminateCalls++;
    this.#forceDown();
  }

  override close(code?: number, reason?: string): void {
    if (this.state !== CONNECTING) return super.close(code, reason);
    this.closeCalls.push({ ...(code !== undefined && { code }), ...(reason !== undefined && { reason }) });
    // ws aborts the handshake: error, then close 1006.
    this.#forceDown();
  }

  /** Destroys the connection: CLOSING now, then (on a microtask) an error if it never opened, and close 1006. */
  #forceDown(): void {
    if (this.state === CLOSED) return;
    const wasConnecting = this.state === CONNECTING;
    this.state = CLOSING;
    this.later(() => {
      if (wasConnecting) this.fire('error', { message: 'WebSocket was closed before the connection was established' });
      this.finish(1006, '', false);
    });
  }

  override send(data: WireData): void {
    if (this.state === CONNECTING) throw this.invalidState('send');
    super.send(data);
  }

  on(type: string, listener: EmitterListener): this {
    const list = this.#emitter.get(type) ?? [];
    list.push(listener);
    this.#emitter.set(type, list);
    return this;
  }

  off(type: string, listener: EmitterListener): this {
    const list = this.#emitter.get(type);
    const index = list?.lastIndexOf(listener) ?? -1;
    if (list && index >= 0) list.splice(index, 1);
    return this;
  }

  /** A pong frame from the "server". */
  serverPong(data?: unknown): void {
    this.expectState('serverPong', OPEN, CLOSING);
    this.emit('pong', data ?? Buffer.alloc(0));
  }

  protected override checkClose(code: number | undefined, reason: string | undefined): void {
    // ws: any code valid on the wire (RFC 6455 §7.4.1), reason at most 123 bytes.
    const valid = code === undefined || (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
    if (!valid) throw new TypeError('First argument must be a valid error code number');
    if (reason !== undefined && utf8Bytes(reason) > 123) throw new SyntaxError('The message must not be greater than 123 bytes');
  }

  protected override invalidState(_method: string): Error {
    return new Error('WebSocket is not open: readyState 0 (CONNECTING)');
  }

  protected override emitterCount(type: string): number {
    return this.#emitter.get(type)?.length ?? 0;
  }

  protected override emitterTypes(): string[] {
    return [...this.#emitter].filter(([, list]) => list.length > 0).map(([type]) => type);
  }

  protected override fireEmitter(type: string, fields: Record<string, unknown>): void {
    switch (type) {
      case 'message': {
        // ws 8: text frames arrive as a Buffer with isBinary false; binary per binaryType.
        const data = fields.data;
        if (typeof data === 'string') this.emit('message', Buffer.from(data), false);
        else this.emit('message', this.binaryType === 'nodebuffer' ? Buffer.from(data as ArrayBuffer) : data, true);
        break;
      }
      case 'close':
        this.emit('close', fields.code, Buffer.from(String(fields.reason ?? '')));
        break;
      case 'error':
        this.emit('error', fields.error ?? new Error(String(fields.message ?? 'error')));
        break;
      default:
        this.emit(type);
    }
  }

  private emit(type: string, ...args: unknown[]): void {
    for (const listener of [...(this.#emitter.get(type) ?? [])]) this.guard(() => listener.apply(this, args));
  }
}

/**
 * Fake timers and an empty `FakeSocket.instances` before each test; after it, every socket pushed to the
 * returned list is disposed and real timers come back.
 */
export function useFakeSockets<T extends { dispose(): void }>(): T[] {
  const created: T[] = [];
  beforeEach(() => {
    FakeSocket.reset();
    vi.useFakeTimers();
  });
  afterEach(() => {
    for (const socket of created.splice(0)) socket.dispose();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
  return created;
}

/**
 * A socket on a fake WebSocket with a manual environment, no heartbeat and an unjittered 1 s backoff, pushed to
 * `created` (the list from `useFakeSockets`) so it is disposed after the test.
 */
export function createQuietSocket(
  created: ReconnectingSocket<any, any>[],
  options: ReconnectingSocketOptions<any, any> = {},
  WebSocket: WebSocketConstructor = FakeSocket,
): { socket: ReconnectingSocket<any, any>; env: ManualEnvironment } {
  const env = createManualEnvironment();
  const socket = new ReconnectingSocket<any, any>('ws://example.test/feed', {
    WebSocket,
    environment: env,
    heartbeat: false,
    jitter: false,
    initialDelayMs: 1000,
    ...options,
  });
  created.push(socket);
  return { socket, env };
}

/**
 * A healthy world for `ms` of fake time, in steps of 50 ms: every connecting socket is accepted (by `accept`:
 * `serverOpen()`, or a linked server's handshake) and every closing one gets the server's close.
 */
export async function healFakeSockets(ms: number, accept: (socket: FakeSocket) => void = (socket) => socket.serverOpen()): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    for (const socket of FakeSocket.instances) {
      if (socket.readyState === FakeSocket.CONNECTING) accept(socket);
      else if (socket.readyState === FakeSocket.CLOSING) socket.serverClose();
    }
    await vi.advanceTimersByTimeAsync(50);
  }
}
