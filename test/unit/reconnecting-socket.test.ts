import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, createManualEnvironment, type ReconnectingSocketOptions, type SocketEvents, type WebSocketConstructor, opened as whenOpen } from '../../src/index.js';
import { FakeSocket, FakeWsSocket, flushMicrotasks, createQuietSocket, useFakeSockets } from '../helpers/fake-socket.js';

// Unit tests of the class: a scripted fake socket and fake timers, never real I/O.

type Options = ReconnectingSocketOptions<any, any>;
type Socket = ReconnectingSocket<any, any>;
type EventType = keyof SocketEvents<any, any>;
interface Recorded {
  type: EventType;
  payload: any;
}

const EVENT_TYPES: EventType[] = ['open', 'message', 'close', 'error', 'state', 'reconnecting', 'drop', 'heartbeat'];
const URL_ = 'ws://example.test/feed';

const created = useFakeSockets<Socket>();

function record(socket: Socket): Recorded[] {
  const log: Recorded[] = [];
  for (const type of EVENT_TYPES) socket.on(type, (payload: unknown) => log.push({ type, payload }));
  return log;
}

/** Event names, with state changes spelled out: `state:open>closing`. */
function names(log: Recorded[]): string[] {
  return log.map((e) => (e.type === 'state' ? `state:${e.payload.from}>${e.payload.to}` : e.type));
}

const payloads = (log: Recorded[], type: EventType) => log.filter((e) => e.type === type).map((e) => e.payload);

function setup(options: Options = {}, WebSocket: WebSocketConstructor = FakeSocket) {
  const { socket, env } = createQuietSocket(created, options, WebSocket);
  const log = record(socket);
  return { socket, log, env };
}

/** Creates, lets the first attempt start, and returns its fake socket (still connecting). */
async function connecting(options: Options = {}, WebSocket: WebSocketConstructor = FakeSocket) {
  const s = setup(options, WebSocket);
  await flushMicrotasks();
  return { ...s, fake: FakeSocket.latest() };
}

/** Creates and completes the first handshake. */
async function opened(options: Options = {}, WebSocket: WebSocketConstructor = FakeSocket) {
  const s = await connecting(options, WebSocket);
  s.fake.serverOpen();
  expect(s.socket.state).toBe('open');
  return s;
}

/**
 * Nothing is left running: no timer, and no listener on any fake socket except (at most) the one no-op
 * `error` listener a retired socket keeps so a late error cannot crash the process (STYLE.md, Disposers).
 */
async function expectNothingLeft(): Promise<void> {
  await flushMicrotasks();
  expect(vi.getTimerCount(), 'pending timers').toBe(0);
  for (const [i, fake] of FakeSocket.instances.entries()) {
    expect(fake.listenerTypes().filter((t) => t !== 'error'), `listeners left on socket #${i}`).toEqual([]);
    expect(fake.listenerCount('error'), `error listeners left on socket #${i}`).toBeLessThanOrEqual(1);
    expect(fake.readyState, `socket #${i} still up`).toBeGreaterThanOrEqual(FakeSocket.CLOSING);
  }
  expect(FakeSocket.uncaught).toEqual([]);
}

describe('construction', () => {
  it('emits nothing and opens no socket synchronously in the constructor; connects on a microtask', async () => {
    const url = vi.fn((_context: { attempt: number }) => URL_);
    const env = createManualEnvironment();
    const socket = new ReconnectingSocket(url, { WebSocket: FakeSocket, environment: env, heartbeat: false });
    created.push(socket);
    expect(url).not.toHaveBeenCalled();
    expect(FakeSocket.instances).toHaveLength(0);
    expect(socket.state).toBe('connecting');
    expect(socket.attempt).toBe(0);
    const log = record(socket);
    await flushMicrotasks();
    expect(url).toHaveBeenCalledTimes(1);
    expect(url.mock.calls[0]![0]).toMatchObject({ attempt: 0 });
    expect(FakeSocket.instances).toHaveLength(1);
    expect(FakeSocket.latest().url).toBe(URL_);
    expect(log).toEqual([]);
    FakeSocket.latest().serverOpen();
    expect(names(log)).toEqual(['state:connecting>open', 'open']);
    expect(payloads(log, 'open')).toEqual([{ attempt: 0, protocol: '' }]);
  });

  it('autoConnect: false stays closed and idle until connect()', async () => {
    const { socket, log } = setup({ autoConnect: false });
    await flushMicrotasks();
    expect(socket.state).toBe('closed');
    expect(FakeSocket.instances).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    socket.connect();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(names(log)).toEqual(['state:closed>connecting']);
  });

  it('a WebSocket constructor that throws becomes an error event and a retry, never an exception', async () => {
    FakeSocket.onCreate = () => {
      throw new SyntaxError('bad url');
    };
    const { socket, log } = setup();
    await flushMicrotasks();
    expect(socket.state).toBe('closed');
    expect(payloads(log, 'error')[0].error.code).toBe('PROVIDER_FAILED');
    expect(payloads(log, 'close')).toMatchObject([{ code: 1006, cause: 'provider', willReconnect: true, delayMs: 1000 }]);
  });
});

