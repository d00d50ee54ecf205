import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, createManualEnvironment, type ReconnectingSocketOptions, type WebSocketConstructor, messages } from '../../src/index.js';
import { FakeSocket, FakeWsSocket, flushMicrotasks, createQuietSocket, useFakeSockets } from '../helpers/fake-socket.js';

// Regression: unit-level reproductions with a scripted socket and fake timers.

type Options = ReconnectingSocketOptions<any, any>;
const created = useFakeSockets<ReconnectingSocket<any, any>>();

async function start(options: Options = {}, WebSocket: WebSocketConstructor = FakeWsSocket) {
  const { socket, env } = createQuietSocket(created, options, WebSocket);
  const closes: any[] = [];
  socket.on('close', (event) => closes.push(event));
  await flushMicrotasks();
  return { socket, env, closes, fake: FakeSocket.latest() };
}

describe('back-forward cache', () => {
  it('pageshow that arrives before the pagehide close handshake finished still reopens the socket', async () => {
    // A page restored from the bfcache gets pageshow first; the peer's answer to the close frame (or the close
    // timeout) is processed afterwards. The pageshow is ignored in `closing`, and the suspension that follows
    // waits for a pageshow that already happened: the socket never reconnects (online/visible are ignored too).
    const { socket, env, fake } = await start();
    fake.serverOpen();
    env.emit('pagehide');
    expect(socket.state).toBe('closing');
    env.emit('pageshow');
    fake.serverClose(1001);
    env.emit('online');
    env.emit('visible');
    vi.advanceTimersByTime(60_000);
    await flushMicrotasks();
    expect(socket.retry, 'still suspended for a pageshow that already happened').not.toMatchObject({ hold: 'pagehide' });
    expect(FakeSocket.instances.length, 'no new attempt after pageshow').toBeGreaterThan(1);
  });
});

describe('a stale timeout input applied to the next attempt', () => {
  it('reconnect() from an error listener on CONNECT_TIMEOUT starts an attempt that is not killed at once', async () => {
    // #fail() emits the error first and dispatches CONNECT_TIMEOUT afterwards. If the listener started a new
    // attempt meanwhile, the stale CONNECT_TIMEOUT lands on that new attempt and kills it immediately.
    const { socket, closes } = await start({ connectTimeoutMs: 1000 });
    let isFirst = true;
    socket.on('error', ({ error }) => {
      if (error.code === 'CONNECT_TIMEOUT' && isFirst) {
        isFirst = false;
        socket.reconnect();
      }
    });
    vi.advanceTimersByTime(1000);
    await flushMicrotasks();
    // The timeout ends its attempt first; the listener's reconnect() then starts a fresh one, which lives.
    expect(closes.map((c) => c.cause)).toEqual(['connect-timeout']);
    expect(socket.state).toBe('connecting');
    expect(socket.attempt).toBe(0);
    expect(FakeSocket.latest().readyState).toBe(FakeSocket.CONNECTING);
    vi.advanceTimersByTime(999);
    expect(socket.state).toBe('connecting');
  });

  it('reconnect() from an error listener on PROVIDER_FAILED starts an attempt that is not killed at once', async () => {
    let calls = 0;
    const url = () => (++calls === 1 ? Promise.reject(new Error('token service down')) : 'ws://example.test/feed');
    const env = createManualEnvironment();
    const socket = new ReconnectingSocket<any, any>(url, { WebSocket: FakeWsSocket, environment: env, heartbeat: false, jitter: false });
    created.push(socket);
    const closes: any[] = [];
    socket.on('close', (event) => closes.push(event));
    socket.on('error', ({ error }) => {
      if (error.code === 'PROVIDER_FAILED' && calls === 1) socket.reconnect();
    });
    await flushMicrotasks();
    expect(closes.map((c) => c.cause)).toEqual(['provider']);
    expect(socket.state).toBe('connecting');
    expect(calls).toBe(2);
    expect(FakeSocket.latest().readyState).toBe(FakeSocket.CONNECTING);
  });
});

