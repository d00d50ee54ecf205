import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, type SocketCloseEvent, type SocketErrorEvent, type WebSocketConstructor } from '../../src/index.js';
import { seededRandom } from '../helpers/random.js';

// Every order in which a connection can hear that it is over (a close frame, an error, a reset, the peer
// ending TCP), delivered through the public API to a fake WebSocket whose events the test drives. Whatever the
// order, the connection must end with exactly one `close` event, and the socket must end `closed`.

type Listener = (event: unknown) => void;

/** A minimal WHATWG-like WebSocket: it never fires anything by itself; the test decides every event. */
class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  protocol = '';
  extensions = '';
  bufferedAmount = 0;
  binaryType = 'blob';
  readonly closeCalls: [number | undefined, string | undefined][] = [];
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  send(): void {
    if (this.readyState === 0) throw new Error('InvalidStateError: still CONNECTING');
  }

  close(code?: number, reason?: string): void {
    this.closeCalls.push([code, reason]);
    if (this.readyState < 2) this.readyState = 2;
  }

  addEventListener(type: string, listener: Listener): void {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type)!.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  listenerCount(type: string): number {
    return this.#listeners.get(type)?.size ?? 0;
  }

  dispatch(type: string, fields: Record<string, unknown> = {}): void {
    // EventTarget calls each listener with the socket as `this` and as the event's target.
    for (const listener of [...(this.#listeners.get(type) ?? [])]) listener.call(this, { type, target: this, currentTarget: this, ...fields });
  }
}

/**
 * Like Node's `ws`: an EventEmitter underneath (`on`/`off`), `terminate()`, and an `error` nobody listens to
 * throws, as `EventEmitter#emit('error')` does. A socket that forgets its no-op error listener crashes here.
 */
class FakeNodeWebSocket extends FakeWebSocket {
  readonly terminateCalls: number[] = [];
  readonly #emitterListeners = new Map<string, Set<(...args: unknown[]) => void>>();

  terminate(): void {
    this.terminateCalls.push(this.readyState);
    if (this.readyState < 2) this.readyState = 2;
  }

  on(type: string, listener: (...args: unknown[]) => void): this {
    if (!this.#emitterListeners.has(type)) this.#emitterListeners.set(type, new Set());
    this.#emitterListeners.get(type)!.add(listener);
    return this;
  }

  off(type: string, listener: (...args: unknown[]) => void): this {
    this.#emitterListeners.get(type)?.delete(listener);
    return this;
  }

  ping(): void {}

  override dispatch(type: string, fields: Record<string, unknown> = {}): void {
    const emitterListeners = [...(this.#emitterListeners.get(type) ?? [])];
    if (type === 'error' && this.listenerCount('error') + emitterListeners.length === 0) {
      throw Object.assign(new Error('Unhandled error event from a detached ws socket'), { cause: fields.error });
    }
    // ws's own events: `this` is the socket; close carries (code, reason buffer) and ws's handshake flags.
    if (type === 'close') Object.assign(this, { _closeFrameReceived: fields.wasClean === true, _closeFrameSent: fields.wasClean === true });
    const args = type === 'close' ? [fields.code, Buffer.from(String(fields.reason ?? ''))] : type === 'error' ? [fields.error] : [];
    for (const listener of emitterListeners) listener.apply(this, args);
    super.dispatch(type, fields);
  }
}

const Flavours = { whatwg: FakeWebSocket, node: FakeNodeWebSocket } as const;
type Flavour = keyof typeof Flavours;

/** What the peer or the network does, and what the user does, to one connection. */
type Op = 'close' | 'error' | 'reset' | 'end' | 'client-close' | 'dispose';
const PEER_OPS = ['close', 'error', 'reset', 'end'] as const;
/** Ops after which the connection is over as far as the socket below is concerned. */
const TERMINAL: ReadonlySet<Op> = new Set(['close', 'reset', 'end']);
const CODE_OF: Partial<Record<Op, number>> = { close: 1000, reset: 1006, end: 1006 };

type Phase = 'connecting' | 'open' | 'closing';
const PHASES: readonly Phase[] = ['connecting', 'open', 'closing'];

function deliver(socket: ReconnectingSocket, fake: FakeWebSocket, op: Op): void {
  switch (op) {
    case 'close': // the peer's close frame, then the TCP close
      fake.readyState = 3;
      fake.dispatch('close', { code: 1000, reason: 'bye', wasClean: true });
      break;
    case 'error':
      fake.dispatch('error', { error: new Error('something went wrong'), message: 'something went wrong' });
      break;
    case 'reset': // ECONNRESET: an error, then an unclean close
      fake.readyState = 3;
      fake.dispatch('error', { error: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), message: 'read ECONNRESET' });
      fake.dispatch('close', { code: 1006, reason: '', wasClean: false });
      break;
    case 'end': // the peer ended TCP without a close frame
      fake.readyState = 3;
      fake.dispatch('close', { code: 1006, reason: '', wasClean: false });
      break;
    case 'client-close':
      void socket.close(4000, 'client');
      break;
    case 'dispose':
      socket.dispose();
  }
}

/** Lets microtasks run (the socket connects on one) without letting any timer fire. */
const settle = () => vi.advanceTimersByTimeAsync(0);

interface Outcome {
  closes: SocketCloseEvent[];
  errors: SocketErrorEvent[];
  thrown: unknown[];
  socket: ReconnectingSocket;
  instances: number;
  closedRecord: unknown;
  timersAfterDispose: number;
}

async function play(flavour: Flavour, phase: Phase, ops: readonly Op[], options: { async: boolean }): Promise<Outcome> {
  FakeWebSocket.instances = [];
  const socket = new ReconnectingSocket('ws://fake.test/socket', {
    WebSocket: Flavours[flavour] as unknown as WebSocketConstructor,
    heartbeat: false,
    jitter: false,
    initialDelayMs: 60_000, // a planned retry stays pending for the whole case
    closeTimeoutMs: 1_000,
    connectTimeoutMs: 30_000,
    environment: null,
  });
  const closes: SocketCloseEvent[] = [];
  const errors: SocketErrorEvent[] = [];
  const thrown: unknown[] = [];
  let closedRecord: unknown;
  socket.on('close', (event) => closes.push(event));
  socket.on('error', (event) => errors.push(event));
  void socket.closed.then((record) => (closedRecord = record));

  await settle();
  const fake = FakeWebSocket.instances[0]!;
  expect(fake, 'the socket created its WebSocket').toBeDefined();
  if (phase !== 'connecting') {
    fake.readyState = 1;
    fake.dispatch('open');
    await settle();
    expect(socket.state).toBe('open');
  }
  if (phase === 'closing') {
    void socket.close(1000, 'done');
    expect(socket.state).toBe('closing');
  }

  for (const op of ops) {
    try {
      deliver(socket, fake, op);
    } catch (error) {
      thrown.push(error);
    }
    if (options.async) await settle();
  }
  await settle();
  // Past closeTimeoutMs, well before the 60 s retry: a close handshake nobody answered is now forced down.
  await vi.advanceTimersByTimeAsync(2_000);
  const instances = FakeWebSocket.instances.length;

  // Late events after the connection is over must be absorbed, whatever the order.
  for (const op of PEER_OPS) {
    try {
      deliver(socket, fake, op);
    } catch (error) {
      thrown.push(error);
    }
  }
  await settle();

  const outcome: Outcome = { closes: [...closes], errors, thrown, socket, instances, closedRecord, timersAfterDispose: 0 };
  socket.dispose();
  await settle();
  outcome.timersAfterDispose = vi.getTimerCount();
  return outcome;
}

function check(phase: Phase, ops: readonly Op[], outcome: Outcome): void {
  const { closes, thrown, socket, instances } = outcome;
  const label = `${phase}: ${ops.join(' → ')}`;
  expect(thrown, `${label}: nothing throws out of the socket's listeners`).toEqual([]);
  expect(closes, `${label}: exactly one close event`).toHaveLength(1);
  expect(instances, `${label}: no new attempt started while the retry is pending`).toBe(1);
  expect(socket.state, label).toBe('closed');
  expect(outcome.errors.filter(({ error }) => error.code === 'LISTENER_THREW'), label).toEqual([]);
  expect(outcome.timersAfterDispose, `${label}: dispose() leaves no timer`).toBe(0);

  const close = closes[0]!;
  // An error while connecting ends the attempt too (some implementations never fire close after it).
  const firstEnding = ops.find((op) => TERMINAL.has(op) || op === 'client-close' || op === 'dispose' || (phase === 'connecting' && op === 'error'));
  const stoppedByUser = phase === 'closing' || ops.includes('client-close') || ops.includes('dispose');
  if (phase === 'closing' || firstEnding === 'client-close' || firstEnding === 'dispose') {
    expect(close.willReconnect, label).toBe(false);
  } else {
    // The peer or the network ended it: the socket plans a retry.
    expect(close.willReconnect, label).toBe(true);
    expect(close.cause, label).toMatch(/^(server|network)$/);
    if (firstEnding === 'error') expect(close, label).toMatchObject({ code: 1006, cause: 'network' });
    else if (!ops.slice(0, ops.indexOf(firstEnding!)).includes('error')) expect(close.code, label).toBe(CODE_OF[firstEnding!]);
  }
  if (stoppedByUser) expect(outcome.closedRecord, `${label}: closed resolves`).toBeDefined();
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe.each(Object.keys(Flavours) as Flavour[])('close, error, reset and end in every order (%s-like WebSocket)', (flavour) => {
  const orders = permutations(PEER_OPS);

  it.each(PHASES)('while %s: every one of the 24 orders ends with exactly one close event', async (phase) => {
    expect(orders).toHaveLength(24);
    for (const order of orders) {
      for (const async of [false, true]) check(phase, order, await play(flavour, phase, order, { async }));
    }
  });

  it('random sequences with repeats, close() and dispose() mixed in (seeded)', async () => {
    const random = seededRandom(0x5eed + flavour.length);
    const all: Op[] = [...PEER_OPS, 'client-close', 'dispose'];
    for (let run = 0; run < 150; run++) {
      const phase = PHASES[Math.floor(random() * PHASES.length)]!;
      const length = 1 + Math.floor(random() * 6);
      const ops = Array.from({ length }, () => all[Math.floor(random() * (random() < 0.8 ? PEER_OPS.length : all.length))]!);
      // Something must end the connection: a terminal event, close() (then the close timer) or dispose().
      if (!ops.some((op) => op !== 'error')) ops.push(PEER_OPS[Math.floor(random() * PEER_OPS.length)] === 'error' ? 'end' : 'close');
      check(phase, ops, await play(flavour, phase, ops, { async: random() < 0.5 }));
    }
  });
});