describe('close() and dispose() from every state leave nothing running', () => {
  describe.each([
    ['browser-like', FakeSocket],
    ['ws-like', FakeWsSocket],
  ] as const)('%s socket', (_flavor, Ctor) => {
    it('connecting → close()', async () => {
      const { socket, fake, log } = await connecting({}, Ctor);
      expect(vi.getTimerCount()).toBe(1); // connect timeout
      const closed = socket.close();
      expect(socket.state).toBe('closed');
      await expect(closed).resolves.toMatchObject({ cause: 'client' });
      expect(payloads(log, 'close')).toMatchObject([{ cause: 'client', willReconnect: false, delayMs: undefined }]);
      await expectNothingLeft();
      expect(fake.readyState).toBe(FakeSocket.CLOSED);
      expect(payloads(log, 'close')).toHaveLength(1);
    });

    it('connecting → dispose()', async () => {
      const { socket, env, log } = await connecting({}, Ctor);
      socket.dispose();
      expect(socket.state).toBe('closed');
      expect(socket.isDisposed).toBe(true);
      expect(env.listenerCount).toBe(0);
      expect(payloads(log, 'close')).toMatchObject([{ code: 1006, cause: 'dispose', willReconnect: false }]);
      await expectNothingLeft();
    });

    it('open → close(): handshake answered', async () => {
      const { socket, fake, log } = await opened({}, Ctor);
      const closed = socket.close(4000, 'bye');
      expect(socket.state).toBe('closing');
      expect(fake.closeCalls).toEqual([{ code: 4000, reason: 'bye' }]);
      fake.serverClose();
      await expect(closed).resolves.toEqual({ code: 4000, reason: 'bye', wasClean: true, cause: 'client' });
      expect(socket.state).toBe('closed');
      expect(names(log)).toEqual(['state:connecting>open', 'open', 'state:open>closing', 'close', 'state:closing>closed']);
      await expectNothingLeft();
    });

    it('open → dispose()', async () => {
      const { socket, env, log } = await opened({}, Ctor);
      socket.dispose();
      expect(env.listenerCount).toBe(0);
      expect(payloads(log, 'close')).toMatchObject([{ code: 1006, cause: 'dispose', willReconnect: false }]);
      await expectNothingLeft();
    });

    it('closing → close() again, then the peer answers', async () => {
      const { socket, fake, log } = await opened({}, Ctor);
      const first = socket.close();
      const second = socket.close(4001, 'again');
      expect(fake.closeCalls).toHaveLength(1);
      fake.serverClose();
      const [a, b] = await Promise.all([first, second]);
      expect(a).toEqual(b);
      expect(payloads(log, 'close')).toHaveLength(1);
      await expectNothingLeft();
    });

    it('closing → dispose()', async () => {
      const { socket, env, log } = await opened({}, Ctor);
      const closed = socket.close();
      socket.dispose();
      await expect(closed).resolves.toMatchObject({ code: 1006, cause: 'dispose' });
      expect(env.listenerCount).toBe(0);
      expect(payloads(log, 'close')).toHaveLength(1);
      await expectNothingLeft();
    });

    it('closed, waiting for a retry → close()', async () => {
      const { socket, fake, log } = await opened({}, Ctor);
      fake.serverDrop();
      expect(socket.retry).toEqual({ attempt: 1, delayMs: 1000 });
      expect(vi.getTimerCount()).toBe(1);
      const closed = socket.close();
      expect(socket.retry).toBeUndefined();
      await expect(closed).resolves.toBeDefined();
      await expectNothingLeft();
      vi.advanceTimersByTime(60_000);
      expect(FakeSocket.instances).toHaveLength(1);
      expect(payloads(log, 'close')).toHaveLength(1);
    });

    it('closed, waiting for a retry → dispose()', async () => {
      const { socket, fake, env } = await opened({}, Ctor);
      fake.serverDrop();
      socket.dispose();
      expect(env.listenerCount).toBe(0);
      await expectNothingLeft();
      vi.advanceTimersByTime(60_000);
      expect(FakeSocket.instances).toHaveLength(1);
    });

    it('closed, idle → close() and dispose()', async () => {
      const { socket, env, log } = setup({ autoConnect: false }, Ctor);
      await expect(socket.close()).resolves.toMatchObject({ cause: 'client' });
      await expectNothingLeft();
      socket.dispose();
      expect(env.listenerCount).toBe(0);
      await expectNothingLeft();
      expect(FakeSocket.instances).toHaveLength(0);
      expect(payloads(log, 'close')).toHaveLength(0);
    });

    it('closed, idle → dispose()', async () => {
      const { socket, env } = setup({ autoConnect: false }, Ctor);
      socket.dispose();
      expect(env.listenerCount).toBe(0);
      await expect(socket.closed).resolves.toMatchObject({ cause: 'dispose' });
      await expectNothingLeft();
    });

    it('dispose() with a provider still pending: no socket is ever created', async () => {
      let resolveUrl!: (url: string) => void;
      const env = createManualEnvironment();
      const socket = new ReconnectingSocket<any, any>(() => new Promise<string>((r) => (resolveUrl = r)), { WebSocket: Ctor, environment: env, heartbeat: false });
      await flushMicrotasks();
      socket.dispose();
      resolveUrl(URL_);
      await expectNothingLeft();
      expect(FakeSocket.instances).toHaveLength(0);
    });
  });
});