describe('a throwing user callback leaves the machine consistent', () => {
  it('a throwing shouldReconnect does not leave the socket "open" over a dead connection', async () => {
    // Browser-like socket: the exception goes to window.onerror instead of killing a process, but the
    // transition was abandoned half-way: state stays `open` over a closed WebSocket, and nothing ever retries.
    const { socket, fake } = await start({ shouldReconnect: () => { throw new Error('boom'); } }, FakeSocket);
    fake.serverOpen();
    fake.serverDrop();
    expect.soft(FakeSocket.uncaught, 'exceptions escaped into the WebSocket event dispatch').toEqual([]);
    expect(fake.readyState).toBe(FakeSocket.CLOSED);
    expect(socket.state, 'state of a socket whose connection is gone').not.toBe('open');
  });
});

describe('after close(), nothing remains', () => {
  it('close() releases the environment subscription (README: no listener remains after close())', async () => {
    const { socket, env, fake } = await start();
    fake.serverOpen();
    const closing = socket.close();
    fake.serverClose();
    await closing;
    expect(socket.state).toBe('closed');
    expect(env.listenerCount, 'environment listeners (window online/offline/pagehide/pageshow/visibilitychange in a browser)').toBe(0);
  });

  it('close() releases its listener on the signal option', async () => {
    const controller = new AbortController();
    const { socket, fake } = await start({ signal: controller.signal });
    fake.serverOpen();
    const closing = socket.close();
    fake.serverClose();
    await closing;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('waits that never end', () => {
  it('messages() on a socket that is already closed for good ends at once, like `closed` resolves at once', async () => {
    const { socket, fake } = await start();
    fake.serverOpen();
    const closing = socket.close();
    fake.serverClose();
    await closing;
    await expect(socket.closed).resolves.toBeDefined();
    let settled: unknown = 'pending';
    messages(socket).next().then((result) => (settled = result));
    await flushMicrotasks();
    vi.advanceTimersByTime(3_600_000);
    await flushMicrotasks();
    expect(settled).toEqual({ value: undefined, done: true });
  });
});

describe('connect() after close()', () => {
  it('connect() called while the close handshake is in progress starts the socket again (README: starts a stopped socket)', async () => {
    const { socket, fake } = await start();
    fake.serverOpen();
    void socket.close();
    expect(socket.state).toBe('closing');
    socket.connect();
    fake.serverClose();
    await flushMicrotasks();
    expect(socket.state, 'connect() was silently ignored').toBe('connecting');
  });
});

describe('application-level pong', () => {
  it('a pong that arrives during the close handshake is not emitted as a message (README: isPong recognises the pong, which is then not emitted)', async () => {
    // The heartbeat lives in the open state's scope; once close() moves to `closing`, isPong is no longer
    // consulted and the answer to the last ping reaches `message` listeners (and messages()) as data.
    const { socket, fake } = await start({ heartbeat: { message: 'ping', isPong: (data: unknown) => data === 'pong', intervalMs: 1000, timeoutMs: 1000 } }, FakeSocket);
    const messages: unknown[] = [];
    socket.on('message', ({ data }) => messages.push(data));
    fake.serverOpen();
    vi.advanceTimersByTime(1000);
    expect(fake.sent).toEqual(['ping']);
    void socket.close();
    fake.serverMessage('pong');
    fake.serverClose();
    expect(messages).toEqual([]);
  });
});

describe('probe() from a heartbeat listener', () => {
  it('keeps its deadline: a probe started while the pong is being handled is not cancelled by it', async () => {
    // Heartbeat.#alive() calls onRtt (which emits `heartbeat`) and only then clears #sentAt and settles the
    // deadline. A probe() made from the listener has by then armed a new deadline, which #alive() cancels.
    const { socket, fake } = await start({ heartbeat: { intervalMs: 10_000, timeoutMs: 5_000, probeTimeoutMs: 1_000 } }, FakeWsSocket);
    const ws = fake as FakeWsSocket;
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    fake.serverOpen();
    socket.once('heartbeat', () => socket.probe(500));
    vi.advanceTimersByTime(10_000);
    expect(ws.pings).toHaveLength(1);
    ws.serverPong();
    expect(ws.pings, 'the probe went out').toHaveLength(2);
    // The peer never answers the probe: its 500 ms deadline must fire.
    vi.advanceTimersByTime(1_000);
    expect(errors).toContain('HEARTBEAT_TIMEOUT');
    expect(socket.state).not.toBe('open');
  });
});
