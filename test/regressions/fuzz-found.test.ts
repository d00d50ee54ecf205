import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, SocketError, createManualEnvironment, type Environment, type ReconnectingSocketOptions, type WebSocketConstructor, opened as whenOpen } from '../../src/index.js';
import { watchStream } from '../helpers/stream.js';
import { FakeSocket, FakeWsSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';

// Regression: the shrunk counter-examples of the model-based fuzz (test/fuzz), one test per distinct failure,
// rewritten through the public API with the scripted socket and fake timers. Each names the invariant of
// test/fuzz/README.md it broke.

type Options = ReconnectingSocketOptions<any, any>;
const URL = 'ws://example.test/feed';
const created = useFakeSockets<ReconnectingSocket<any, any>>();

afterEach(() => vi.restoreAllMocks());

/** A socket with short deadlines, a manual environment and recorders for the events the tests look at. */
function start(options: Options = {}, url: string | (() => string) = URL, WebSocket: WebSocketConstructor = FakeWsSocket) {
  const env = createManualEnvironment();
  const socket = new ReconnectingSocket<any, any>(url, {
    WebSocket,
    environment: env,
    heartbeat: false,
    jitter: false,
    initialDelayMs: 100,
    connectTimeoutMs: 1000,
    closeTimeoutMs: 1000,
    debug: () => {},
    ...options,
  });
  created.push(socket);
  const closes: { code: number; cause: string }[] = [];
  const drops: { message: unknown; reason: string }[] = [];
  socket.on('close', ({ code, cause }) => closes.push({ code, cause }));
  socket.on('drop', ({ message, reason }) => drops.push({ message, reason }));
  return { socket, env, closes, drops };
}

/** A promise's outcome, readable synchronously after a flush (a wait that hangs stays `pending`). */
function outcome(promise: Promise<unknown>): { status: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const seen: { status: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { status: 'pending' };
  promise.then(
    () => (seen.status = 'resolved'),
    (error) => Object.assign(seen, { status: 'rejected', error }),
  );
  return seen;
}

/** Inner sockets the library still listens to (a retired one keeps only its no-op late-error absorber). */
const attached = () => FakeSocket.instances.filter((s) => s.listenerCount() > 1 || (s.listenerCount() === 1 && s.listenerCount('error') !== 1));

/** An environment whose isOnline()/isHidden() throw while `broken` says so. */
function breakableEnvironment() {
  const env = createManualEnvironment();
  const broken = { isOnline: false, isHidden: false };
  const environment: Environment = {
    subscribe: (listener) => env.subscribe(listener),
    isOnline: () => {
      if (broken.isOnline) throw new Error('isOnline() broke');
      return env.isOnline!();
    },
    isHidden: () => {
      if (broken.isHidden) throw new Error('isHidden() broke');
      return env.isHidden!();
    },
  };
  return { env, environment, broken };
}

describe('invariant 3: one close event per attempt that started, none for an attempt that never began', () => {
  it('close() right after new emits no close event (fuzz: close(3000) as step 1)', async () => {
    const { socket, closes } = start();
    const closing = outcome(socket.close(3000));
    await flushMicrotasks();
    expect(closes).toEqual([]);
    expect(socket.state).toBe('closed');
    expect(FakeSocket.instances).toHaveLength(0);
    expect(closing.status).toBe('resolved');
  });

  it('reconnect() right after new: the first attempt that starts is the only one, and has one close', async () => {
    const { socket, closes } = start();
    socket.reconnect();
    await flushMicrotasks();
    expect(closes).toEqual([]);
    expect(socket.state).toBe('connecting');
    expect(FakeSocket.instances).toHaveLength(1);
    void socket.close();
    expect(closes.map((c) => c.cause)).toEqual(['client']);
  });

  it('encode() restarts an idle socket whose signal was aborted: no close event, nothing queued after dispose', () => {
    // Fuzz: autoConnect false, queueWhileClosed, abort the signal option, encode() => reconnect(), send().
    const controller = new AbortController();
    const codec = { encode: (message: any) => (socket.reconnect(), message), decode: (data: any) => data };
    const { socket, closes } = start({ autoConnect: false, signal: controller.signal, codec, queue: { queueWhileClosed: true } });
    controller.abort();
    const result = socket.send('m1');
    expect(socket.isDisposed).toBe(true);
    expect(closes, 'no attempt started: the aborted signal disposed the socket first').toEqual([]);
    expect(socket.queued).toEqual([]);
    expect(result).toBe('disposed');
  });
});

describe('invariant 8: an opened() wait settles at the final close', () => {
  it('opened() on an idle socket, then close(): rejects with a SocketError', async () => {
    const { socket } = start({ autoConnect: false });
    const opened = outcome(whenOpen(socket));
    void socket.close();
    await flushMicrotasks();
    expect(opened.status).toBe('rejected');
    expect(opened.error).toBeInstanceOf(SocketError);
  });

  it('opened() while connecting, then the policy gives up (maxRetries 0): rejects with a SocketError', async () => {
    const { socket } = start({ maxRetries: 0 });
    await flushMicrotasks();
    const opened = outcome(whenOpen(socket));
    FakeSocket.latest().serverDrop();
    await flushMicrotasks();
    expect(socket.state).toBe('closed');
    expect(socket.retry).toBeUndefined();
    expect(opened.status).toBe('rejected');
    expect(opened.error).toBeInstanceOf(SocketError);
  });
});

describe('invariants 1, 6, 7, 9: an environment whose isOnline()/isHidden() throws', () => {
  it('isOnline() throws at a connect timeout: nothing reaches console.error, and the backoff has its timer', async () => {
    const console_ = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { environment, broken } = breakableEnvironment();
    const { socket } = start({ environment });
    socket.on('error', () => {});
    await flushMicrotasks();
    broken.isOnline = true;
    vi.advanceTimersByTime(1000);
    broken.isOnline = false;
    await flushMicrotasks();
    expect(console_).not.toHaveBeenCalled();
    expect(socket.state).toBe('closed');
    expect(socket.retry).toMatchObject({ attempt: 1 });
    expect(vi.getTimerCount(), 'the planned retry has a timer').toBe(1);
  });

  it('isHidden() throws during dispose(): disposed for good, nothing left running', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { env, environment, broken } = breakableEnvironment();
    const { socket } = start({ environment });
    broken.isHidden = true;
    socket.dispose();
    await flushMicrotasks();
    expect(socket.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    expect(env.listenerCount).toBe(0);
  });

  it('isHidden() throws when close() is called during a held retry: close() still settles', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { environment, env, broken } = breakableEnvironment();
    const { socket } = start({ environment });
    await flushMicrotasks();
    vi.advanceTimersByTime(1000); // connect timeout: backoff
    env.emit('pagehide'); // the retry is held until pageshow
    broken.isHidden = true;
    const closing = outcome(socket.close(1000));
    broken.isHidden = false;
    vi.advanceTimersByTime(10_000);
    await flushMicrotasks();
    expect(closing.status).toBe('resolved');
    expect(socket.state).toBe('closed');
    expect(socket.retry).toBeUndefined();
  });
});

describe('invariants 1, 2, 7: a url provider that calls back into the socket during the first attempt', () => {
  it('dispose(): no inner socket stays attached, and its later events are not emitted', async () => {
    let socket!: ReconnectingSocket<any, any>;
    ({ socket } = start({}, () => (socket.dispose(), URL)));
    await flushMicrotasks();
    expect(socket.state).toBe('closed');
    expect(attached()).toEqual([]);
    const late: string[] = [];
    for (const type of ['open', 'message', 'error', 'close', 'state'] as const) socket.on(type, () => late.push(type));
    for (const inner of FakeSocket.instances) {
      if (inner.readyState === FakeSocket.CONNECTING) inner.serverOpen();
      if (inner.readyState === FakeSocket.OPEN) inner.serverMessage('late');
      if (inner.readyState !== FakeSocket.CLOSED) inner.serverDrop();
    }
    expect(late).toEqual([]);
  });

  it('reconnect(): one inner socket at most is attached, and none is left connecting unattended', async () => {
    let calls = 0;
    let socket!: ReconnectingSocket<any, any>;
    ({ socket } = start({}, () => (++calls === 1 && socket.reconnect(), URL)));
    await flushMicrotasks();
    expect(socket.state).toBe('connecting');
    expect(attached()).toEqual([FakeSocket.latest()]);
    const unattended = FakeSocket.instances.filter((s) => s !== FakeSocket.latest() && s.readyState !== FakeSocket.CLOSED && s.readyState !== FakeSocket.CLOSING);
    expect(unattended, 'a second WebSocket that nothing will ever close').toEqual([]);
  });

  it('close(): nothing escapes to the process, and no inner socket is left connecting', async () => {
    const escaped: unknown[] = [];
    const onEscaped = (error: unknown) => escaped.push(error);
    process.on('uncaughtException', onEscaped);
    try {
      let calls = 0;
      let socket!: ReconnectingSocket<any, any>;
      ({ socket } = start({}, () => (++calls === 1 && void socket.close(), URL)));
      await flushMicrotasks();
      expect(escaped.map(String)).toEqual([]);
      expect(socket.state).toBe('closed');
      expect(FakeSocket.instances.filter((s) => s.readyState === FakeSocket.CONNECTING || s.readyState === FakeSocket.OPEN)).toEqual([]);
    } finally {
      process.off('uncaughtException', onEscaped);
    }
  });
});

describe('invariant 5: send() re-entered by user code that closes or disposes', () => {
  it('an encode() that calls dispose() (queueWhileClosed): send() says disposed and nothing stays queued', () => {
    let socket!: ReconnectingSocket<any, any>;
    const codec = { encode: (message: any) => (socket.dispose(), message), decode: (data: any) => data };
    ({ socket } = start({ codec, queue: { queueWhileClosed: true } }));
    expect(socket.send('m1')).toBe('disposed');
    expect(socket.queued).toEqual([]);
  });

  it('a drop listener that disposes on an expired message: the new message is not left queued unreported', () => {
    // Fuzz: on('drop', dispose); send(m1) with a ttl; time passes; send(m2).
    const { socket, drops } = start({ queue: { ttlMs: 50 } });
    socket.once('drop', () => socket.dispose());
    expect(socket.send('m1')).toBe('queued');
    vi.advanceTimersByTime(50);
    const result = socket.send('m2');
    expect(socket.queued).toEqual([]);
    const reported = drops.filter((drop) => drop.message === 'm2');
    if (result === 'queued') expect(reported, 'queued, then dropped by dispose()').toHaveLength(1);
    else expect([result, reported]).toEqual(['disposed', []]);
  });

  it('the same, with a new message too big for the queue: its overflow drop is still reported', () => {
    const { socket, drops } = start({ queue: { ttlMs: 50, maxBytes: 8 } });
    socket.once('drop', () => socket.dispose());
    socket.send('m1');
    vi.advanceTimersByTime(1000);
    const result = socket.send('m2-is-too-big');
    const reported = drops.filter((drop) => drop.message === 'm2-is-too-big').map((drop) => drop.reason);
    if (result === 'dropped') expect(reported).toEqual(['overflow']);
    else expect([result, reported]).toEqual(['disposed', []]);
  });
});

describe('invariants 6 and 9: the close handshake keeps its deadline whatever the CLOSE_TIMEOUT listener does', () => {
  const onCloseTimeout = (socket: ReconnectingSocket<any, any>, fn: () => void) =>
    socket.once('error', ({ error }) => error.code === 'CLOSE_TIMEOUT' && fn());

  it.each([
    ['connect()', false, (socket: ReconnectingSocket<any, any>) => socket.connect()],
    ['close(), after a connect() during the handshake', true, (socket: ReconnectingSocket<any, any>) => void socket.close()],
  ])('a listener that calls %s: never closing without a timer, and close() settles', async (_name, connectFirst, act) => {
    const { socket } = start();
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    onCloseTimeout(socket, () => act(socket));
    const closing = outcome(socket.close(3000));
    if (connectFirst) socket.connect();
    vi.advanceTimersByTime(1000);
    await flushMicrotasks();
    if (socket.state === 'closing') expect(vi.getTimerCount(), 'closing with no deadline').toBeGreaterThan(0);
    vi.advanceTimersByTime(2000);
    await flushMicrotasks();
    expect(closing.status).toBe('resolved');
    expect(socket.state).not.toBe('closing');
  });
});

describe('invariant 7: a heartbeat.message function that closes or disposes leaves no timer', () => {
  it('dispose() from heartbeat.message at the first ping: no timer', async () => {
    let socket!: ReconnectingSocket<any, any>;
    ({ socket } = start({ heartbeat: { intervalMs: 300, timeoutMs: 200, message: () => (socket.dispose(), 'PING') } }));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    vi.advanceTimersByTime(300);
    await flushMicrotasks();
    expect(socket.isDisposed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() from heartbeat.message during probe(): once closed for good, no heartbeat deadline is left', async () => {
    let socket!: ReconnectingSocket<any, any>;
    ({ socket } = start({ heartbeat: { intervalMs: 300, timeoutMs: 200, message: () => (void socket.close(), 'PING') } }));
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    await flushMicrotasks();
    const inner = FakeSocket.latest();
    inner.serverOpen();
    socket.probe();
    inner.serverClose();
    await flushMicrotasks();
    expect(socket.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(errors).not.toContain('HEARTBEAT_TIMEOUT');
  });
});

describe('invariant 4: a message is emitted only while open (or closing), not into the next attempt', () => {
  it('a decode() that calls reconnect(): the dropped connection’s message is not emitted while connecting', async () => {
    let socket!: ReconnectingSocket<any, any>;
    let isFirst = true;
    const codec = { encode: (m: any) => m, decode: (data: any) => (isFirst && ((isFirst = false), socket.reconnect()), data) };
    ({ socket } = start({ codec }));
    const statesAtMessage: string[] = [];
    socket.on('message', () => statesAtMessage.push(socket.state));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverMessage('hello');
    expect(statesAtMessage.filter((state) => state !== 'open' && state !== 'closing')).toEqual([]);
  });

  it.each([
    ['reconnect()', (socket: ReconnectingSocket<any, any>) => socket.reconnect()],
    ['close()', (socket: ReconnectingSocket<any, any>) => void socket.close()],
  ])('a heartbeat.isPong that calls %s: no heartbeat event once the socket has left open', async (_name, act) => {
    // Fuzz: isPong => reconnect (or close); open; the ping goes out; the pong arrives.
    let socket!: ReconnectingSocket<any, any>;
    let isFirst = true;
    const isPong = (data: unknown) => (isFirst && ((isFirst = false), act(socket)), data === 'PONG');
    ({ socket } = start({ heartbeat: { intervalMs: 300, timeoutMs: 200, message: 'PING', isPong } }, URL, FakeSocket));
    const stream = watchStream(socket);
    const statesAtHeartbeat: string[] = [];
    socket.on('heartbeat', () => statesAtHeartbeat.push(stream.announced));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    vi.advanceTimersByTime(300);
    FakeSocket.latest().serverMessage('PONG');
    expect(statesAtHeartbeat.filter((state) => state !== 'open')).toEqual([]);
  });

  it('a heartbeat listener that calls reconnect() (every message counts as the pong): the same', async () => {
    // Fuzz: an application ping with no isPong, so each incoming message is a pong and is also delivered.
    const { socket } = start({ heartbeat: { intervalMs: 1000, timeoutMs: 500, message: 'PING' } }, URL, FakeSocket);
    // The stream says where each event happened (socket.state may already be ahead inside a listener).
    const stream = watchStream(socket);
    socket.once('heartbeat', () => socket.reconnect());
    const messages: string[] = [];
    socket.on('message', ({ data }) => messages.push(data));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    vi.advanceTimersByTime(1000); // the ping goes out
    const first = FakeSocket.latest();
    first.serverMessage('hello');
    first.serverMessage('late');
    expect(stream.violations).toEqual([]);
    expect(messages).toEqual(['hello']);
  });
});