describe('backoff', () => {
  it('follows the injected random (full jitter) and doubles the ceiling per retry', async () => {
    const randoms = [0.5, 0, 0.999, 0.25];
    const { socket, fake, log } = await opened({ jitter: true, random: () => randoms.shift()!, initialDelayMs: 1000, delayFactor: 2, maxDelayMs: 30_000 });
    fake.serverDrop();
    expect(socket.retry).toEqual({ attempt: 1, delayMs: 500 });
    expect(payloads(log, 'reconnecting')).toEqual([{ attempt: 1, delayMs: 500 }]);
    expect(payloads(log, 'close').at(-1)).toMatchObject({ willReconnect: true, delayMs: 500 });
    vi.advanceTimersByTime(499);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(socket.state).toBe('connecting');
    expect(socket.attempt).toBe(1);

    FakeSocket.latest().serverDrop(); // refused handshake
    expect(socket.retry).toEqual({ attempt: 2, delayMs: 0 }); // 0 × 2000
    vi.advanceTimersByTime(0);
    expect(FakeSocket.instances).toHaveLength(3);

    FakeSocket.latest().serverDrop();
    expect(socket.retry).toEqual({ attempt: 3, delayMs: 3996 }); // floor(0.999 × 4000)
    vi.advanceTimersByTime(3996);
    FakeSocket.latest().serverDrop();
    expect(socket.retry).toEqual({ attempt: 4, delayMs: 2000 }); // 0.25 × 8000
    expect(payloads(log, 'reconnecting').map((r) => r.delayMs)).toEqual([500, 0, 3996, 2000]);
  });

  it('without jitter: 1000, 2000, 4000, capped at maxDelayMs', async () => {
    const { fake, log } = await opened({ maxDelayMs: 3000 });
    fake.serverDrop();
    for (const delay of [1000, 2000, 3000]) {
      vi.advanceTimersByTime(delay);
      FakeSocket.latest().serverDrop();
    }
    expect(payloads(log, 'reconnecting').map((r) => r.delayMs)).toEqual([1000, 2000, 3000, 3000]);
  });

  it('a custom delay() replaces the curve', async () => {
    const delay = vi.fn((attempt: number) => attempt * 7);
    const { socket, fake } = await opened({ delay });
    fake.serverDrop();
    expect(delay).toHaveBeenCalledWith(1, expect.objectContaining({ code: 1006, cause: "network" }));
    expect(socket.retry).toEqual({ attempt: 1, delayMs: 7 });
  });

  it('maxRetries: gives up after that many consecutive retries; closed resolves', async () => {
    const { socket, fake, log } = await opened({ maxRetries: 2 });
    fake.serverDrop();
    vi.advanceTimersByTime(1000);
    FakeSocket.latest().serverDrop();
    vi.advanceTimersByTime(2000);
    FakeSocket.latest().serverDrop();
    expect(socket.state).toBe('closed');
    expect(socket.retry).toBeUndefined();
    expect(payloads(log, 'close').map((c) => c.willReconnect)).toEqual([true, true, false]);
    await expect(socket.closed).resolves.toMatchObject({ code: 1006, cause: 'network' });
    await expectNothingLeft();
  });

  it('shouldReconnect: a 1008 from the server is final by default', async () => {
    const { socket, fake, log } = await opened();
    fake.serverClose(1008, 'policy');
    expect(socket.state).toBe('closed');
    expect(payloads(log, 'close')).toEqual([{ code: 1008, reason: 'policy', wasClean: true, cause: 'server', willReconnect: false, delayMs: undefined }]);
    await expectNothingLeft();
  });
});

describe('stableAfterMs', () => {
  it('resets the attempt only after the connection stayed open that long', async () => {
    const { socket, fake, log } = await opened({ stableAfterMs: 5000 });
    fake.serverDrop();
    vi.advanceTimersByTime(1000);
    FakeSocket.latest().serverOpen();
    expect(payloads(log, 'open').at(-1)).toEqual({ attempt: 1, protocol: '' });
    expect(socket.attempt).toBe(1);

    vi.advanceTimersByTime(4999);
    expect(socket.attempt).toBe(1);
    FakeSocket.latest().serverDrop(); // not stable yet: the count goes on
    expect(socket.retry).toEqual({ attempt: 2, delayMs: 2000 });

    vi.advanceTimersByTime(2000);
    FakeSocket.latest().serverOpen();
    expect(socket.attempt).toBe(2);
    vi.advanceTimersByTime(5000);
    expect(socket.attempt).toBe(0);
    FakeSocket.latest().serverDrop();
    expect(socket.retry).toEqual({ attempt: 1, delayMs: 1000 });
  });
});

describe('connect timeout', () => {
  it.each([
    ['browser-like', FakeSocket],
    ['ws-like', FakeWsSocket],
  ] as const)('tears the attempt down and retries (%s)', async (_flavor, Ctor) => {
    const { socket, fake, log } = await connecting({ connectTimeoutMs: 2000 }, Ctor);
    vi.advanceTimersByTime(1999);
    expect(socket.state).toBe('connecting');
    vi.advanceTimersByTime(1);
    expect(payloads(log, 'error').map((e) => e.error.code)).toEqual(['CONNECT_TIMEOUT']);
    expect(payloads(log, 'close')).toMatchObject([{ code: 1006, wasClean: false, cause: 'connect-timeout', willReconnect: true, delayMs: 1000 }]);
    expect(socket.state).toBe('closed');
    expect(fake.readyState).toBeGreaterThanOrEqual(FakeSocket.CLOSING);
    if (fake instanceof FakeWsSocket) expect(fake.terminateCalls).toBe(1);
    else expect(fake.closeCalls).toHaveLength(1);
    await flushMicrotasks();
    expect(fake.listenerTypes().filter((t) => t !== 'error')).toEqual([]);
    // The torn-down socket's late close does not produce a second close event.
    expect(payloads(log, 'close')).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.instances).toHaveLength(2);
  });
});

describe('close timeout', () => {
  it('ws-like: terminate() when the peer never answers the close frame', async () => {
    const { socket, fake, log } = await opened({ closeTimeoutMs: 3000 }, FakeWsSocket);
    const closed = socket.close();
    vi.advanceTimersByTime(2999);
    expect(socket.state).toBe('closing');
    vi.advanceTimersByTime(1);
    expect((fake as FakeWsSocket).terminateCalls).toBe(1);
    expect(socket.state).toBe('closed');
    await expect(closed).resolves.toMatchObject({ code: 1006, wasClean: false, cause: 'close-timeout' });
    expect(payloads(log, 'error').map((e) => e.error.code)).toEqual(['CLOSE_TIMEOUT']);
    expect(payloads(log, 'close')).toMatchObject([{ cause: 'close-timeout', willReconnect: false }]);
    await expectNothingLeft();
    expect(payloads(log, 'close')).toHaveLength(1);
  });

  it('browser-like: a synthetic close at once, without waiting for the frozen socket', async () => {
    const { socket, fake, log } = await opened({ closeTimeoutMs: 3000 });
    const closed = socket.close();
    vi.advanceTimersByTime(3000);
    expect(socket.state).toBe('closed');
    await expect(closed).resolves.toMatchObject({ code: 1006, cause: 'close-timeout' });
    expect(fake.readyState).toBe(FakeSocket.CLOSING); // the real socket has not closed, and we did not wait
    await expectNothingLeft();
    fake.serverClose(); // the very late answer is not a second close event
    expect(payloads(log, 'close')).toHaveLength(1);
  });
});

describe('close() arguments', () => {
  it('a reason over 123 UTF-8 bytes throws RangeError; 123 bytes is fine', async () => {
    const { socket, fake } = await opened();
    expect(() => socket.close(1000, 'é'.repeat(62))).toThrow(RangeError); // 124 bytes, 62 characters
    expect(() => socket.close(1000, '€'.repeat(41) + 'ab')).toThrow(RangeError); // 125 bytes
    expect(socket.state).toBe('open');
    expect(fake.closeCalls).toEqual([]);
    socket.close(1000, 'é'.repeat(61) + 'a'); // 123 bytes
    expect(fake.closeCalls).toEqual([{ code: 1000, reason: 'é'.repeat(61) + 'a' }]);
  });

  it.each([999, 1002, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5, NaN, -1])('close(%s) throws and changes nothing', async (code) => {
    const { socket, fake } = await opened();
    let caught: unknown;
    try {
      socket.close(code);
    } catch (error) {
      caught = error;
    }
    expect(caught instanceof RangeError || caught instanceof TypeError).toBe(true);
    expect(String((caught as Error).message)).toContain(String(code));
    expect(socket.state).toBe('open');
    expect(fake.closeCalls).toEqual([]);
  });

  it('rejects a non-number code and a non-string reason, saying what was received', async () => {
    const { socket } = await opened();
    let caught: unknown;
    try {
      socket.close('1000' as unknown as number);
    } catch (error) {
      caught = error;
    }
    expect(caught instanceof TypeError || caught instanceof RangeError).toBe(true);
    // "got 1000" would read as if the valid code 1000 were refused: the message must show it is a string.
    expect((caught as Error).message).toMatch(/"1000"|string/);
    expect(() => socket.close(1000, 5 as unknown as string)).toThrow(TypeError);
    expect(socket.state).toBe('open');
  });

  it.each([1000, 1001, 3000, 4999])('close(%i) is accepted', async (code) => {
    const { socket } = await opened({}, FakeWsSocket);
    expect(() => socket.close(code)).not.toThrow();
    expect(socket.state).toBe('closing');
  });

  it('close(1001) on a browser socket (which refuses it) still closes, falling back to 1000', async () => {
    const { socket, fake } = await opened();
    socket.close(1001, 'going away');
    expect(fake.closeCalls.at(-1)).toEqual({ code: 1000, reason: 'going away' });
    expect(fake.readyState).toBe(FakeSocket.CLOSING);
  });
});

describe('run-to-completion dispatch', () => {
  it('close() inside an open listener: a consistent sequence of state events', async () => {
    const { socket, fake, log } = await connecting();
    socket.on('open', () => void socket.close());
    const drops: unknown[] = [];
    socket.on('drop', (event) => drops.push(event));
    socket.send('queued before open');
    fake.serverOpen();
    expect(names(log)).toEqual(['state:connecting>open', 'open', 'state:open>closing']);
    // The backlog goes out after the open listeners' inputs: close() came first, so it is dropped, not sent.
    expect(fake.sent).toEqual([]);
    expect(drops).toEqual([]);
    expect(fake.closeCalls).toEqual([{ code: 1000, reason: '' }]);
    fake.serverClose();
    expect(names(log)).toEqual(['state:connecting>open', 'open', 'state:open>closing', 'close', 'state:closing>closed', 'drop']);
    expect(drops).toEqual([{ message: 'queued before open', reason: 'closed' }]);
    for (const { payload } of log.filter((e) => e.type === 'state')) expect(payload.from).not.toBe(payload.to);
    await expectNothingLeft();
  });

  it('state events chain: each "from" is the previous "to"', async () => {
    const { socket, fake, log } = await connecting();
    socket.on('state', ({ to }) => {
      if (to === 'open') socket.reconnect();
    });
    fake.serverOpen();
    const states = payloads(log, 'state');
    for (let i = 1; i < states.length; i++) expect(states[i].from).toBe(states[i - 1].to);
    expect(states.at(-1).to).toBe('connecting');
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('reconnect() inside a close listener starts one fresh attempt, at attempt 0', async () => {
    const { socket, fake, log } = await opened();
    socket.once('close', () => socket.reconnect());
    fake.serverDrop();
    expect(socket.state).toBe('connecting');
    expect(socket.attempt).toBe(0);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(1); // only the new attempt's connect timeout
    expect(payloads(log, 'close')).toHaveLength(1);
  });
});

describe('listeners', () => {
  it('a listener that throws does not skip the others, and is reported as an error event', async () => {
    const { socket, fake, log } = await opened();
    const after = vi.fn();
    socket.on('message', () => {
      throw new Error('listener bug');
    });
    socket.on('message', after);
    fake.serverMessage('hi');
    expect(after).toHaveBeenCalledWith({ data: 'hi' });
    const errors = payloads(log, 'error');
    expect(errors.map((e) => e.error.code)).toEqual(['LISTENER_THREW']);
    expect(errors[0].error.cause).toEqual(new Error('listener bug'));
    expect(FakeSocket.uncaught).toEqual([]);
  });

  it('without an error listener, a throwing listener is reported (not thrown into the socket)', async () => {
    const reported = vi.spyOn(console, 'error').mockImplementation(() => {});
    const env = createManualEnvironment();
    const socket = new ReconnectingSocket<any, any>(URL_, { WebSocket: FakeSocket, environment: env, heartbeat: false });
    created.push(socket);
    const after = vi.fn();
    socket.on('open', () => {
      throw new Error('oops');
    });
    socket.on('open', after);
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    expect(after).toHaveBeenCalledTimes(1);
    expect(reported).toHaveBeenCalled();
    expect(FakeSocket.uncaught).toEqual([]);
    expect(socket.state).toBe('open');
  });

  it('on() returns an unsubscribe that is safe to call twice; off() of an unknown listener is a no-op', async () => {
    const { socket, fake } = await opened();
    const a = vi.fn();
    const b = vi.fn();
    const offA = socket.on('message', a);
    socket.on('message', b);
    offA();
    offA();
    socket.off('message', () => {});
    fake.serverMessage('x');
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledTimes(1);
  });
});

describe('event order', () => {
  it('a dropped connection: error, close, state, reconnecting', async () => {
    const { fake, log } = await opened();
    const before = log.length;
    fake.serverDrop();
    expect(names(log.slice(before))).toEqual(['error', 'close', 'state:open>closed', 'reconnecting']);
  });
});

describe('providers', () => {
  it('a rejecting url provider: PROVIDER_FAILED, then a retry that calls it again with the next attempt', async () => {
    const url = vi.fn(async ({ attempt }: { attempt: number }) => {
      if (attempt === 0) throw new Error('token service down');
      return URL_;
    });
    const env = createManualEnvironment();
    const socket = new ReconnectingSocket<any, any>(url, { WebSocket: FakeSocket, environment: env, heartbeat: false, jitter: false, initialDelayMs: 1000 });
    created.push(socket);
    const log = record(socket);
    await flushMicrotasks();
    expect(FakeSocket.instances).toHaveLength(0);
    expect(payloads(log, 'error').map((e) => e.error.code)).toEqual(['PROVIDER_FAILED']);
    expect(payloads(log, 'close')).toMatchObject([{ code: 1006, cause: 'provider', willReconnect: true, delayMs: 1000 }]);
    vi.advanceTimersByTime(1000);
    await flushMicrotasks();
    expect(url).toHaveBeenCalledTimes(2);
    expect(url.mock.calls[1]![0]).toMatchObject({ attempt: 1 });
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('close() while a provider is pending aborts its signal and opens nothing', async () => {
    let signal: AbortSignal | undefined;
    const env = createManualEnvironment();
    const socket = new ReconnectingSocket<any, any>(
      (context) => {
        signal = context.signal;
        return new Promise<string>(() => {});
      },
      { WebSocket: FakeSocket, environment: env, heartbeat: false },
    );
    created.push(socket);
    await flushMicrotasks();
    expect(signal?.aborted).toBe(false);
    socket.close();
    expect(signal?.aborted).toBe(true);
    await expectNothingLeft();
    expect(FakeSocket.instances).toHaveLength(0);
  });
});

describe('opened()', () => {
  it('resolves on open and leaves no timer; rejects TIMEOUT after timeoutMs', async () => {
    const { socket, fake } = await connecting({ connectTimeoutMs: 60_000 });
    const waiting = whenOpen(socket, { timeoutMs: 5000 });
    fake.serverOpen();
    await expect(waiting).resolves.toBeUndefined();
    socket.close();
    fake.serverClose();
    await expectNothingLeft();

    const late = await connecting({ connectTimeoutMs: 60_000 });
    const timedOut = whenOpen(late.socket, { timeoutMs: 100 });
    vi.advanceTimersByTime(100);
    await expect(timedOut).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('rejects DISPOSED when disposed while waiting', async () => {
    const { socket } = await connecting();
    const waiting = whenOpen(socket);
    socket.dispose();
    await expect(waiting).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});

describe('close events', () => {
  it('exactly one close event per connection, whatever ended it', async () => {
    const { socket, log } = await opened({ connectTimeoutMs: 500 });
    FakeSocket.latest().serverDrop(); // 1: network
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(500); // 2: connect timeout
    vi.advanceTimersByTime(2000);
    FakeSocket.latest().serverOpen();
    socket.reconnect(); // 3: reconnect
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverClose(1012, 'restart'); // 4: server
    vi.advanceTimersByTime(1000);
    FakeSocket.latest().serverOpen();
    socket.close(); // 5: client
    FakeSocket.latest().serverClose();
    await flushMicrotasks();
    expect(FakeSocket.instances).toHaveLength(5);
    expect(payloads(log, 'close').map((c) => c.cause)).toEqual(['network', 'connect-timeout', 'reconnect', 'server', 'client']);
    await expectNothingLeft();
  });

  it('a socket error before the close is attached to the close record', async () => {
    const { fake, log } = await opened();
    fake.serverDrop();
    const close = payloads(log, 'close')[0];
    expect(close).toMatchObject({ code: 1006, cause: 'network', wasClean: false });
    expect(close.error?.code).toBe('SOCKET_ERROR');
  });
});

describe('after dispose()', () => {
  it('emits nothing more, whatever happens, and refuses further use', async () => {
    const { socket, env, log } = await opened({ heartbeat: { intervalMs: 1000, timeoutMs: 500 } }, FakeWsSocket);
    socket.send('x');
    socket.dispose();
    const count = log.length;
    await flushMicrotasks();
    vi.advanceTimersByTime(3_600_000);
    for (const signal of ['offline', 'online', 'hidden', 'visible', 'pagehide', 'pageshow'] as const) env.emit(signal);
    expect(socket.send('y')).toBe('disposed');
    await expect(socket.close()).resolves.toMatchObject({ cause: 'dispose' });
    socket.probe();
    socket.dispose();
    expect(() => socket.connect()).toThrow(/dispose/);
    socket.reconnect(); // ignored after dispose
    expect(socket.state).toBe('closed');
    await expect(whenOpen(socket)).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(log.length).toBe(count);
    expect(FakeSocket.instances).toHaveLength(1);
    await expectNothingLeft();
  });

  it('drops queued messages with reason "disposed"', async () => {
    const { socket, log } = await connecting();
    socket.send('a');
    socket.send('b');
    socket.dispose();
    expect(payloads(log, 'drop')).toEqual([
      { message: 'a', reason: 'disposed' },
      { message: 'b', reason: 'disposed' },
    ]);
  });

  it('dispose() inside a close listener: no retry is announced or scheduled afterwards', async () => {
    const { socket, fake, log } = await opened();
    let countAtDispose = -1;
    socket.once('close', () => {
      socket.dispose();
      countAtDispose = log.length;
    });
    fake.serverDrop();
    expect(socket.isDisposed).toBe(true);
    expect.soft(names(log.slice(countAtDispose)), 'events after dispose()').toEqual(['state:open>closed']);
    await expectNothingLeft();
  });

  it('dispose() inside an open listener: the backlog is not sent on the disposed socket', async () => {
    const { socket, fake, log } = await connecting();
    socket.send('queued');
    socket.on('open', () => socket.dispose());
    fake.serverOpen();
    expect.soft(fake.sent, 'sent after dispose()').toEqual([]);
    expect(payloads(log, 'drop')).toEqual(fake.sent.length ? [] : [{ message: 'queued', reason: 'disposed' }]);
    await expectNothingLeft();
  });
});

describe('heartbeat', () => {
  const heartbeat = { intervalMs: 1000, timeoutMs: 500, probeTimeoutMs: 100 };

  it('protocol pings (ws-like): a pong reports the round trip', async () => {
    const { socket, fake, log } = await opened({ heartbeat }, FakeWsSocket);
    const ws = fake as FakeWsSocket;
    vi.advanceTimersByTime(1000);
    expect(ws.pings).toHaveLength(1);
    vi.advanceTimersByTime(40);
    ws.serverPong();
    expect(payloads(log, 'heartbeat')).toEqual([{ rttMs: 40 }]);
    expect(socket.rttMs).toBe(40);
    vi.advanceTimersByTime(1000);
    expect(socket.state).toBe('open');
  });

  it('a missed pong closes with cause "heartbeat-timeout" and reconnects', async () => {
    const { socket, fake, log } = await opened({ heartbeat }, FakeWsSocket);
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(499);
    expect(socket.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(payloads(log, 'error').map((e) => e.error.code)).toEqual(['HEARTBEAT_TIMEOUT']);
    expect(payloads(log, 'close')).toMatchObject([{ code: 1006, cause: 'heartbeat-timeout', willReconnect: true, delayMs: 1000 }]);
    expect((fake as FakeWsSocket).terminateCalls).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(socket.state).toBe('connecting');
  });

  it('any incoming message counts as alive (anyMessageIsAlive)', async () => {
    const { socket, fake } = await opened({ heartbeat }, FakeWsSocket);
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(400);
    fake.serverMessage('data');
    vi.advanceTimersByTime(200);
    expect(socket.state).toBe('open');
  });

  it('traffic that lifts the deadline before the pong still leaves the round trip measured', async () => {
    const { socket, fake, log } = await opened({ heartbeat }, FakeWsSocket);
    const ws = fake as FakeWsSocket;
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(20);
    ws.serverMessage('data ahead of the pong');
    vi.advanceTimersByTime(30);
    ws.serverPong();
    expect(payloads(log, 'heartbeat')).toEqual([{ rttMs: 50 }]);
    expect(socket.rttMs).toBe(50);
    ws.serverPong();
    expect(payloads(log, 'heartbeat')).toHaveLength(1);
  });

  it('app-level ping/pong (browser-like): sends heartbeat.message, swallows the pong', async () => {
    const { socket, fake, log } = await opened({ heartbeat: { ...heartbeat, message: 'ping', isPong: (d: unknown) => d === 'pong' } });
    vi.advanceTimersByTime(1000);
    expect(fake.sent).toEqual(['ping']);
    vi.advanceTimersByTime(30);
    fake.serverMessage('pong');
    expect(payloads(log, 'message')).toEqual([]);
    expect(payloads(log, 'heartbeat')).toEqual([{ rttMs: 30 }]);
    fake.serverMessage('hello');
    expect(payloads(log, 'message')).toEqual([{ data: 'hello' }]);
    expect(socket.state).toBe('open');
  });

  it('browser-like without heartbeat.message: no pinging, no timer beyond the stable one', async () => {
    const { socket } = await opened({ heartbeat });
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(socket.state).toBe('open');
  });

  it('clock jump (sleep): the overdue tick probes at once with the short probeTimeoutMs deadline', async () => {
    const { socket, fake, log } = await opened({ heartbeat: { intervalMs: 1000, timeoutMs: 5000, probeTimeoutMs: 300 } }, FakeWsSocket);
    vi.advanceTimersByTime(999);
    vi.setSystemTime(Date.now() + 10 * 60_000); // the machine slept ten minutes
    vi.advanceTimersByTime(1); // on wake the overdue tick fires
    expect((fake as FakeWsSocket).pings).toHaveLength(1);
    vi.advanceTimersByTime(299);
    expect(socket.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(payloads(log, 'close')).toMatchObject([{ cause: 'heartbeat-timeout' }]);
    expect(payloads(log, 'error')[0].error.message).toContain('300');
  });

  it('a deadline that fires late (sleep during the wait) probes again instead of declaring death', async () => {
    const { socket, fake } = await opened({ heartbeat: { intervalMs: 10_000, timeoutMs: 5000, probeTimeoutMs: 300 } }, FakeWsSocket);
    const ws = fake as FakeWsSocket;
    vi.advanceTimersByTime(10_000);
    expect(ws.pings).toHaveLength(1);
    vi.advanceTimersByTime(4999);
    vi.setSystemTime(Date.now() + 60_000);
    vi.advanceTimersByTime(1);
    expect(socket.state).toBe('open');
    expect(ws.pings).toHaveLength(2);
    ws.serverPong();
    vi.advanceTimersByTime(300);
    expect(socket.state).toBe('open');
  });

  it('probe() pings now with the short deadline', async () => {
    const { socket, fake, log } = await opened({ heartbeat: { intervalMs: 60_000, timeoutMs: 10_000, probeTimeoutMs: 200 } }, FakeWsSocket);
    socket.probe();
    expect((fake as FakeWsSocket).pings).toHaveLength(1);
    vi.advanceTimersByTime(200);
    expect(payloads(log, 'close')).toMatchObject([{ cause: 'heartbeat-timeout' }]);
    expect(() => socket.probe(0)).toThrow(RangeError);
  });

  it('no heartbeat timer survives close() or dispose()', async () => {
    const a = await opened({ heartbeat }, FakeWsSocket);
    a.socket.close();
    a.fake.serverClose();
    await expectNothingLeft();
    const b = await opened({ heartbeat }, FakeWsSocket);
    vi.advanceTimersByTime(1000); // a ping is outstanding, its deadline armed
    b.socket.dispose();
    await expectNothingLeft();
  });
});

describe('environment signals (createManualEnvironment)', () => {
  it('offline holds retries: no new socket while offline; online reconnects at once', async () => {
    const { socket, fake, env, log } = await opened();
    env.emit('offline');
    fake.serverDrop();
    expect(socket.retry).toEqual({ attempt: 1, delayMs: 1000, hold: 'offline' });
    expect(payloads(log, 'close')).toMatchObject([{ willReconnect: true, delayMs: undefined }]);
    expect(payloads(log, 'reconnecting')).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(3_600_000);
    expect(FakeSocket.instances).toHaveLength(1);
    env.emit('online');
    expect(FakeSocket.instances).toHaveLength(2);
    expect(socket.state).toBe('connecting');
    expect(socket.attempt).toBe(1);
  });

  it('going offline while waiting in backoff cancels the timer; online starts at once', async () => {
    const { socket, fake, env } = await opened({ initialDelayMs: 10_000 });
    fake.serverDrop();
    expect(vi.getTimerCount()).toBe(1);
    env.emit('offline');
    expect(vi.getTimerCount()).toBe(0);
    expect(socket.retry?.hold).toBe('offline');
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    env.emit('online');
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('online while waiting in backoff skips the rest of the delay', async () => {
    const { fake, env } = await opened({ initialDelayMs: 10_000 });
    fake.serverDrop();
    env.emit('online');
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('offline or online while open probes the connection', async () => {
    const { fake, env, log } = await opened({ heartbeat: { intervalMs: 60_000, timeoutMs: 10_000, probeTimeoutMs: 250 } }, FakeWsSocket);
    env.emit('offline');
    expect((fake as FakeWsSocket).pings).toHaveLength(1);
    vi.advanceTimersByTime(250);
    expect(payloads(log, 'close')).toMatchObject([{ cause: 'heartbeat-timeout', willReconnect: true, delayMs: undefined }]);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('visible while open probes (with probeTimeoutMs); a pong keeps it open', async () => {
    const { socket, fake, env, log } = await opened({ heartbeat: { intervalMs: 60_000, timeoutMs: 10_000, probeTimeoutMs: 250 } }, FakeWsSocket);
    env.emit('hidden');
    env.emit('visible');
    expect((fake as FakeWsSocket).pings).toHaveLength(1);
    vi.advanceTimersByTime(100);
    (fake as FakeWsSocket).serverPong();
    vi.advanceTimersByTime(1000);
    expect(socket.state).toBe('open');
    expect(payloads(log, 'heartbeat')).toEqual([{ rttMs: 100 }]);
  });

  it('visible while closed (waiting for a retry) reconnects at once', async () => {
    const { fake, env } = await opened({ initialDelayMs: 20_000 });
    fake.serverDrop();
    env.emit('visible');
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it.each([
    ['ws-like', FakeWsSocket, [{ code: 1001, reason: 'page hidden' }]],
    ['browser-like', FakeSocket, [{ code: 1001, reason: 'page hidden' }, { code: 1000, reason: 'page hidden' }]],
  ] as const)('pagehide closes with 1001 and pageshow reopens (%s)', async (_flavor, Ctor, closeCalls) => {
    const { socket, fake, env, log } = await opened({}, Ctor);
    env.emit('pagehide');
    expect(socket.state).toBe('closing');
    expect(fake.closeCalls).toEqual(closeCalls);
    fake.serverClose(1001);
    expect(socket.state).toBe('closed');
    expect(socket.retry).toEqual({ attempt: 0, delayMs: 0, hold: 'pagehide' });
    expect(payloads(log, 'close')).toMatchObject([{ code: 1001, cause: 'pagehide', willReconnect: true }]);
    expect.soft(socket.lastClose, 'lastClose after a pagehide close').toMatchObject({ code: 1001, cause: 'pagehide' });
    vi.advanceTimersByTime(3_600_000);
    env.emit('online');
    env.emit('visible');
    expect(FakeSocket.instances).toHaveLength(1);
    env.emit('pageshow');
    expect(FakeSocket.instances).toHaveLength(2);
    expect(socket.state).toBe('connecting');
    expect(socket.attempt).toBe(0);
  });

  it('close() during a pagehide close stops for good', async () => {
    const { socket, fake, env } = await opened({}, FakeWsSocket);
    env.emit('pagehide');
    const closed = socket.close();
    fake.serverClose(1001);
    await expect(closed).resolves.toMatchObject({ cause: 'client' });
    env.emit('pageshow');
    expect(FakeSocket.instances).toHaveLength(1);
    await expectNothingLeft();
  });

  it('pauseWhenHidden: a retry waits while hidden and starts at once when visible', async () => {
    const { socket, fake, env } = await opened({ pauseWhenHidden: true });
    env.emit('hidden');
    expect(socket.state).toBe('open'); // hidden alone does not close an open connection
    fake.serverDrop();
    expect(socket.retry).toEqual({ attempt: 1, delayMs: 1000, hold: 'hidden' });
    vi.advanceTimersByTime(3_600_000);
    expect(FakeSocket.instances).toHaveLength(1);
    env.emit('visible');
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('pauseWhenHidden: hidden while waiting in backoff holds the retry', async () => {
    const { socket, fake, env } = await opened({ pauseWhenHidden: true });
    fake.serverDrop();
    env.emit('hidden');
    expect(socket.retry?.hold).toBe('hidden');
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('without pauseWhenHidden, hidden does not hold retries', async () => {
    const { fake, env } = await opened();
    env.emit('hidden');
    fake.serverDrop();
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('after close(), connect() while offline connects anyway; close() then stops it, and online does not revive it', async () => {
    const { socket, fake, env } = await opened();
    socket.close();
    fake.serverClose();
    env.emit('offline');
    socket.connect();
    expect(socket.state).toBe('connecting');
    expect(FakeSocket.instances).toHaveLength(2);
    const closed = socket.close();
    expect(socket.state).toBe('closed');
    expect(socket.retry).toBeUndefined();
    env.emit('online');
    expect(FakeSocket.instances).toHaveLength(2);
    expect(socket.state).toBe('closed');
    await expect(closed).resolves.toBeDefined();
  });

  it('the environment subscription is released by dispose() (listenerCount 0)', async () => {
    const { socket, env } = await opened();
    expect(env.listenerCount).toBe(1);
    socket.dispose();
    expect(env.listenerCount).toBe(0);
  });

  it('an aborted signal disposes the socket and releases the environment', async () => {
    const controller = new AbortController();
    const { socket, env } = await opened({ signal: controller.signal });
    controller.abort();
    expect(socket.isDisposed).toBe(true);
    expect(env.listenerCount).toBe(0);
    await expectNothingLeft();
  });
});

describe('send() and the queue', () => {
  it('queues while connecting and flushes in order on open', async () => {
    const { socket, fake } = await connecting();
    expect(socket.send('a')).toBe('queued');
    expect(socket.send('€')).toBe('queued');
    expect(socket.bufferedAmount).toBe(4);
    expect(socket.queued.map((q) => q.message)).toEqual(['a', '€']);
    fake.serverOpen();
    expect(fake.sent).toEqual(['a', '€']);
    expect(socket.send('b')).toBe('sent');
    expect(fake.sent).toEqual(['a', '€', 'b']);
    expect(socket.bufferedAmount).toBe(0);
  });

  it('after close(), send() returns "closed"', async () => {
    const { socket, fake } = await opened();
    socket.close();
    expect(socket.send('late')).toBe('closed');
    fake.serverClose();
    expect(socket.send('later')).toBe('closed');
  });

  it('queue overflow drops the oldest with a drop event', async () => {
    const { socket, log } = await connecting({ queue: { maxMessages: 2 } });
    socket.send('a');
    socket.send('b');
    expect(socket.send('c')).toBe('queued');
    expect(payloads(log, 'drop')).toEqual([{ message: 'a', reason: 'overflow' }]);
  });

  it('expired messages are dropped, not sent late', async () => {
    const { socket, fake, log } = await connecting();
    socket.send('stale', { ttlMs: 100 });
    socket.send('fresh');
    vi.advanceTimersByTime(150);
    fake.serverOpen();
    expect(fake.sent).toEqual(['fresh']);
    expect(payloads(log, 'drop')).toEqual([{ message: 'stale', reason: 'expired' }]);
  });
});
